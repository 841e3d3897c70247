package weblogin

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Login is what a login's state stands for between GET /wx/web/login and
// the callback, kept server-side in a one-time record under the state.
type Login struct {
	// Browser is the browser id of the state cookie of the browser that
	// started the login (StateCookie, BrowserID).
	Browser string
	// App is the appid the login went to (the block's wechat_oa or
	// wechat_web app).
	App string
	// Next is where the callback sends the browser (SafeNext applied).
	Next string
}

// loginFormat starts every encoded Login.
const loginFormat = "wl1"

// Encode returns l as the value of its one-time record.
func (l Login) Encode() []byte {
	return []byte(loginFormat + "\x00" + l.Browser + "\x00" + l.App + "\x00" + l.Next)
}

// DecodeLogin reads what Encode wrote; false for anything else.
func DecodeLogin(b []byte) (Login, bool) {
	f := strings.SplitN(string(b), "\x00", 4)
	if len(f) != 4 || f[0] != loginFormat || !ValidState(f[1]) || f[2] == "" {
		return Login{}, false
	}
	return Login{Browser: f[1], App: f[2], Next: SafeNext(f[3])}, true
}

// From reports whether r comes from the browser that started l: its state
// cookie holds l's browser id (compared in constant time).
func (l Login) From(r *http.Request) bool {
	for _, c := range r.CookiesNamed(StateCookieName) {
		if len(c.Value) == len(l.Browser) && subtle.ConstantTimeCompare([]byte(c.Value), []byte(l.Browser)) == 1 {
			return true
		}
	}
	return false
}
