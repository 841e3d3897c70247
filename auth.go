package wechatauth

// Authentication: the bearer token and its session (the identity headers
// that then tell the upstream who the user is are headers.go's).

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header; ok is false when there is no Authorization header, or more than
// one, or another scheme. A token that is not well-formed comes back as
// "" with ok true: a bearer credential was sent but cannot be ours.
func bearerToken(h http.Header) (token string, present bool) {
	vals := h["Authorization"]
	if len(vals) == 0 {
		return "", false
	}
	if len(vals) > 1 {
		return "", true
	}
	v := vals[0]
	const scheme = "bearer "
	if len(v) <= len(scheme) || !equalFoldASCII(v[:len(scheme)], scheme) {
		return "", false
	}
	t := v[len(scheme):]
	for len(t) > 0 && t[0] == ' ' {
		t = t[1:]
	}
	for len(t) > 0 && (t[len(t)-1] == ' ' || t[len(t)-1] == '\t') {
		t = t[:len(t)-1]
	}
	if !session.WellFormedToken(t) {
		return "", true
	}
	return t, true
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// authenticate returns the session of the request's bearer token, with
// its app, or the error to answer (and the app, when the token named
// one). It removes a bearer Authorization header: the token is
// wechat_auth's, and goes no further. It looks up one store: the app's
// (see appOfToken).
func (h *Handler) authenticate(r *http.Request) (*app, string, session.Session, *reply.Error) {
	a, token, e := h.tokenApp(r)
	if e != nil {
		return a, "", session.Session{}, e
	}
	s, e := h.lookup(r, a, token)
	if e != nil {
		return a, "", session.Session{}, e
	}
	return a, token, s, nil
}

// tokenApp returns the request's bearer token and the app it belongs to,
// without a store lookup, or the error to answer. It removes a bearer
// Authorization header.
func (h *Handler) tokenApp(r *http.Request) (*app, string, *reply.Error) {
	token, present := bearerToken(r.Header)
	if !present {
		return nil, "", reply.NoToken
	}
	r.Header.Del("Authorization")
	if token == "" {
		return nil, "", reply.InvalidToken
	}
	a := h.appOfToken(token)
	if a == nil {
		return nil, "", reply.InvalidToken
	}
	return a, token, nil
}

// lookup returns the session of token in the app's store.
func (h *Handler) lookup(r *http.Request, a *app, token string) (session.Session, *reply.Error) {
	s, err := a.store.Get(r.Context(), token)
	if err != nil {
		e := reply.StoreFailure(err)
		if e != reply.InvalidToken {
			h.logger.Error("session store failed", zap.String("app_id", a.id), zap.Error(err))
		}
		return session.Session{}, e
	}
	return s, nil
}

// sessionPOST admits a POST that carries a live session; otherwise it
// returns the error to answer.
func (h *Handler) sessionPOST(r *http.Request) (*app, string, session.Session, *reply.Error) {
	if r.Method != http.MethodPost {
		return nil, "", session.Session{}, reply.MethodNotAllowed
	}
	return h.authenticate(r)
}
