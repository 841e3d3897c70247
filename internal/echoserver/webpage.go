package echoserver

import (
	"html/template"
	"net/http"
	"sort"
	"strings"
)

// WithWebPage answers GET /web/ with an HTML page that shows the X-WX-*
// identity headers the request came with (what the backend saw of a
// browser session) and a logout button; every other request goes to next.
func WithWebPage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/web/" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		var rows [][2]string
		for name, vals := range r.Header {
			if strings.HasPrefix(strings.ToUpper(name), "X-WX-") && name != "X-Wx-Assertion" {
				rows = append(rows, [2]string{name, strings.Join(vals, ", ")})
			}
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = webPage.Execute(w, map[string]any{"Rows": rows, "OpenID": r.Header.Get("X-Wx-Openid"),
			"Cookie": r.Header.Get("Cookie")})
	})
}

var webPage = template.Must(template.New("web").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>wechat_auth demo</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:2em auto;background:#f7f7f7">
<h1 style="color:#07c160">Logged in with WeChat</h1>
<p>The backend got <code id="openid">{{.OpenID}}</code> and these headers from wechat_auth:</p>
<table id="identity" style="background:#fff;border-collapse:collapse">
{{range .Rows}}<tr><th style="text-align:left;padding:.3em 1em">{{index . 0}}</th><td style="padding:.3em 1em"><code>{{index . 1}}</code></td></tr>
{{end}}</table>
<p>Cookies it got: <code id="cookies">{{.Cookie}}</code> (never <code>wx_session</code>)</p>
<form method="post" action="/wx/logout"><button id="logout" type="submit"
 style="background:#fa5151;color:#fff;border:0;padding:.6em 2em">Log out</button></form>
</body></html>
`))
