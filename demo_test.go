package wechatauth_test

import (
	"fmt"
	"os"
	"testing"

	fakeworld "github.com/wechat-auth/wechat_auth/internal/fake/world"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// The repository's Caddyfile (what `go run ./cmd/demo` runs) works as the
// README says: log in, call the app, see the identity headers.
func TestRepoCaddyfileRunsTheDemo(t *testing.T) {
	e, w := newPlatformEnv(t, "")
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
