package wechatauth

// The wx_session cookie as a credential beside the Bearer token: read
// when a request has no Authorization header, never passed upstream, and
// refused on a cross-site POST to /wx/*.

import (
	"net/http"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/weblogin"
)

// cookieToken returns the token of the request's wx_session cookie (""
// for one that cannot be a token), and whether it has one. It removes the
// cookie from the Cookie header, which goes on upstream with the others.
func cookieToken(r *http.Request) (string, bool) {
	if !hasSessionCookie(r) {
		return "", false
	}
	token := ""
	for _, c := range r.CookiesNamed(weblogin.SessionCookieName) {
		if session.WellFormedToken(c.Value) {
			token = c.Value
			break
		}
	}
	weblogin.StripCookie(r.Header, weblogin.SessionCookieName)
	return token, true
}

// hasSessionCookie reports whether a Cookie header may hold wx_session
// (a cheap test, before any parsing).
func hasSessionCookie(r *http.Request) bool {
	for _, line := range r.Header["Cookie"] {
		if strings.Contains(line, weblogin.SessionCookieName) {
			return true
		}
	}
	return false
}

// viaCookie reports whether r would authenticate with the cookie: it has
// one and no Authorization header.
func viaCookie(r *http.Request) bool {
	_, bearer := r.Header["Authorization"]
	return !bearer && hasSessionCookie(r)
}

// crossSiteCookiePOST reports whether r is a cookie-authenticated POST
// from another site (CSRF), to be refused before anything else.
func crossSiteCookiePOST(r *http.Request) bool {
	return r.Method == http.MethodPost && viaCookie(r) && weblogin.CrossSite(r)
}
