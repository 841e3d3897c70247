package weblogin

import (
	"net/http"
	"strings"
	"time"
)

// Cookie names.
const (
	// SessionCookieName carries a browser session's token (the contract's
	// name).
	SessionCookieName = "wx_session"
	// StateCookieName binds a login's state to the browser that started
	// it: its value is a random browser id (NewState), and the server-side
	// record of the state holds the same id.
	StateCookieName = "wx_state"
	// StatePath is where the state cookie is sent: the callback only.
	StatePath = "/wx/web/"
)

// SessionCookie returns the wx_session cookie carrying token: Path=/,
// HttpOnly, SameSite=Lax, Secure when secure (the request came over
// HTTPS). With maxAge > 0 it has Max-Age (whole seconds, rounded up);
// otherwise it is a browser-session cookie.
func SessionCookie(token string, secure bool, maxAge time.Duration) *http.Cookie {
	c := baseCookie(SessionCookieName, token, "/", secure)
	c.MaxAge = seconds(maxAge)
	return c
}

// ClearSessionCookie returns the wx_session cookie that removes it from
// the browser: an empty value and Max-Age=0, with the same attributes.
func ClearSessionCookie(secure bool) *http.Cookie {
	c := baseCookie(SessionCookieName, "", "/", secure)
	c.MaxAge = -1 // net/http writes it as Max-Age=0
	return c
}

// DefaultStateTTL is how long a login may take, from GET /wx/web/login to
// the callback, when StateCookie is given no TTL.
const DefaultStateTTL = 10 * time.Minute

// StateCookie returns the cookie binding a login to this browser: value
// (a browser id from NewState), Path=StatePath (only the callback gets
// it), HttpOnly, SameSite=Lax (WeChat's redirect back is a top-level
// navigation, which Lax lets through), Secure when secure, Max-Age ttl
// (DefaultStateTTL when ttl <= 0).
func StateCookie(value string, secure bool, ttl time.Duration) *http.Cookie {
	if ttl <= 0 {
		ttl = DefaultStateTTL
	}
	c := baseCookie(StateCookieName, value, StatePath, secure)
	c.MaxAge = seconds(ttl)
	return c
}

// ClearStateCookie returns the state cookie that removes it (Max-Age=0).
func ClearStateCookie(secure bool) *http.Cookie {
	c := baseCookie(StateCookieName, "", StatePath, secure)
	c.MaxAge = -1
	return c
}

// BrowserID returns the browser id of r's state cookie, if it carries a
// well-formed one (ValidState); a login started while one is there should
// reuse it, so that logins started in two tabs both work.
func BrowserID(r *http.Request) (string, bool) {
	for _, c := range r.CookiesNamed(StateCookieName) {
		if ValidState(c.Value) {
			return c.Value, true
		}
	}
	return "", false
}

func baseCookie(name, value, path string, secure bool) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   secure,
	}
}

func seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// StripCookie removes every cookie called name from the Cookie header
// lines of h, keeping the other cookies byte for byte (their order, their
// spacing, their values); a line left empty is removed. Names compare
// exactly (cookie names are case-sensitive).
func StripCookie(h http.Header, name string) {
	lines := h.Values("Cookie")
	if len(lines) == 0 {
		return
	}
	kept := make([]string, 0, len(lines))
	changed := false
	for _, line := range lines {
		out, dropped := stripLine(line, name)
		changed = changed || dropped
		if out != "" {
			kept = append(kept, out)
		}
	}
	if !changed {
		return
	}
	h.Del("Cookie")
	for _, l := range kept {
		h.Add("Cookie", l)
	}
}

// stripLine drops the pairs called name from one Cookie line.
func stripLine(line, name string) (string, bool) {
	parts := strings.Split(line, ";")
	kept := parts[:0]
	dropped := false
	for _, p := range parts {
		n, _, _ := strings.Cut(p, "=")
		if strings.Trim(n, " \t") == name {
			dropped = true
			continue
		}
		kept = append(kept, p)
	}
	if !dropped {
		return line, false
	}
	out := strings.TrimLeft(strings.Join(kept, ";"), " \t")
	if strings.Trim(out, " \t;") == "" {
		return "", true
	}
	return out, true
}
