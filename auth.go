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

// authenticate returns the session of the request's bearer token, or the
// error to answer. It removes a bearer Authorization header: the token is
// wechat_auth's, and goes no further.
func (h *Handler) authenticate(r *http.Request) (string, session.Session, *reply.Error) {
	token, present := bearerToken(r.Header)
	if !present {
		return "", session.Session{}, reply.NoToken
	}
	r.Header.Del("Authorization")
	if token == "" {
		return "", session.Session{}, reply.InvalidToken
	}
	s, err := h.store.Get(r.Context(), token)
	if err != nil {
		e := reply.StoreFailure(err)
		if e != reply.InvalidToken {
			h.logger.Error("session store failed", zap.Error(err))
		}
		return "", session.Session{}, e
	}
	return token, s, nil
}

// sessionPOST admits a POST that carries a live session; otherwise it
// returns the error to answer.
func (h *Handler) sessionPOST(r *http.Request) (string, session.Session, *reply.Error) {
	if r.Method != http.MethodPost {
		return "", session.Session{}, reply.MethodNotAllowed
	}
	return h.authenticate(r)
}
