package fakewx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	oaApp     = "wxoa000000000001"
	oaSecret  = "oa-secret"
	webApp    = "wxweb00000000001"
	webSecret = "web-secret"
	looseApp  = "wxweb00000000002" // a website app not bound to the open platform
	wechatUA  = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI"
)

// webFixture is a fake with a mini program, an Official Account and two
// website applications, behind an httptest server.
type webFixture struct {
	*fixture
	client *http.Client // does not follow redirects
}

func newWebFixture(t *testing.T) *webFixture {
	t.Helper()
	wx := New(Config{
		Apps: map[string]string{testApp: testSecret},
		WebApps: map[string]WebApp{
			oaApp:    {Kind: OfficialAccount, Secret: oaSecret, UnionID: true},
			webApp:   {Kind: WebsiteApp, Secret: webSecret, UnionID: true},
			looseApp: {Kind: WebsiteApp, Secret: "loose"},
		},
	})
	ts := httptest.NewServer(wx)
	t.Cleanup(ts.Close)
	t.Cleanup(wx.Close)
	return &webFixture{
		fixture: &fixture{t: t, wx: wx, url: ts.URL},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// page is an answer of the open.weixin.qq.com side.
type page struct {
	status   int
	ctype    string
	location string
	body     string
}

func (f *webFixture) get(path, userAgent string) page {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.url+path, nil)
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	return f.send(req)
}

func (f *webFixture) send(req *http.Request) page {
	f.t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), string(b)}
}

// confirm posts the page's form as a browser would: the authorize
// parameters, page, user and action.
func (f *webFixture) confirm(q url.Values, pageName, user, action string) page {
	f.t.Helper()
	form := url.Values{}
	for k, v := range q {
		form[k] = v
	}
	form.Set("page", pageName)
	form.Set("user", user)
	form.Set("action", action)
	req, _ := http.NewRequest("POST", f.url+"/connect/confirm", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.send(req)
}

// authorizeQuery is a page's query in WeChat's order.
func authorizeQuery(appid, redirect, scope, state string) string {
	return "appid=" + appid + "&redirect_uri=" + url.QueryEscape(redirect) +
		"&response_type=code&scope=" + scope + "&state=" + state
}

func (f *webFixture) exchange(appid, secret, code string) answer {
	f.t.Helper()
	q := url.Values{"appid": {appid}, "secret": {secret}, "code": {code}, "grant_type": {"authorization_code"}}
	return f.do("GET", "/sns/oauth2/access_token?"+q.Encode(), nil)
}

// returned checks that p sends the browser to redirect with state, and
// returns the code ("" for none).
func returned(t *testing.T, p page, redirect, state string) string {
	t.Helper()
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, redirect) {
		t.Fatalf("HTTP %d to %q (%s); want a 302 to %s", p.status, p.location, p.body, redirect)
	}
	u, err := url.Parse(p.location)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Query().Get("state"); got != state {
		t.Fatalf("state %q came back as %q", state, got)
	}
	return u.Query().Get("code")
}

func wantErrorPage(t *testing.T, p page, msg string) {
	t.Helper()
	if p.status != 200 || p.location != "" || !strings.HasPrefix(p.ctype, "text/html") ||
		!strings.Contains(p.body, `id="wx-error"`) || !strings.Contains(p.body, msg) {
		t.Fatalf("HTTP %d %s Location %q: %s\nwant the error page %q", p.status, p.ctype, p.location, p.body, msg)
	}
}

func TestWebQRLogin(t *testing.T) {
	f := newWebFixture(t)
	cb := "http://127.0.0.1:8080/wx/web/callback"
	q := authorizeQuery(webApp, cb, "snsapi_login", "abc123XYZ")
	p := f.get("/connect/qrconnect?"+q+"#wechat_redirect", "")
	if p.status != 200 || !strings.Contains(p.body, `id="wx-confirm"`) || !strings.Contains(p.body, `id="wx-qrcode"`) ||
		!strings.Contains(p.body, `value="alice"`) {
		t.Fatalf("QR page: HTTP %d %s", p.status, p.body)
	}
	vals, _ := url.ParseQuery(q)
	code := returned(t, f.confirm(vals, "qrconnect", "bob", "confirm"), cb+"?", "abc123XYZ")
	if code == "" {
		t.Fatal("no code")
	}
	a := f.exchange(webApp, webSecret, code)
	if a.status != 200 || a.ctype != "text/plain" || a.errcode() != 0 {
		t.Fatalf("exchange: HTTP %d %s %s", a.status, a.ctype, a.body)
	}
	if a.str("openid") != OpenID(webApp, "bob") || a.str("unionid") != UnionID("bob") ||
		a.str("scope") != "snsapi_login" || a.m["expires_in"] != 7200.0 ||
		a.str("access_token") == "" || a.str("refresh_token") == "" || a.m["is_snapshotuser"] != nil {
		t.Fatalf("exchange answer %s", a.body)
	}
	wantErrcode(t, f.exchange(webApp, webSecret, code), 40163)
	if n := f.wx.Count(EndpointQRConnect); n != 1 {
		t.Errorf("Count(qrconnect) = %d", n)
	}
	if n := f.wx.Count(EndpointOAuthToken); n != 2 {
		t.Errorf("Count(oauth2_access_token) = %d", n)
	}
	// refused: the browser comes back with the state alone
	if code := returned(t, f.confirm(vals, "qrconnect", "bob", "deny"), cb+"?", "abc123XYZ"); code != "" {
		t.Fatalf("a refusal carried a code: %q", code)
	}
	// a bad user name on the form
	wantErrorPage(t, f.confirm(vals, "qrconnect", "b b", "confirm"), "用户名错误")
	// a redirect_uri with a query keeps it
	cb2 := "http://localhost:9/cb?x=1"
	vals2, _ := url.ParseQuery(authorizeQuery(webApp, cb2, "snsapi_login", "s1"))
	if code := returned(t, f.confirm(vals2, "qrconnect", "carol", "confirm"), cb2+"&code=", "s1"); code == "" {
		t.Fatal("no code")
	}
}

func TestWebOfficialAccount(t *testing.T) {
	f := newWebFixture(t)
	cb := "http://127.0.0.1:8080/wx/web/callback"
	base := "/connect/oauth2/authorize?" + authorizeQuery(oaApp, cb, "snsapi_base", "st1")
	// outside WeChat: an error page
	wantErrorPage(t, f.get(base, "Mozilla/5.0 Chrome/120"), "请在微信客户端打开链接")
	// no user chosen: the page asks, even for snsapi_base
	if p := f.get(base, wechatUA); p.status != 200 || !strings.Contains(p.body, `id="wx-confirm"`) {
		t.Fatalf("HTTP %d %s", p.status, p.body)
	}
	// a user chosen: snsapi_base is silent, snsapi_userinfo asks
	if !f.wx.SetWebUser(oaApp, "alice", false) {
		t.Fatal("SetWebUser refused")
	}
	code := returned(t, f.get(base, wechatUA), cb+"?", "st1")
	a := f.exchange(oaApp, oaSecret, code)
	if a.str("openid") != OpenID(oaApp, "alice") || a.str("scope") != "snsapi_base" || a.m["unionid"] != nil {
		t.Fatalf("snsapi_base before any grant: %s", a.body)
	}
	info := "/connect/oauth2/authorize?" + authorizeQuery(oaApp, cb, "snsapi_userinfo", "st2")
	p := f.get(info, wechatUA)
	if p.status != 200 || !strings.Contains(p.body, `value="alice"`) {
		t.Fatalf("snsapi_userinfo: HTTP %d %s", p.status, p.body)
	}
	vals, _ := url.ParseQuery(strings.SplitN(info, "?", 2)[1])
	code = returned(t, f.confirm(vals, "authorize", "alice", "confirm"), cb+"?", "st2")
	a = f.exchange(oaApp, oaSecret, code)
	if a.str("scope") != "snsapi_userinfo" || a.str("unionid") != UnionID("alice") || a.str("openid") != OpenID(oaApp, "alice") {
		t.Fatalf("snsapi_userinfo: %s", a.body)
	}
	// once granted, snsapi_base carries the unionid too
	a = f.exchange(oaApp, oaSecret, returned(t, f.get(base, wechatUA), cb+"?", "st1"))
	if a.str("unionid") != UnionID("alice") {
		t.Fatalf("snsapi_base after a grant: %s", a.body)
	}
	// auto: every scope at once
	f.wx.SetWebUser(oaApp, "dave", true)
	a = f.exchange(oaApp, oaSecret, returned(t, f.get(info, wechatUA), cb+"?", "st2"))
	if a.str("openid") != OpenID(oaApp, "dave") || a.str("scope") != "snsapi_userinfo" {
		t.Fatalf("auto: %s", a.body)
	}
	// forgotten: the page asks again
	f.wx.SetWebUser(oaApp, "", false)
	if p := f.get(base, wechatUA); p.status != 200 {
		t.Fatalf("after forgetting the user: HTTP %d", p.status)
	}
}

// The user's unionid is the same in a mini program and in every bound
// browser app; an app not bound gives none; openids differ per app.
func TestWebUnionIDAcrossApps(t *testing.T) {
	f := newWebFixture(t)
	mp := f.login(testApp, testSecret, "union-erin.1")
	web := f.exchange(webApp, webSecret, "ok-erin.1")
	oa := f.exchange(oaApp, oaSecret, "union-erin.1")
	loose := f.exchange(looseApp, "loose", "ok-erin.1")
	u := UnionID("erin")
	if mp.str("unionid") != u || web.str("unionid") != u || oa.str("unionid") != u {
		t.Fatalf("unionids differ: mini program %s, website %s, OA %s", mp.body, web.body, oa.body)
	}
	if loose.m["unionid"] != nil || loose.str("openid") != OpenID(looseApp, "erin") {
		t.Fatalf("an app not bound: %s", loose.body)
	}
	if web.str("openid") == mp.str("openid") || web.str("openid") == oa.str("openid") {
		t.Fatal("openids are the same across apps")
	}
}

func TestWebSnapshotUser(t *testing.T) {
	f := newWebFixture(t)
	cb := "http://127.0.0.1:8080/wx/web/callback"
	f.wx.SetWebUser(oaApp, "snapshot-alice", true)
	code := returned(t, f.get("/connect/oauth2/authorize?"+authorizeQuery(oaApp, cb, "snsapi_userinfo", "s"), wechatUA), cb+"?", "s")
	a := f.exchange(oaApp, oaSecret, code)
	if a.m["is_snapshotuser"] != 1.0 || a.str("openid") != SnapshotOpenID(oaApp) || a.m["unionid"] != nil ||
		a.str("scope") != "snsapi_base" {
		t.Fatalf("snapshot answer %s", a.body)
	}
	if SnapshotOpenID(oaApp) == OpenID(oaApp, "alice") || len(SnapshotOpenID(oaApp)) != 28 {
		t.Fatal("the stand-in openid is the user's, or not shaped like one")
	}
	// and as a steered code
	if a := f.exchange(oaApp, oaSecret, "snapshot-bob.1"); a.m["is_snapshotuser"] != 1.0 {
		t.Fatalf("snapshot code: %s", a.body)
	}
}

func TestWebAuthorizeRefusesBadParameters(t *testing.T) {
	f := newWebFixture(t)
	cb := url.QueryEscape("http://127.0.0.1:8080/wx/web/callback")
	oa := func(appid, redirect, rt, scope, state string) string {
		return "/connect/oauth2/authorize?appid=" + appid + "&redirect_uri=" + redirect +
			"&response_type=" + rt + "&scope=" + scope + "&state=" + state
	}
	qr := func(appid, redirect, rt, scope, state string) string {
		return "/connect/qrconnect?appid=" + appid + "&redirect_uri=" + redirect +
			"&response_type=" + rt + "&scope=" + scope + "&state=" + state
	}
	for _, tc := range []struct{ name, path, msg string }{
		{"OA: no appid", oa("", cb, "code", "snsapi_base", "s"), "appid不能为空"},
		{"OA: unknown appid", oa("wxnope", cb, "code", "snsapi_base", "s"), "参数错误"},
		{"OA: a mini program's appid", oa(testApp, cb, "code", "snsapi_base", "s"), "参数错误"},
		{"OA: a website app's appid", oa(webApp, cb, "code", "snsapi_base", "s"), "10016"},
		{"OA: no redirect_uri", oa(oaApp, "", "code", "snsapi_base", "s"), "redirect_uri不能为空"},
		{"OA: unregistered domain", oa(oaApp, url.QueryEscape("http://evil.example/cb"), "code", "snsapi_base", "s"), "10003"},
		{"OA: a subdomain", oa(oaApp, url.QueryEscape("http://a.localhost/cb"), "code", "snsapi_base", "s"), "10003"},
		{"OA: another scheme", oa(oaApp, url.QueryEscape("ftp://127.0.0.1/cb"), "code", "snsapi_base", "s"), "10003"},
		{"OA: a relative redirect_uri", oa(oaApp, url.QueryEscape("/cb"), "code", "snsapi_base", "s"), "10003"},
		{"OA: response_type token", oa(oaApp, cb, "token", "snsapi_base", "s"), "参数错误"},
		{"OA: no scope", oa(oaApp, cb, "code", "", "s"), "scope不能为空"},
		{"OA: the website scope", oa(oaApp, cb, "code", "snsapi_login", "s"), "10005"},
		{"OA: state with a dash", oa(oaApp, cb, "code", "snsapi_base", "a-b"), "参数错误"},
		{"OA: state too long", oa(oaApp, cb, "code", "snsapi_base", strings.Repeat("a", 129)), "参数错误"},
		{"OA: wrong order", "/connect/oauth2/authorize?redirect_uri=" + cb + "&appid=" + oaApp +
			"&response_type=code&scope=snsapi_base&state=s", "参数错误"},
		{"OA: state before scope", "/connect/oauth2/authorize?appid=" + oaApp + "&redirect_uri=" + cb +
			"&response_type=code&state=s&scope=snsapi_base", "参数错误"},
		{"OA: another parameter first", "/connect/oauth2/authorize?x=1&appid=" + oaApp + "&redirect_uri=" + cb +
			"&response_type=code&scope=snsapi_base&state=s", "参数错误"},
		{"OA: state after another parameter", oa(oaApp, cb, "code", "snsapi_base", "") + "x&lang=en&state=s", "参数错误"},
		{"OA: appid twice", oa(oaApp, cb, "code", "snsapi_base", "s") + "&appid=" + oaApp, "参数错误"},
		{"QR: unknown appid", qr("wxnope", cb, "code", "snsapi_login", "s"), "AppID 参数错误"},
		{"QR: an OA's appid", qr(oaApp, cb, "code", "snsapi_login", "s"), "AppID 参数错误"},
		{"QR: no appid", qr("", cb, "code", "snsapi_login", "s"), "AppID 参数错误"},
		{"QR: unregistered domain", qr(webApp, url.QueryEscape("https://evil.example/cb"), "code", "snsapi_login", "s"), "redirect_uri 参数错误"},
		{"QR: no redirect_uri", qr(webApp, "", "code", "snsapi_login", "s"), "redirect_uri 参数错误"},
		{"QR: an OA scope", qr(webApp, cb, "code", "snsapi_base", "s"), "Scope 参数错误"},
		{"QR: no scope", qr(webApp, cb, "code", "", "s"), "Scope 参数错误"},
		{"QR: response_type", qr(webApp, cb, "", "snsapi_login", "s"), "参数错误"},
		{"QR: state with a space", qr(webApp, cb, "code", "snsapi_login", "a%20b"), "参数错误"},
		{"QR: wrong order", "/connect/qrconnect?appid=" + webApp + "&response_type=code&redirect_uri=" + cb +
			"&scope=snsapi_login&state=s", "参数错误"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErrorPage(t, f.get(tc.path, wechatUA), tc.msg)
		})
	}
	// what is accepted: no state, and more parameters after the five
	f.wx.SetWebUser(webApp, "alice", true)
	for _, path := range []string{
		qr(webApp, cb, "code", "snsapi_login", "s") + "&lang=en&self_redirect=false",
		"/connect/qrconnect?appid=" + webApp + "&redirect_uri=" + cb + "&response_type=code&scope=snsapi_login",
		"/connect/qrconnect?appid=" + webApp + "&redirect_uri=" + cb + "&response_type=code&scope=snsapi_login&lang=en",
		qr(webApp, url.QueryEscape("http://LOCALHOST:1234/cb"), "code", "snsapi_login", "s"),
		qr(webApp, url.QueryEscape("http://[::1]:1234/cb"), "code", "snsapi_login", "s"),
		qr(webApp, cb, "code", "snsapi_login", strings.Repeat("Z9", 64)),
	} {
		if p := f.get(path, ""); p.status != http.StatusFound {
			t.Errorf("%s: HTTP %d %s", path, p.status, p.body)
		}
	}
	if p := f.send(must(http.NewRequest("POST", f.url+qr(webApp, cb, "code", "snsapi_login", "s"), nil))); p.status != 405 {
		t.Errorf("POST to the QR page: HTTP %d", p.status)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestWebDomains(t *testing.T) {
	f := newWebFixture(t)
	f.wx.SetWebUser(webApp, "alice", true)
	path := func(redirect string) string {
		return "/connect/qrconnect?" + authorizeQuery(webApp, redirect, "snsapi_login", "s")
	}
	if !f.wx.SetWebDomains(webApp, "app.example", "api.example:8443") {
		t.Fatal("SetWebDomains refused a browser app")
	}
	for redirect, ok := range map[string]bool{
		"https://app.example/wx/web/callback":      true,
		"http://App.Example:8080/wx/web/callback":  true,
		"https://api.example:8443/wx/web/callback": true,
		"https://api.example/wx/web/callback":      false,
		"https://sub.app.example/cb":               false,
		"https://app.example.evil/cb":              false,
		"http://127.0.0.1:8080/wx/web/callback":    false, // the defaults no longer apply
	} {
		p := f.get(path(redirect), "")
		if got := p.status == http.StatusFound; got != ok {
			t.Errorf("%s: HTTP %d, want accepted %v", redirect, p.status, ok)
		}
	}
	f.wx.SetWebDomains(webApp) // back to the defaults
	if p := f.get(path("http://127.0.0.1:8080/cb"), ""); p.status != http.StatusFound {
		t.Errorf("defaults: HTTP %d", p.status)
	}
	if f.wx.SetWebDomains(testApp, "x") || f.wx.SetWebUser(testApp, "alice", true) {
		t.Error("a mini program's appid was taken as a browser app's")
	}
	if f.wx.SetWebUser(webApp, "al ice", true) || f.wx.SetWebUser(webApp, "nope-alice", true) {
		t.Error("SetWebUser took a bad spec")
	}
}

func TestWebTokenErrors(t *testing.T) {
	f := newWebFixture(t)
	good, err := f.wx.MintWebCode(webApp, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return "/sns/oauth2/access_token?" + v.Encode()
	}
	for _, tc := range []struct {
		name, path string
		errcode    int
	}{
		{"no appid", q("secret", webSecret, "code", good, "grant_type", "authorization_code"), 41002},
		{"no secret", q("appid", webApp, "code", good, "grant_type", "authorization_code"), 41004},
		{"unknown appid", q("appid", "wxnope", "secret", "x", "code", good, "grant_type", "authorization_code"), 40013},
		{"a mini program's appid", q("appid", testApp, "secret", testSecret, "code", good, "grant_type", "authorization_code"), 40013},
		{"wrong secret", q("appid", webApp, "secret", "wrong", "code", good, "grant_type", "authorization_code"), 40125},
		{"another app's secret", q("appid", webApp, "secret", oaSecret, "code", good, "grant_type", "authorization_code"), 40125},
		{"no code", q("appid", webApp, "secret", webSecret, "grant_type", "authorization_code"), 41008},
		{"grant_type", q("appid", webApp, "secret", webSecret, "code", good, "grant_type", "client_credential"), 40002},
		{"another app's code", q("appid", looseApp, "secret", "loose", "code", good, "grant_type", "authorization_code"), 40029},
		{"an unknown code", q("appid", webApp, "secret", webSecret, "code", "whatever", "grant_type", "authorization_code"), 40029},
		{"bad-", q("appid", webApp, "secret", webSecret, "code", "bad-1", "grant_type", "authorization_code"), 40029},
		{"busy-", q("appid", webApp, "secret", webSecret, "code", "busy-1", "grant_type", "authorization_code"), -1},
		{"limit-", q("appid", webApp, "secret", webSecret, "code", "limit-1", "grant_type", "authorization_code"), 45011},
		{"ok- with a bad user", q("appid", webApp, "secret", webSecret, "code", "ok-a%b", "grant_type", "authorization_code"), 40029},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := f.do("GET", tc.path, nil)
			if a.ctype != "text/plain" {
				t.Errorf("Content-Type %q", a.ctype)
			}
			wantErrcode(t, a, tc.errcode)
		})
	}
	// none of the refused requests used the code up
	if a := f.exchange(webApp, webSecret, good); a.str("openid") != OpenID(webApp, "alice") {
		t.Fatalf("the good code after refusals: %s", a.body)
	}
	wantErrcode(t, f.do("POST", "/sns/oauth2/access_token", nil), 43001)
	// gateway pages and broken answers
	if a := f.exchange(webApp, webSecret, "html-1"); a.status != 200 || !strings.HasPrefix(a.ctype, "text/html") {
		t.Fatalf("html-: HTTP %d %s", a.status, a.ctype)
	}
	if a := f.exchange(webApp, webSecret, "http500-1"); a.status != 500 {
		t.Fatalf("http500-: HTTP %d", a.status)
	}
	if a := f.exchange(webApp, webSecret, "trunc-1"); a.m != nil || a.body == "" {
		t.Fatalf("trunc-: %q", a.body)
	}
	if a := f.exchange(webApp, webSecret, "slow-1-frank"); a.str("openid") != OpenID(webApp, "frank") {
		t.Fatalf("slow-: %s", a.body)
	}
	// steered codes are single use per app too
	wantErrcode(t, f.exchange(webApp, webSecret, "slow-1-frank"), 40163)
	if _, err := f.wx.MintWebCode(webApp, "alice", "snsapi_base"); err == nil {
		t.Error("MintWebCode took an OA scope for a website app")
	}
	if _, err := f.wx.MintWebCode(testApp, "alice", ""); err == nil {
		t.Error("MintWebCode took a mini program")
	}
	if _, err := f.wx.MintWebCode(webApp, "deny", ""); err == nil {
		t.Error("MintWebCode took deny")
	}
}

func TestWebCodesExpire(t *testing.T) {
	f := newWebFixture(t)
	minted, _ := f.wx.MintWebCode(oaApp, "alice", "snsapi_userinfo")
	f.wx.MintCode(oaApp, "ok-bob.1")
	f.wx.Advance(CodeTTL - time.Second)
	fresh, _ := f.wx.MintWebCode(oaApp, "carol", "")
	f.wx.Advance(time.Second)
	wantErrcode(t, f.exchange(oaApp, oaSecret, minted), 40029)
	wantErrcode(t, f.exchange(oaApp, oaSecret, "ok-bob.1"), 40029)
	if a := f.exchange(oaApp, oaSecret, fresh); a.str("openid") != OpenID(oaApp, "carol") || a.str("scope") != "snsapi_base" {
		t.Fatalf("a code 1 s old: %s", a.body)
	}
}

func TestWebFakeControls(t *testing.T) {
	f := newWebFixture(t)
	cb := "http://127.0.0.1:8080/wx/web/callback"
	status := func(method, path string) int {
		t.Helper()
		return f.do(method, path, nil).status
	}
	if s := status("POST", "/fake/web_user?appid="+webApp+"&user=grace&auto=1"); s != 204 {
		t.Fatalf("web_user: %d", s)
	}
	code := returned(t, f.get("/connect/qrconnect?"+authorizeQuery(webApp, cb, "snsapi_login", "s"), ""), cb+"?", "s")
	if a := f.exchange(webApp, webSecret, code); a.str("openid") != OpenID(webApp, "grace") {
		t.Fatalf("after /fake/web_user: %s", a.body)
	}
	if s := status("POST", "/fake/web_domains?appid="+webApp+"&domain=app.example&domain=other.example"); s != 204 {
		t.Fatalf("web_domains: %d", s)
	}
	wantErrorPage(t, f.get("/connect/qrconnect?"+authorizeQuery(webApp, cb, "snsapi_login", "s"), ""), "redirect_uri 参数错误")
	if s := status("POST", "/fake/web_domains?appid="+webApp); s != 204 {
		t.Fatalf("web_domains back to the defaults: %d", s)
	}
	a := f.do("POST", "/fake/web_code?appid="+oaApp+"&user=henry&scope=snsapi_userinfo", nil)
	if a.status != 200 || a.str("code") == "" {
		t.Fatalf("web_code: %d %s", a.status, a.body)
	}
	if b := f.exchange(oaApp, oaSecret, a.str("code")); b.str("openid") != OpenID(oaApp, "henry") || b.str("scope") != "snsapi_userinfo" {
		t.Fatalf("a code from /fake/web_code: %s", b.body)
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/fake/web_user?appid=" + webApp + "&user=a", 405},
		{"POST", "/fake/web_user?appid=" + testApp + "&user=a", 404},
		{"POST", "/fake/web_user?appid=" + webApp + "&user=a%20b", 400},
		{"POST", "/fake/web_user?appid=" + webApp + "&user=", 204},
		{"POST", "/fake/web_domains?appid=wxnope", 404},
		{"POST", "/fake/web_code?appid=" + webApp + "&user=deny", 400},
		{"POST", "/fake/web_code?appid=" + webApp + "&user=a&scope=snsapi_base", 400},
		{"GET", "/fake/web_code?appid=" + webApp + "&user=a", 405},
	} {
		if s := status(tc.method, tc.path); s != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, s, tc.want)
		}
	}
	st := f.do("GET", "/fake/stats", nil)
	for _, e := range []string{EndpointAuthorize, EndpointQRConnect, EndpointOAuthToken} {
		if _, ok := st.m[e]; !ok {
			t.Errorf("stats lack %s: %s", e, st.body)
		}
	}
}

func TestWebAppKindChecked(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "WebApps") {
			t.Fatalf("New with a bad kind: %v", r)
		}
	}()
	New(Config{WebApps: map[string]WebApp{"wx1": {Kind: "mini", Secret: "s"}}})
}
