package wechatauth_test

import (
	"fmt"
	"os"
	"testing"

	fakeworld "github.com/wechat-auth/wechat_auth/internal/fake/world"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// The demo's browser apps (the repo's Caddyfile's defaults).
const (
	demoOA  = "wxdemooa00000001"
	demoWeb = "wxdemoweb0000001"
)

// The repository's Caddyfile (what `go run ./cmd/demo` runs) works as the
// README says: log in, call the app, see the identity headers.
func TestRepoCaddyfileRunsTheDemo(t *testing.T) {
	e, w := newPlatformEnvWith(t, "", fakewx.Config{WebApps: map[string]fakewx.WebApp{
		demoOA:  {Kind: fakewx.OfficialAccount, Secret: secretOA},
		demoWeb: {Kind: fakewx.WebsiteApp, Secret: secretWeb},
	}})
	raw, err := os.ReadFile("Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("WX_DEMO_PORT", fmt.Sprint(e.port))
	t.Setenv("WX_DEMO_ADMIN", e.adminURL[len("http://"):])
	t.Setenv("WX_DEMO_GATEWAY_PORT", fmt.Sprint(freePort(t)))
	t.Setenv("WX_APP_ID", appA)
	t.Setenv("WX_APP_SECRET", secretA)
	t.Setenv("WX_API_BASE", e.wxURL)
	t.Setenv("WX_OPEN_BASE", e.wxURL)
	t.Setenv("WX_OA_SECRET", secretOA)
	t.Setenv("WX_WEB_SECRET", secretWeb)
	t.Setenv("UPSTREAM", e.upURL[len("http://"):])
	t.Setenv("WX_DEMO_KEYS", e.extra["Keys"])
	t.Setenv("WX_DOUYIN_SECRET", fakeworld.DemoDouyinSecret)
	e.loadCaddyfile(string(raw))

	tok := e.login("", "ok-alice")
	up := e.do("GET", "/api/hello", "", bearer(tok)...).upstream(t)
	if up.Headers.Get("X-WX-OpenID") != fakewx.OpenID(appA, "alice") {
		t.Errorf("demo upstream got %v", up.Headers)
	}
	if got := e.do("GET", "/api/hello", "").errorCode(t, 401); got != "unauthorized" {
		t.Errorf("demo without token: %q", got)
	}

	// the browser: /web/ sends a navigation to the QR login, and back
	e.wx.SetWebUser(demoWeb, "alice", true)
	b := newBrowser(e, "Firefox")
	login := wantRedirect(t, b.do("GET", "/web/"))
	if login != "/wx/web/login?next=%2Fweb%2F" {
		t.Fatalf("/web/ without a session: sent to %q", login)
	}
	if next := wantRedirect(t, b.do("GET", b.toCallback(wantRedirect(t, b.do("GET", login))))); next != "/web/" {
		t.Fatalf("the callback sends the browser to %q", next)
	}
	up = b.do("GET", "/api/hello", "Accept", "application/json").upstream(t)
	if up.Headers.Get("X-WX-OpenID") != fakewx.OpenID(demoWeb, "alice") || up.Headers.Get("X-WX-Platform") != "wechat_web" {
		t.Errorf("demo upstream got %v", up.Headers)
	}

	// /every/: WeChat, Douyin and Alipay in one block, the keys from files
	for _, c := range []struct{ app, code, platform string }{
		{appA, "ok-bob", "wechat"},
		{fakeworld.DemoDouyinID, w.Douyin.MintCode(fakeworld.DemoDouyinID, "bob"), "douyin"},
		{fakeworld.DemoAlipayID, w.Alipay.MintCode(fakeworld.DemoAlipayID, "bob"), "alipay"},
	} {
		tok := e.loginApp("/every", c.app, c.code)
		if h := e.identity("/every/api/hello", tok); h.Get("X-Wx-Platform") != c.platform || h.Get("X-Wx-Appid") != c.app {
			t.Errorf("/every/ %s: %v", c.platform, h)
		}
	}
	e.checkLogHasNoSecrets()
}
