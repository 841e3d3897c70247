package reply

import (
	"errors"
	"html"
	"net/http"
	"strconv"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// The error answers of WeChat in the browser.
var (
	InvalidState  = define(http.StatusForbidden, "invalid_state", "the login's state is missing, used, expired or not this browser's: start the login again")
	SnapshotUser  = define(http.StatusForbidden, "snapshot_user", "WeChat opened the page in snapshot mode (no real user): open it in WeChat to log in")
	CrossSite     = define(http.StatusForbidden, "cross_site_request", "a request from another site may not use this session")
	InvalidTicket = define(http.StatusUnauthorized, "invalid_ticket", "the handoff ticket is used, expired or unknown: ask the mini program for a new one")
	NoBrowserApp  = define(http.StatusNotFound, "no_browser_app", "this site has no browser login (no wechat_oa or wechat_web app)")
	MissingTicket = define(http.StatusBadRequest, "missing_ticket", `"ticket" must be a handoff ticket from POST /wx/ticket`)
)

// WebLoginFailure maps a failed browser code exchange: WeChat's snapshot
// user, or the answers of a login's.
func WebLoginFailure(err error) *Error {
	if errors.Is(err, platform.ErrSnapshotUser) {
		return SnapshotUser
	}
	return PlatformFailure(err)
}

// WritePage writes e as a small HTML page, for a browser navigation: the
// status, the message, and a link to start again. Nothing of the request
// is echoed.
func (e *Error) WritePage(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(`<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>` +
		strconv.Itoa(e.Status) + ` ` + html.EscapeString(e.Code) + `</title></head><body style="font-family:sans-serif;max-width:32em;margin:3em auto">` +
		`<h1>Login failed</h1><p>` + html.EscapeString(e.Message) + `</p><p><code>` + html.EscapeString(e.Code) + `</code></p>` +
		`<p><a href="/">Back</a></p></body></html>`))
}
