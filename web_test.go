package wechatauth_test

// WeChat in the browser (contract v3): the login through the fake's
// authorize pages, the cookie, the handoff from the mini program, and
// the security checks, over HTTP through a real Caddy.

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/echoserver"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// The browser apps the fake knows.
const (
	appOA     = "wxoaapp000000001"
	secretOA  = "secret-of-the-official-account-1"
	appWeb    = "wxwebapp00000001"
	secretWeb = "secret-of-the-website-app-000001"
)

// webSites: one block with mini program app A, an Official Account and a
// website application, in front of the echo upstream with its /web/ page.
const webSites = `
http://127.0.0.1:{{.Port}} {
	handle {
		wechat_auth {
			{{template "appAApp" .}}
			app ` + appOA + ` {
				platform wechat_oa
				app_secret ` + secretOA + `
				api_base {{.WeChat}}
				open_base {{.WeChat}}
			}
			app ` + appWeb + ` {
				platform wechat_web
				app_secret ` + secretWeb + `
				api_base {{.WeChat}}
				open_base {{.WeChat}}
			}
			session_ttl 2h
			timeout 1s
			failure_limit 3/1m
		}
		reverse_proxy {{.Vars.Page}}
	}
}
`

func newWebEnv(t *testing.T) *env {
	t.Helper()
	return newWebEnvWith(t, "")
}

// newWebEnvWith is newWebEnv with more lines in the block (store
// settings, assertion).
func newWebEnvWith(t *testing.T, extra string) *env {
	t.Helper()
	return newEnvOpts(t, webSitesWith(extra), webOptions(t, false))
}

// webSitesWith is webSites with more lines in the block.
func webSitesWith(extra string) string {
	return strings.Replace(webSites, "failure_limit 3/1m", "failure_limit 3/1m\n\t\t\t"+extra, 1)
}

// webOptions are the browser apps' world: the fake WeChat's Official
// Account and website app, the upstream's /web/ page, their secrets;
// process: Caddy as a child process (envOptions.Process).
func webOptions(t *testing.T, process bool) envOptions {
	t.Helper()
	page := httptest.NewServer(echoserver.WithWebPage(echoserver.Handler(nil)))
	t.Cleanup(page.Close)
	return envOptions{
		Vars: map[string]string{"Page": strings.TrimPrefix(page.URL, "http://")},
		WeChat: fakewx.Config{WebApps: map[string]fakewx.WebApp{
			appOA:  {Kind: fakewx.OfficialAccount, Secret: secretOA},
			appWeb: {Kind: fakewx.WebsiteApp, Secret: secretWeb, UnionID: true},
		}},
		Secrets: map[string]string{secretOA: "the OA's secret", secretWeb: "the website app's secret"},
		Process: process,
	}
}

// browser is a browser: its own cookies, redirects followed by hand.
type browser struct {
	t  *testing.T
	e  *env
	c  *http.Client
	ua string
}

func newBrowser(e *env, ua string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, ua: ua, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a navigation (Accept text/html) unless hdr says otherwise.
func (b *browser) do(method, target string, hdr ...string) answer {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.e.base + target
	}
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("User-Agent", b.ua)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		body.WriteString(string(buf[:n]))
		if err != nil {
			break
		}
	}
	return answer{resp.StatusCode, resp.Header, []byte(body.String())}
}

func wantRedirect(t *testing.T, a answer) string {
	t.Helper()
	if a.status != http.StatusFound || a.header.Get("Location") == "" {
		t.Fatalf("status %d, want a 302: %s", a.status, a.body)
	}
	return a.header.Get("Location")
}

// startLogin asks Caddy to log in and returns the authorize page's URL.
func (b *browser) startLogin(next string) string {
	b.t.Helper()
	return wantRedirect(b.t, b.do("GET", "/wx/web/login?next="+url.QueryEscape(next)))
}

// toCallback follows the authorize page (its user confirms at once) and
// returns the callback URL it sends the browser to.
func (b *browser) toCallback(authorize string) string {
	b.t.Helper()
	return wantRedirect(b.t, b.do("GET", authorize))
}

// login runs the whole flow and returns the callback's answer.
func (b *browser) login(next string) answer {
	b.t.Helper()
	return b.do("GET", b.toCallback(b.startLogin(next)))
}

func sessionCookieOf(a answer) string {
	for _, c := range a.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "wx_session=") {
			return c
		}
	}
	return ""
}

func TestWebLoginWebsiteQR(t *testing.T) {
	e := newWebEnv(t)
	e.wx.SetWebUser(appWeb, "alice", true)
	b := newBrowser(e, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120")

	authorize := b.startLogin("/api/me?x=1")
	wantPrefix := e.wxURL + "/connect/qrconnect?appid=" + appWeb + "&redirect_uri=" +
		url.QueryEscape(e.base+"/wx/web/callback") + "&response_type=code&scope=snsapi_login&state="
	if !strings.HasPrefix(authorize, wantPrefix) || !strings.HasSuffix(authorize, "#wechat_redirect") {
		t.Fatalf("authorize URL\n %s\nwant\n %s…#wechat_redirect", authorize, wantPrefix)
	}
	cb := b.do("GET", b.toCallback(authorize))
	if loc := wantRedirect(t, cb); loc != "/api/me?x=1" {
		t.Fatalf("callback sends the browser to %q", loc)
	}
	sc := sessionCookieOf(cb)
	for _, flag := range []string{"Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(sc, flag) {
			t.Fatalf("cookie %q lacks %s", sc, flag)
		}
	}
	if strings.Contains(sc, "Secure") || strings.Contains(sc, "Max-Age") {
		t.Fatalf("cookie %q: Secure on HTTP, or a lifetime", sc)
	}
	e.secret(strings.TrimPrefix(strings.SplitN(sc, ";", 2)[0], "wx_session="), "a cookie session token")

	// the cookie authenticates; it is not passed on, other cookies are
	up := b.do("GET", "/api/me", "Accept", "application/json", "Cookie", "theme=dark; "+strings.SplitN(sc, ";", 2)[0]+"; lang=zh").upstream(t)
	if got := up.Headers.Get("X-Wx-Openid"); got != fakewx.OpenID(appWeb, "alice") {
		t.Fatalf("X-WX-OpenID %q", got)
	}
	if up.Headers.Get("X-Wx-Platform") != "wechat_web" || up.Headers.Get("X-Wx-Appid") != appWeb ||
		up.Headers.Get("X-Wx-Unionid") != fakewx.UnionID("alice") {
		t.Fatalf("identity headers %v", up.Headers)
	}
	if c := up.Headers.Get("Cookie"); c != "theme=dark; lang=zh" {
		t.Fatalf("upstream got Cookie %q, want the others only", c)
	}

	// logout from another site: refused, the session lives
	e.do("POST", "/wx/logout", "", "Cookie", strings.SplitN(sc, ";", 2)[0], "Origin", "http://evil.example").
		errorCode(t, http.StatusForbidden)
	for _, h := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "null"}, {"Sec-Fetch-Site", "cross-site", "Origin", e.base}} {
		if c := b.do("POST", "/wx/logout", append(h, "Accept", "application/json")...).errorCode(t, http.StatusForbidden); c != "cross_site_request" {
			t.Fatalf("logout with %v: %s", h, c)
		}
	}
	b.do("GET", "/api/me", "Accept", "application/json").upstream(t)
	a := b.do("POST", "/wx/logout", "Sec-Fetch-Site", "same-origin", "Origin", e.base, "Accept", "application/json")
	if a.status != http.StatusNoContent || !strings.Contains(sessionCookieOf(a), "Max-Age=0") {
		t.Fatalf("logout: %d, Set-Cookie %q", a.status, a.header.Values("Set-Cookie"))
	}
	// the session is dead even with the old cookie
	if code := e.do("GET", "/api/me", "", "Cookie", strings.SplitN(sc, ";", 2)[0]).errorCode(t, 401); code != "invalid_token" {
		t.Fatalf("after logout: %s", code)
	}
	// a navigation without a session goes to the login
	if loc := wantRedirect(t, b.do("GET", "/orders?id=7", "Accept", "text/html")); loc != "/wx/web/login?next=%2Forders%3Fid%3D7" {
		t.Fatalf("navigation redirect to %q", loc)
	}
}

func TestWebLoginOfficialAccount(t *testing.T) {
	e := newWebEnv(t)
	e.wx.SetWebUser(appOA, "bob", true)
	b := newBrowser(e, "Mozilla/5.0 (iPhone) MicroMessenger/8.0.47")
	authorize := b.startLogin("/")
	if !strings.HasPrefix(authorize, e.wxURL+"/connect/oauth2/authorize?appid="+appOA+"&") || !strings.Contains(authorize, "&scope=snsapi_base&") {
		t.Fatalf("authorize URL %s", authorize)
	}
	cb := b.do("GET", b.toCallback(authorize))
	if wantRedirect(t, cb) != "/" || sessionCookieOf(cb) == "" {
		t.Fatalf("callback: %v", cb.header)
	}
	up := b.do("GET", "/api/me", "Accept", "application/json").upstream(t)
	if up.Headers.Get("X-Wx-Openid") != fakewx.OpenID(appOA, "bob") || up.Headers.Get("X-Wx-Platform") != "wechat_oa" {
		t.Fatalf("identity headers %v", up.Headers)
	}
}

func TestWebLoginStateChecks(t *testing.T) {
	e := newWebEnv(t)
	e.wx.SetWebUser(appWeb, "alice", true)
	b := newBrowser(e, "Firefox")
	calls := func() int { return e.wx.Count(fakewx.EndpointOAuthToken) }

	// forged: never handed out
	before := calls()
	for _, state := range []string{"0123456789abcdef0123456789abcdef0123456789abcdef", "", "bad-state", strings.Repeat("a", 200)} {
		a := b.do("GET", "/wx/web/callback?code=ok-alice&state="+url.QueryEscape(state), "Accept", "application/json")
		if code := a.errorCode(t, http.StatusForbidden); code != "invalid_state" {
			t.Fatalf("forged state %q: %s", state, code)
		}
	}
	// from another browser: refused, and used up
	cb := b.toCallback(b.startLogin("/"))
	other := newBrowser(e, "Firefox")
	if code := other.do("GET", cb, "Accept", "application/json").errorCode(t, 403); code != "invalid_state" {
		t.Fatalf("another browser's state: %s", code)
	}
	if code := b.do("GET", cb, "Accept", "application/json").errorCode(t, 403); code != "invalid_state" {
		t.Fatalf("a state tried by another browser, then by its own: %s", code)
	}
	// reused
	cb = b.toCallback(b.startLogin("/"))
	wantRedirect(t, b.do("GET", cb))
	if code := b.do("GET", cb, "Accept", "application/json").errorCode(t, 403); code != "invalid_state" {
		t.Fatalf("a reused state: %s", code)
	}
	if n := calls() - before; n != 1 {
		t.Fatalf("%d code exchanges, want 1: a refused state never reaches WeChat", n)
	}
	// the page of a refused state, for a navigation: HTML
	a := b.do("GET", cb, "Accept", "text/html")
	if a.status != 403 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(string(a.body), "invalid_state") {
		t.Fatalf("navigation to a refused state: %d %q %s", a.status, a.header.Get("Content-Type"), a.body)
	}
}

func TestWebLoginNextIsLocal(t *testing.T) {
	e := newWebEnv(t)
	e.wx.SetWebUser(appWeb, "alice", true)
	b := newBrowser(e, "Firefox")
	for next, want := range map[string]string{
		"//evil.example":       "/",
		"https://evil.example": "/",
		"/\\evil.example":      "/",
		"/%2F%2Fevil.example":  "/",
		"javascript:alert(1)":  "/",
		"/orders?id=7#top":     "/orders?id=7#top",
	} {
		if loc := wantRedirect(t, b.login(next)); loc != want {
			t.Errorf("next %q: sent to %q, want %q", next, loc, want)
		}
	}
}

func TestWebLoginRefusals(t *testing.T) {
	e := newWebEnv(t)
	b := newBrowser(e, "Firefox")

	// a snapshot user: no session
	e.wx.SetWebUser(appWeb, "snapshot-alice", true)
	a := b.do("GET", b.toCallback(b.startLogin("/")), "Accept", "application/json")
	if code := a.errorCode(t, http.StatusForbidden); code != "snapshot_user" || sessionCookieOf(a) != "" {
		t.Fatalf("snapshot user: %s, cookie %q", code, sessionCookieOf(a))
	}

	// WeChat down at the callback: a clear page, no session
	e.wx.SetWebUser(appWeb, "http500-alice", true)
	a = b.do("GET", b.toCallback(b.startLogin("/")))
	if a.status != http.StatusBadGateway || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || sessionCookieOf(a) != "" {
		t.Fatalf("WeChat down: %d %q, cookie %q", a.status, a.header.Get("Content-Type"), sessionCookieOf(a))
	}

	// a code of another app, with a good state
	e.wx.SetWebUser(appWeb, "", false)
	authorize := b.startLogin("/")
	u, _ := url.Parse(authorize)
	code, err := e.wx.MintWebCode(appOA, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	a = b.do("GET", "/wx/web/callback?code="+url.QueryEscape(code)+"&state="+u.Query().Get("state"), "Accept", "application/json")
	if c := a.errorCode(t, http.StatusUnauthorized); c != "invalid_code" {
		t.Fatalf("another app's code: %s", c)
	}

	// the failure limit counts refused callback codes (3/1m: that was
	// one; two more, then the address is limited)
	e.wx.SetWebUser(appWeb, "bad-alice", true)
	for i := 0; i < 2; i++ {
		b.do("GET", b.toCallback(b.startLogin("/")), "Accept", "application/json").errorCode(t, http.StatusUnauthorized)
	}
	e.wx.SetWebUser(appWeb, "alice", true)
	a = b.do("GET", b.toCallback(b.startLogin("/")), "Accept", "application/json")
	if c := a.errorCode(t, http.StatusTooManyRequests); c != "too_many_failures" || sessionCookieOf(a) != "" {
		t.Fatalf("after 3 refused codes: %s", c)
	}
}

func TestWebViewHandoff(t *testing.T) {
	e := newWebEnv(t)
	tok := e.login("", "ok-carol")
	a := e.do("POST", "/wx/ticket", "", bearer(tok)...)
	if a.status != 200 {
		t.Fatalf("ticket: %d %s", a.status, a.body)
	}
	m := a.json(t)
	ticket, _ := m["ticket"].(string)
	if ticket == "" || m["expires_in"] != float64(60) {
		t.Fatalf("ticket answer %s", a.body)
	}
	e.secret(ticket, "a handoff ticket")
	b := newBrowser(e, "Mozilla/5.0 MicroMessenger miniProgram")
	h := b.do("GET", "/wx/web/handoff?ticket="+ticket+"&next=%2Fshop")
	if wantRedirect(t, h) != "/shop" || sessionCookieOf(h) == "" {
		t.Fatalf("handoff: %v", h.header)
	}
	up := b.do("GET", "/api/me", "Accept", "application/json").upstream(t)
	if up.Headers.Get("X-Wx-Openid") != fakewx.OpenID(appA, "carol") || up.Headers.Get("X-Wx-Appid") != appA ||
		up.Headers.Get("X-Wx-Platform") != "wechat" {
		t.Fatalf("handoff identity %v", up.Headers)
	}
	// used, guessed, missing
	for _, q := range []string{ticket, "0123456789abcdef0123456789abcdef0123456789abcdef", "x-y"} {
		if c := e.do("GET", "/wx/web/handoff?ticket="+q, "").errorCode(t, http.StatusUnauthorized); c != "invalid_ticket" {
			t.Fatalf("ticket %q: %s", q, c)
		}
	}
	// a ticket needs a Bearer session
	if c := e.do("POST", "/wx/ticket", "").errorCode(t, 401); c != "unauthorized" {
		t.Fatalf("ticket without a session: %s", c)
	}
	// logout everywhere ends the browser's session too
	if a := e.do("POST", "/wx/logout", `{"all":true}`, bearer(tok)...); a.status != 200 || a.json(t)["revoked"] != float64(2) {
		t.Fatalf("logout everywhere: %d %s", a.status, a.body)
	}
	if c := b.do("GET", "/api/me", "Accept", "application/json").errorCode(t, 401); c != "invalid_token" {
		t.Fatalf("after logout everywhere: %s", c)
	}
}
