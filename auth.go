package wechatauth

// Authentication: the bearer token, its session, and the identity headers
// that tell the upstream who the user is.

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// The identity headers the upstream reads. Only wechat_auth sets them.
const (
	HeaderOpenID       = "X-Wx-Openid"
	HeaderUnionID      = "X-Wx-Unionid"
	HeaderAppID        = "X-Wx-Appid"
	HeaderPhone        = "X-Wx-Phone"
	HeaderPhoneCountry = "X-Wx-Phone-Country"
)

// stripIdentityHeaders removes every header a client sent whose name,
// upper-cased with '_' (and '.') read as '-', starts with "X-WX-": so
// "x-wx-openid", "X_WX_OPENID" and "X-Wx_Phone" all go. CGI-style backends
// fold '_' and '.' into the same variable as '-', hence both. Such names
// are also dropped from the Connection header (see connection.go), so that
// no proxy hop removes the identity headers set after this.
func stripIdentityHeaders(h http.Header) {
	dropIdentityFromConnection(h)
	for name := range h {
		if isIdentityHeader(name) {
			delete(h, name)
		}
	}
}

func isIdentityHeader(name string) bool {
	const prefix = "X-WX-"
	if len(name) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '.':
			c = '-'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// setIdentityHeaders tells the upstream who the user is, and of which app
// (openids are per app; one backend often serves several). It runs after
// stripIdentityHeaders, so these are the only X-WX-* headers. The values
// share one backing array (each capped to its own element, so an append
// elsewhere cannot spill into the next): one allocation per request.
func setIdentityHeaders(h http.Header, s *session.Session, appID string) {
	vals := make([]string, 0, 5)
	add := func(name, v string) {
		i := len(vals)
		vals = append(vals, v)
		h[name] = vals[i : i+1 : i+1]
	}
	add(HeaderOpenID, s.OpenID)
	add(HeaderAppID, appID)
	if s.UnionID != "" {
		add(HeaderUnionID, s.UnionID)
	}
	if s.Phone != "" {
		add(HeaderPhone, s.Phone)
		if s.PhoneCountry != "" {
			add(HeaderPhoneCountry, s.PhoneCountry)
		}
	}
}

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
