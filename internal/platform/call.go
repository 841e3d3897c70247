package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// MaxAnswerSize bounds how much of a platform's answer is read: their
// answers are tiny; anything larger is a gateway page or worse.
const MaxAnswerSize = 64 << 10

// Caller does the HTTP part of a platform's API calls, the same way for
// every platform: errors are *Error values without the request URL (it
// may carry a secret or a token), an answer other than HTTP 200 or not a
// JSON object is KindBadAnswer, whatever its Content-Type says (the
// platforms answer errors with HTTP 200 and often text/plain).
type Caller struct {
	Platform   string
	HTTPClient *http.Client                                         // http.DefaultClient when nil
	Observe    func(endpoint string, took time.Duration, err error) // may be nil
}

// Do sends req and returns the answer's body, trimmed, which starts with
// '{'. The caller decodes it and checks the platform's own error fields.
func (c *Caller) Do(endpoint string, req *http.Request) (body []byte, err error) {
	if c.Observe != nil {
		start := time.Now()
		defer func() { c.Observe(endpoint, time.Since(start), err) }()
	}
	req.Header.Set("Accept", "application/json, text/plain, */*")
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, c.transportError(req.Context(), endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerSize+1))
	if err != nil {
		return nil, c.transportError(req.Context(), endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.BadAnswer(endpoint, resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode))
	}
	if len(raw) > MaxAnswerSize {
		return nil, c.BadAnswer(endpoint, resp.StatusCode, errors.New("answer too large"))
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, c.BadAnswer(endpoint, resp.StatusCode,
			fmt.Errorf("answer is not a JSON object (Content-Type %q, %d bytes)", resp.Header.Get("Content-Type"), len(raw)))
	}
	return trimmed, nil
}

// Request is one call of a platform's API, as Send and Call make it.
type Request struct {
	Endpoint    string      // the API's name, in errors and for Observe
	Method      string      // http.MethodGet, http.MethodPost
	Base        string      // api_base, or the platform's host
	Path        string      // the path, and the query if any
	Body        []byte      // nil for none
	ContentType string      // of Body; "" for none
	Header      http.Header // more header fields, or nil
}

// Send makes r's request (see NewRequest) and sends it (see Do).
func (c *Caller) Send(ctx context.Context, r Request) ([]byte, error) {
	req, err := c.NewRequest(ctx, r.Endpoint, r.Method, r.Base, r.Path, r.Body, r.ContentType)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	return c.Do(r.Endpoint, req)
}

// Call sends r and decodes the answer into v; a JSON object that does
// not fit v is KindBadAnswer. The caller checks the platform's own error
// fields.
func (c *Caller) Call(ctx context.Context, r Request, v any) error {
	raw, err := c.Send(ctx, r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return c.BadAnswer(r.Endpoint, http.StatusOK, errors.New("answer does not fit the documented fields"))
	}
	return nil
}

// NewRequest builds a request to base+pathAndQuery; a base that does not
// make a URL is KindUnreachable ("bad api_base").
func (c *Caller) NewRequest(ctx context.Context, endpoint, method, base, pathAndQuery string, body []byte, contentType string) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, trimSlash(base)+pathAndQuery, rd)
	if err != nil {
		return nil, &Error{Platform: c.Platform, Endpoint: endpoint, Kind: KindUnreachable, Err: errors.New("bad api_base")}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

// BadAnswer is the *Error of an answer that came but cannot be used.
func (c *Caller) BadAnswer(endpoint string, status int, cause error) *Error {
	return &Error{Platform: c.Platform, Endpoint: endpoint, Kind: KindBadAnswer, HTTPStatus: status, Err: cause}
}

// EmptyCode is the *Error of a login code that is empty: never sent.
func (c *Caller) EmptyCode(endpoint string) *Error {
	return &Error{Platform: c.Platform, Endpoint: endpoint, Kind: KindInvalidCode, Err: errors.New("empty code")}
}

// CheckIdentity checks the ids of a login answer: an OpenID and, if any,
// a UnionID of p's shape, and where keySize > 0 a SessionKey of keySize
// bytes in base64. What is wrong is the KindBadAnswer of endpoint.
func (c *Caller) CheckIdentity(p *Platform, endpoint string, id Identity, keySize int) (Identity, error) {
	why := ""
	switch {
	case !p.ValidUserID(id.OpenID):
		why = "openid missing or of the wrong shape"
	case id.UnionID != "" && !p.ValidUserID(id.UnionID):
		why = "unionid of the wrong shape"
	case keySize > 0 && !ValidSessionKey(id.SessionKey, keySize):
		why = fmt.Sprintf("session_key missing or not base64 of %d bytes", keySize)
	default:
		return id, nil
	}
	return Identity{}, c.BadAnswer(endpoint, http.StatusOK, errors.New(why))
}

// CloseIdle closes the HTTP client's idle connections (none where it is
// nil: http.DefaultClient is not the caller's to close).
func (c *Caller) CloseIdle() {
	if c.HTTPClient != nil {
		c.HTTPClient.CloseIdleConnections()
	}
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// transportError turns a failed round trip into an *Error without the
// request URL.
func (c *Caller) transportError(ctx context.Context, endpoint string, err error) error {
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	kind := KindUnreachable
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		kind = KindCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(ctx.Err(), context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		kind = KindTimeout
	}
	return &Error{Platform: c.Platform, Endpoint: endpoint, Kind: kind, Err: cause}
}
