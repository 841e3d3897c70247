package wechatauth_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// The repository's Caddyfile (what `go run ./cmd/demo` runs) works as the
// README says: log in, call the app, see the identity headers.
func TestRepoCaddyfileRunsTheDemo(t *testing.T) {
	e := newEnv(t, "")
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
	e.loadCaddyfile(string(raw))

	tok := e.login("", "ok-alice")
	up := e.do("GET", "/api/hello", "", bearer(tok)...).upstream(t)
	if up.Headers.Get("X-WX-OpenID") != fakewx.OpenID(appA, "alice") {
		t.Errorf("demo upstream got %v", up.Headers)
	}
	if got := e.do("GET", "/api/hello", "").errorCode(t, 401); got != "unauthorized" {
		t.Errorf("demo without token: %q", got)
	}
}
