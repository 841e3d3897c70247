package wechatauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// maxCodeLen bounds a wx.login or getPhoneNumber code (real ones are 32
// characters).
const maxCodeLen = 512

// loginErrors are jscode2session's errcodes with a meaning of their own;
// the rest are mapped by weChatFailure.
var loginErrors = map[int]apiError{
	wechat.CodeInvalidCode: errInvalidCode,
	wechat.CodeCodeUsed:    errCodeUsed,
	wechat.CodeRiskyUser:   errRiskyUser,
}

// serveLogin answers POST /wx/login {"code"}: it trades the code with
// WeChat, stores the session server side and answers a fresh token.
func (h *Handler) serveLogin(w http.ResponseWriter, r *http.Request) {
	token, e := h.login(w, r)
	metrics.logins.WithLabelValues(h.appID, result(e)).Inc()
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Token     string `json:"token"`
		ExpiresIn int64  `json:"expires_in"`
	}{token, int64(h.sessionTTL.Seconds())})
}

// login does the work of serveLogin: a new token, or the error to answer.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) (string, *apiError) {
	var req struct {
		Code any `json:"code"`
	}
	if e := readJSON(w, r, &req); e != nil {
		return "", e
	}
	code, ok := req.Code.(string)
	if !ok || code == "" || len(code) > maxCodeLen {
		return "", &errMissingCode
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	ws, err := h.wx.Code2Session(ctx, code)
	if err != nil {
		e := weChatFailure(err, loginErrors)
		h.logWeChatFailure("login failed", err, e)
		return "", &e
	}

	token := newToken()
	s := session.Session{OpenID: ws.OpenID, UnionID: ws.UnionID}
	err = h.store.PutUserKey(r.Context(), ws.OpenID, ws.SessionKey, h.sessionTTL)
	if err == nil {
		err = h.store.Create(r.Context(), token, s, h.sessionTTL)
	}
	if err != nil {
		h.logger.Error("login: session not stored", zap.String("openid", ws.OpenID), zap.Error(err))
		e := storeFailure(err)
		return "", &e
	}
	h.logger.Info("login", zap.String("openid", ws.OpenID), zap.Bool("unionid", ws.UnionID != ""))
	return token, nil
}

// serveLogout answers POST /wx/logout: the token dies in the shared store,
// so on every block and every Caddy that uses it.
func (h *Handler) serveLogout(w http.ResponseWriter, r *http.Request) {
	token, s, ok := h.sessionPOST(w, r)
	if !ok {
		return
	}
	if err := h.store.Delete(r.Context(), token); err != nil {
		h.logger.Error("logout: session not deleted", zap.Error(err))
		storeFailure(err).write(w)
		return
	}
	h.logger.Info("logout", zap.String("openid", s.OpenID))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// sessionPOST admits a POST that carries a live session; otherwise it
// answers the request itself and returns false.
func (h *Handler) sessionPOST(w http.ResponseWriter, r *http.Request) (string, session.Session, bool) {
	if r.Method != http.MethodPost {
		errMethodNotAllowed.write(w)
		return "", session.Session{}, false
	}
	token, s, e := h.authenticate(r)
	if e != nil {
		e.write(w)
		return "", session.Session{}, false
	}
	return token, s, true
}

// authenticate returns the session of the request's bearer token, or the
// error to answer. It removes a bearer Authorization header: the token is
// wechat_auth's, and goes no further.
func (h *Handler) authenticate(r *http.Request) (string, session.Session, *apiError) {
	token, present := bearerToken(r.Header)
	if !present {
		return "", session.Session{}, &errNoToken
	}
	r.Header.Del("Authorization")
	if token == "" {
		return "", session.Session{}, &errInvalidToken
	}
	s, err := h.store.Get(r.Context(), token)
	if err != nil {
		e := storeFailure(err)
		if e != errInvalidToken {
			h.logger.Error("session store failed", zap.Error(err))
		}
		return "", session.Session{}, &e
	}
	return token, s, nil
}

// logWeChatFailure logs a failed WeChat call: WeChat's own refusals of a
// user's code at INFO, trouble with WeChat or with the app's credentials
// at WARN or ERROR. Never the request URL, which holds the secret.
func (h *Handler) logWeChatFailure(msg string, err error, answer apiError) {
	fields := []zap.Field{zap.String("app_id", h.appID), zap.String("answer", answer.code)}
	var we *wechat.Error
	if errors.As(err, &we) {
		fields = append(fields, zap.String("endpoint", we.Endpoint), zap.String("kind", we.Kind.String()))
		if we.Kind == wechat.KindAPI {
			fields = append(fields, zap.Int("errcode", we.Code), zap.String("errmsg", we.Msg))
		}
		if we.HTTPStatus != 0 {
			fields = append(fields, zap.Int("http_status", we.HTTPStatus))
		}
		if we.Err != nil {
			fields = append(fields, zap.String("cause", we.Err.Error()))
		}
	}
	switch {
	case answer == errWeChatConfig:
		h.logger.Error(msg+": WeChat refused the app_id or app_secret", fields...)
	case answer.status >= 500:
		h.logger.Warn(msg, fields...)
	default:
		h.logger.Info(msg, fields...)
	}
}

// readJSON reads a POST's JSON object body, at most maxBodySize bytes,
// into dst; on failure it returns the error to answer.
func readJSON(w http.ResponseWriter, r *http.Request, dst any) *apiError {
	if r.Method != http.MethodPost {
		return &errMethodNotAllowed
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodySize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &errBodyTooLarge
		}
		return &errInvalidJSON
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return &errInvalidJSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return &errInvalidJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return &errInvalidJSON // trailing data after the object
	}
	return nil
}

// writeJSON answers v as JSON, never cached (it holds tokens or phones).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body := jsonText(v)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// jsonText is v as JSON text and a newline: no HTML escaping, so a message
// reads "Bearer <token>", not "Bearer \u003ctoken\u003e".
func jsonText(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // only plain structs of strings and numbers reach here
	return b.Bytes()
}
