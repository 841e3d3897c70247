package fakewx

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// The open.weixin.qq.com pages: GET /connect/oauth2/authorize (Official
// Accounts) and GET /connect/qrconnect (website applications) check their
// parameters as WeChat does and either send the browser back to the
// redirect_uri with a code at once (see SetWebUser) or show a page whose
// form (POST /connect/confirm, the fake's stand-in for the user's phone)
// confirms or refuses. A page that refuses its parameters is an HTML
// error page (HTTP 200, as WeChat's), its message in #wx-error.

// authorizeParams are the parameters of both pages, in the order WeChat
// requires; state may be left out, other parameters may follow.
var authorizeParams = []string{"appid", "redirect_uri", "response_type", "scope", "state"}

// authRequest is a checked authorize request.
type authRequest struct {
	kind                       WebKind
	appid, redirect            string
	responseType, scope, state string
}

// page is the path of kind's page.
func (k WebKind) page() string {
	if k == WebsiteApp {
		return "/connect/qrconnect"
	}
	return "/connect/oauth2/authorize"
}

// webAuthorize serves the page of kind.
func (s *Server) webAuthorize(w http.ResponseWriter, r *http.Request, kind WebKind) {
	if kind == WebsiteApp {
		s.Hit(EndpointQRConnect)
	} else {
		s.Hit(EndpointAuthorize)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		webErrorPage(w, http.StatusMethodNotAllowed, "请求方法错误")
		return
	}
	q := r.URL.Query()
	req, msg := s.checkAuthorize(kind, q, r.UserAgent())
	if msg == "" && !inOrder(r.URL.RawQuery) {
		msg = "参数错误"
	}
	if msg != "" {
		webErrorPage(w, http.StatusOK, msg)
		return
	}
	u, set := s.web.user(req.appid)
	if set && (u.auto || req.scope == scopeBase) {
		s.webReturn(w, r, req, u.spec)
		return
	}
	user := "alice"
	if set {
		user = u.spec
	}
	s.webConfirmPage(w, req, user)
}

// checkAuthorize checks the parameters of kind's page (their order
// aside): the error page's message, "" when they are good.
func (s *Server) checkAuthorize(kind WebKind, q url.Values, userAgent string) (authRequest, string) {
	for _, p := range authorizeParams {
		if len(q[p]) > 1 {
			return authRequest{}, "参数错误"
		}
	}
	req := authRequest{kind: kind, appid: q.Get("appid"), redirect: q.Get("redirect_uri"),
		responseType: q.Get("response_type"), scope: q.Get("scope"), state: q.Get("state")}
	app, known := s.web.apps[req.appid]
	oa := kind == OfficialAccount
	switch {
	case req.appid == "" && oa:
		return req, "10012 appid不能为空"
	case oa && known && app.Kind == WebsiteApp:
		return req, "10016 不支持微信开放平台的Appid，请使用公众号Appid"
	case !known || app.Kind != kind:
		if oa {
			return req, "参数错误"
		}
		return req, "AppID 参数错误"
	case req.redirect == "" && oa:
		return req, "10011 redirect_uri不能为空"
	}
	ru, err := url.Parse(req.redirect)
	if err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" || !s.web.registered(req.appid, ru) {
		if oa {
			return req, "10003 redirect_uri域名与后台配置不一致"
		}
		return req, "redirect_uri 参数错误"
	}
	switch {
	case req.responseType != "code":
		return req, "参数错误"
	case req.scope == "" && oa:
		return req, "10010 scope不能为空"
	case !scopeAllowed(kind, req.scope):
		if oa {
			return req, "10005 此公众号并没有这些scope的权限"
		}
		return req, "Scope 参数错误或没有 Scope 权限"
	case len(req.state) > 128 || !alnum(req.state):
		return req, "参数错误"
	case oa && !strings.Contains(userAgent, "MicroMessenger"):
		return req, "请在微信客户端打开链接"
	}
	return req, ""
}

// inOrder reports whether the raw query names authorizeParams first, in
// their order (state may be left out).
func inOrder(rawQuery string) bool {
	var names []string
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		name, _, _ := strings.Cut(pair, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		names = append(names, name)
	}
	for i, want := range authorizeParams {
		switch {
		case i < len(names) && names[i] == want:
		case want == "state" && (i == len(names) || !slices.Contains(names, "state")):
		default:
			return false
		}
	}
	return true
}

// alnum reports whether s is ASCII letters and digits only ("" is).
func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// webConfirm serves POST /connect/confirm, the page's form: the authorize
// parameters again, page (authorize or qrconnect), user (a spec, see
// SetWebUser) and action (confirm or deny). It sends the browser back to
// the redirect_uri: with a code of user, or without one (deny).
func (s *Server) webConfirm(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		webErrorPage(w, http.StatusMethodNotAllowed, "请求方法错误")
		return
	}
	if err := r.ParseForm(); err != nil {
		webErrorPage(w, http.StatusBadRequest, "参数错误")
		return
	}
	kind := OfficialAccount
	if r.PostForm.Get("page") == "qrconnect" {
		kind = WebsiteApp
	}
	req, msg := s.checkAuthorize(kind, r.PostForm, "MicroMessenger (the fake's confirm form)")
	if msg != "" {
		webErrorPage(w, http.StatusOK, msg)
		return
	}
	spec := strings.TrimSpace(r.PostForm.Get("user"))
	if r.PostForm.Get("action") == "deny" {
		spec = "deny"
	}
	if !validWebSpec(spec) {
		webErrorPage(w, http.StatusOK, "用户名错误: [<outcome>-]<user>, user of [A-Za-z0-9_]")
		return
	}
	s.webReturn(w, r, req, spec)
}

// webReturn sends the browser back to req's redirect_uri: with a fresh
// code of spec and the state, or with the state alone when spec is deny.
func (s *Server) webReturn(w http.ResponseWriter, r *http.Request, req authRequest, spec string) {
	params := "state=" + url.QueryEscape(req.state)
	if spec != "deny" {
		params = "code=" + url.QueryEscape(s.mintWebCode(req.appid, spec, req.scope)) + "&" + params
	}
	target, _, _ := strings.Cut(req.redirect, "#")
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target+sep+params, http.StatusFound)
}

// webErrorPage writes one of WeChat's error pages.
func webErrorPage(w http.ResponseWriter, status int, msg string) {
	var b strings.Builder
	_ = errorPage.Execute(&b, msg)
	fakekit.WriteRaw(w, status, "text/html; charset=utf-8", b.String())
}

// webConfirmPage writes the page that asks the user.
func (s *Server) webConfirmPage(w http.ResponseWriter, req authRequest, user string) {
	page := "authorize"
	title, ask := "微信网页授权", "申请获得以下权限: 获得你的公开信息（昵称、头像等）"
	if req.kind == WebsiteApp {
		page, title, ask = "qrconnect", "微信登录", "请使用微信扫描二维码登录"
	} else if req.scope == scopeBase {
		ask = "获取你的身份信息"
	}
	var b strings.Builder
	_ = confirmPage.Execute(&b, map[string]any{
		"Title": title, "Ask": ask, "Page": page, "AppID": req.appid, "User": user,
		"Fields": [][2]string{
			{"appid", req.appid}, {"redirect_uri", req.redirect}, {"response_type", req.responseType},
			{"scope", req.scope}, {"state", req.state}, {"page", page},
		},
	})
	w.Header().Set("Cache-Control", "no-store")
	fakekit.WriteRaw(w, http.StatusOK, "text/html; charset=utf-8", b.String())
}

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>微信</title></head>
<body style="font-family:sans-serif;text-align:center;padding-top:4em">
<h2 id="wx-error" style="color:#fa5151">{{.}}</h2>
<p style="color:#888">fake open.weixin.qq.com</p>
</body></html>
`))

// The confirm page: a made-up QR code (squares drawn from the appid), the
// user field and the buttons. It has several colours on purpose: a
// screenshot of it is visibly not blank.
var confirmPage = template.Must(template.New("confirm").Funcs(template.FuncMap{
	"squares": qrSquares,
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title></head>
<body style="font-family:sans-serif;background:#f7f7f7;text-align:center;padding-top:2em">
<h1 style="color:#07c160">{{.Title}}</h1>
<p id="wx-app">{{.AppID}}</p>
<svg id="wx-qrcode" width="200" height="200" viewBox="0 0 20 20" style="background:#fff;border:8px solid #fff">
{{range squares .AppID}}<rect x="{{index . 0}}" y="{{index . 1}}" width="1" height="1" fill="#111"/>{{end}}
<rect x="8" y="8" width="4" height="4" fill="#07c160"/>
</svg>
<p id="wx-ask">{{.Ask}}</p>
<form id="wx-form" method="post" action="/connect/confirm">
{{range .Fields}}<input type="hidden" name="{{index . 0}}" value="{{index . 1}}">
{{end}}<p><label>用户 <input id="wx-user" name="user" value="{{.User}}"></label></p>
<p><button id="wx-confirm" type="submit" name="action" value="confirm"
 style="background:#07c160;color:#fff;border:0;padding:.6em 2em;font-size:1.1em">确认登录</button>
<button id="wx-deny" type="submit" name="action" value="deny"
 style="background:#eee;color:#fa5151;border:0;padding:.6em 2em;font-size:1.1em">拒绝</button></p>
</form>
</body></html>
`))

// qrSquares are the dark cells of a made-up 20x20 QR code for s: three
// finder squares and cells from s's digest.
func qrSquares(s string) [][2]int {
	var cells [][2]int
	finder := func(x0, y0 int) {
		for y := 0; y < 5; y++ {
			for x := 0; x < 5; x++ {
				if x == 0 || y == 0 || x == 4 || y == 4 || (x == 2 && y == 2) {
					cells = append(cells, [2]int{x0 + x, y0 + y})
				}
			}
		}
	}
	finder(0, 0)
	finder(15, 0)
	finder(0, 15)
	d := digest("qr\x00" + s)
	for i := 0; i < len(d); i++ {
		x, y := 6+int(d[i])%9, int(d[(i+1)%len(d)])%20
		cells = append(cells, [2]int{x, y})
	}
	return cells
}
