package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// forwardHeaders are the request headers passed on to WeChat: those that
// describe the body and the answer wanted. Nothing else (cookies,
// Authorization, X-WX-*, X-Forwarded-*) leaves for WeChat.
var forwardHeaders = []string{"Content-Type", "Content-Encoding", "Accept", "Accept-Language"}

// hopHeaders belong to one connection: they are not copied from WeChat's
// answer to the client's.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// tokenParams are the query parameters that carry a WeChat credential:
// a client's are dropped, and the app's access_token set.
var tokenParams = []string{"access_token", "cloudbase_access_token"}

// peekMax bounds how much of an answer is read ahead to find its errcode:
// only JSON-ish answers that size or smaller are looked into; a binary or
// larger answer is streamed as it comes.
const peekMax = 64 << 10

// readGatewayBody reads the request body, up to maxGatewayBody, so that
// the call can be repeated; a larger one gets 413.
func readGatewayBody(w http.ResponseWriter, r *http.Request) ([]byte, *reply.Error) {
	if r.ContentLength > maxGatewayBody {
		return nil, reply.BodyTooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	return reply.ReadBody(w, r, maxGatewayBody, reply.ClientGone)
}

// withToken returns rawQuery without any credential parameter a client
// put there (whatever its escaping), and with access_token set to token.
// The other parameters keep their order and escaping.
func withToken(rawQuery, token string) string {
	var b strings.Builder
	b.Grow(len(rawQuery) + len(token) + 16)
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		key, _, _ := strings.Cut(part, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if isTokenParam(key) {
			continue
		}
		b.WriteString(part)
		b.WriteByte('&')
	}
	b.WriteString("access_token=")
	b.WriteString(url.QueryEscape(token))
	return b.String()
}

func isTokenParam(key string) bool {
	for _, p := range tokenParams {
		if strings.EqualFold(key, p) {
			return true
		}
	}
	return false
}

// tokenInURL finds a credential in a URL or any text that may hold one.
var tokenInURL = regexp.MustCompile(`(?i)((?:cloudbase_)?access_token(?:=|%3D))[^&\s"'<>]*`)

// scrub removes every access_token value from s (an error's text, a URL):
// nothing the gateway logs or answers ever holds one.
func scrub(s string) string {
	return tokenInURL.ReplaceAllString(s, "${1}REDACTED")
}

// forward calls WeChat with the app's token and streams the answer back;
// on a dead token it refreshes the token and calls once more.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, body []byte, start time.Time) {
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	label := pathLabel(r.URL.Path)
	for retried := false; ; retried = true {
		a, e := g.call(r, path, body)
		if e != nil {
			gatewayMetrics.calls.WithLabelValues(g.appID, label, e.Code).Inc()
			e.Write(w)
			return
		}
		code, isJSON := errcodeOf(a.head, a.complete)
		if !retried && isJSON && wechat.TokenInvalidCode(code) {
			a.close()
			g.tokens.Invalidate(a.token)
			gatewayMetrics.refreshes.WithLabelValues(g.appID).Inc()
			gatewayMetrics.retries.WithLabelValues(g.appID).Inc()
			g.logger.Info("WeChat says the access_token is dead: calling again with another",
				zap.String("app_id", g.appID), zap.String("path", r.URL.Path), zap.Int("errcode", code))
			continue
		}
		g.relay(w, r, a, retried, start, label, errcodeLabel(code, isJSON))
		a.close()
		return
	}
}

// attempt is one call to WeChat that got an answer.
type attempt struct {
	resp     *http.Response
	token    string // the access_token it used
	head     []byte // the body read ahead, for a JSON-ish answer
	complete bool   // head is the whole body
	cancel   context.CancelFunc
}

func (a *attempt) close() {
	a.resp.Body.Close()
	a.cancel()
}

// call makes one attempt: a token (fetched if needed), the request to
// WeChat, and, for a JSON-ish answer small enough, its whole body, to look
// for an errcode. On failure it returns the answer to give instead.
func (g *Gateway) call(r *http.Request, path string, body []byte) (*attempt, *reply.Error) {
	ctx, stopTimer, cancel := withTimeout(r.Context(), g.timeout)
	fail := func(what string, err error, refusal *reply.Error) (*attempt, *reply.Error) {
		cancel()
		if errors.Is(context.Cause(ctx), errGatewayTimeout) {
			refusal = reply.WeChatTimeout
		}
		g.logFailure(what, r, err, refusal)
		return nil, refusal
	}

	token, err := g.tokens.Token(ctx)
	if err != nil {
		return fail("no access_token for the call", err, reply.PlatformFailure(err))
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	target := strings.TrimRight(g.apiBase, "/") + path + "?" + withToken(r.URL.RawQuery, token)
	req, err := http.NewRequestWithContext(ctx, r.Method, target, rd)
	if err != nil {
		return fail("cannot make the call", err, reply.WeChatUnreachable)
	}
	for _, name := range forwardHeaders {
		if v := r.Header.Values(name); len(v) > 0 {
			req.Header[name] = v
		}
	}
	resp, err := g.client.Do(req)
	if err != nil {
		refusal := reply.WeChatUnreachable
		if r.Context().Err() != nil {
			refusal = reply.ClientGone
		}
		return fail("call failed", err, refusal)
	}
	a := &attempt{resp: resp, token: token, cancel: cancel}
	if jsonish(resp.Header.Get("Content-Type")) && resp.ContentLength <= peekMax {
		a.head, err = io.ReadAll(io.LimitReader(resp.Body, peekMax+1))
		if err != nil {
			resp.Body.Close()
			return fail("the answer broke off", err, reply.WeChatUnreachable)
		}
		a.complete = len(a.head) <= peekMax
	}
	stopTimer() // the answer is here: the rest streams at its own pace
	return a, nil
}

// relay writes WeChat's answer: status, headers (but the hop-by-hop
// ones) and body, the part read ahead first, the rest streamed.
func (g *Gateway) relay(w http.ResponseWriter, r *http.Request, a *attempt, retried bool, start time.Time, label, errcode string) {
	resp := a.resp
	h := w.Header()
	for name, vals := range resp.Header {
		h[name] = vals
	}
	for _, c := range resp.Header.Values("Connection") {
		for name := range strings.SplitSeq(c, ",") {
			h.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
	gatewayMetrics.calls.WithLabelValues(g.appID, label, errcode).Inc()
	w.WriteHeader(resp.StatusCode)
	n, err := w.Write(a.head)
	if err == nil {
		var m int64
		m, err = io.Copy(w, resp.Body)
		n += int(m)
	}
	fields := []zap.Field{
		zap.String("app_id", g.appID), zap.String("method", r.Method), zap.String("path", r.URL.Path),
		zap.Int("status", resp.StatusCode), zap.String("errcode", errcode), zap.Bool("retried", retried),
		zap.Int("bytes", n), zap.Duration("duration", time.Since(start)),
	}
	if err != nil {
		g.logger.Warn("WeChat API answer cut short", append(fields, zap.String("cause", scrub(err.Error())))...)
		return
	}
	g.logger.Debug("WeChat API call", fields...)
}

// logFailure logs a call that got no answer from WeChat: trouble with
// WeChat or with the app's credentials at WARN or ERROR, a client gone at
// DEBUG. Never the URL: errors are unwrapped from it, and scrubbed anyway.
func (g *Gateway) logFailure(msg string, r *http.Request, err error, refusal *reply.Error) {
	fields := []zap.Field{
		zap.String("app_id", g.appID), zap.String("method", r.Method), zap.String("path", r.URL.Path),
		zap.String("answer", refusal.Code),
	}
	var pe *platform.Error
	var ue *url.Error
	switch {
	case errors.As(err, &pe): // the token fetch
		fields = append(fields, reply.ErrorFields(err)...)
	case errors.As(err, &ue):
		fields = append(fields, zap.String("cause", scrub(ue.Err.Error())))
	case err != nil:
		fields = append(fields, zap.String("cause", scrub(err.Error())))
	}
	switch {
	case refusal == reply.ClientGone:
		g.logger.Debug(msg, fields...)
	case refusal == reply.WeChatConfig:
		reply.LogConfigRefusal(g.logger, msg, err, fields)
	default:
		g.logger.Warn(msg, fields...)
	}
}

// jsonish reports whether an answer of this Content-Type may be a JSON
// object: WeChat answers its errors as application/json, or text/plain,
// or with no type at all; images and files are none of these.
func jsonish(contentType string) bool {
	ct := strings.ToLower(contentType)
	return ct == "" || strings.Contains(ct, "json") || strings.HasPrefix(ct, "text/")
}

// errcodeOf finds the errcode of a complete JSON answer; isJSON is false
// when the answer was not read whole or is not a JSON object. An object
// without errcode counts as errcode 0.
func errcodeOf(head []byte, complete bool) (code int, isJSON bool) {
	if !complete {
		return 0, false
	}
	b := bytes.TrimSpace(head)
	if len(b) == 0 || b[0] != '{' {
		return 0, false
	}
	var st struct {
		Errcode *int `json:"errcode"`
	}
	if json.Unmarshal(b, &st) != nil {
		return 0, false
	}
	if st.Errcode == nil {
		return 0, true
	}
	return *st.Errcode, true
}

// errcodeLabel is the errcode label of an answer: its errcode, or "none"
// for an answer that is not a JSON object (an image) or was too large to
// look into. WeChat's errcodes are a small set; anything implausible is
// "other", so the label stays bounded.
func errcodeLabel(code int, isJSON bool) string {
	switch {
	case !isJSON:
		return "none"
	case code < -99999 || code > 9999999:
		return "other"
	}
	return strconv.Itoa(code)
}
