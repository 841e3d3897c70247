package wechatauth_test

// WeChat in the browser in a real browser: headless Chromium (Debian's,
// internal/testbrowser) through a real Caddy and the fake WeChat's pages.
// It skips without Chromium (fails with WXAUTH_REQUIRE_TOOLS=1, as
// .ci/run sets). WXAUTH_SCREENSHOTS=1 rewrites docs/web-login.png, the
// README's screenshot, from the logged-in page.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/testbrowser"
	"github.com/wechat-auth/wechat_auth/internal/weblogin"
)

func TestWebLoginInChromium(t *testing.T) {
	t.Parallel()
	e := newEnvOpts(t, webSites, webOptions(t, true))
	b := testbrowser.Start(t)

	// the website application's QR page, where the user confirms
	b.Navigate(e.base + "/web/")
	if loc := b.Location(); !strings.HasPrefix(loc, e.wxURL+"/connect/qrconnect?appid="+appWeb+"&") {
		t.Fatalf("/web/ without a session: the browser is at %s, not the QR page", loc)
	}
	b.SetValue("#wx-user", "dave")
	b.Click("#wx-confirm")
	b.WaitLocation(e.base + "/web/")
	if got := b.Text("#openid"); got != fakewx.OpenID(appWeb, "dave") {
		t.Fatalf("the page shows %q, want dave's openid", got)
	}
	if got := b.Text("#identity"); !strings.Contains(got, "wechat_web") || !strings.Contains(got, appWeb) {
		t.Fatalf("identity on the page: %q", got)
	}
	c, ok := b.Cookie(weblogin.SessionCookieName)
	if !ok || !c.HTTPOnly || c.SameSite != "Lax" || c.Path != "/" || c.Secure || !c.Session {
		t.Fatalf("wx_session cookie %+v (found %v)", c, ok)
	}
	e.secret(c.Value, "a cookie session token")
	if got := b.Text("#cookies"); strings.Contains(got, "wx_session") {
		t.Fatalf("the backend got the cookie: %q", got)
	}
	shot := filepath.Join(t.TempDir(), "web-login.png")
	if os.Getenv("WXAUTH_SCREENSHOTS") == "1" {
		shot = filepath.Join("docs", "web-login.png")
	}
	if err := testbrowser.NotBlank(b.Screenshot(shot)); err != nil {
		t.Fatalf("the logged-in page's screenshot: %v", err)
	}

	// logout: the session ends, /web/ asks for a login again
	b.Click("#logout")
	// the form's POST answers 204 with the cookie cleared: wait for it
	for deadline := time.Now().Add(testbrowser.Timeout); ; time.Sleep(20 * time.Millisecond) {
		if _, ok := b.Cookie(weblogin.SessionCookieName); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cookie outlived the logout")
		}
	}
	b.Navigate(e.base + "/web/")
	if loc := b.Location(); !strings.HasPrefix(loc, e.wxURL+"/connect/qrconnect?") {
		t.Fatalf("after logout /web/ is %s, not the login", loc)
	}
	if _, ok := b.Cookie(weblogin.SessionCookieName); ok {
		t.Fatal("the cookie outlived the logout")
	}
}

// Inside WeChat's browser (MicroMessenger) the Official Account's page
// authorizes at once (snsapi_base); and the mini program's web-view
// handoff turns a ticket into the same user's cookie session.
func TestOfficialAccountAndHandoffInChromium(t *testing.T) {
	t.Parallel()
	e := newEnvOpts(t, webSites, webOptions(t, true))
	e.wx.SetWebUser(appOA, "erin", false) // snsapi_base: silent, as WeChat
	b := testbrowser.StartWith(t, testbrowser.Options{UserAgent: "Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0.47.2560 NetType/WIFI"})
	b.Navigate(e.base + "/web/")
	b.WaitLocation(e.base + "/web/")
	if got := b.Text("#openid"); got != fakewx.OpenID(appOA, "erin") {
		t.Fatalf("OA login: the page shows %q", got)
	}
	if got := b.Text("#identity"); !strings.Contains(got, "wechat_oa") {
		t.Fatalf("OA identity: %q", got)
	}

	tok := e.login("", "ok-frank")
	a := e.do("POST", "/wx/ticket", "", bearer(tok)...)
	ticket, _ := a.json(t)["ticket"].(string)
	if ticket == "" {
		t.Fatalf("ticket: %d %s", a.status, a.body)
	}
	e.secret(ticket, "a handoff ticket")
	wv := testbrowser.StartWith(t, testbrowser.Options{UserAgent: "Mozilla/5.0 MicroMessenger/8.0.47 miniProgram"})
	wv.Navigate(e.base + "/wx/web/handoff?ticket=" + ticket + "&next=%2Fweb%2F")
	wv.WaitLocation(e.base + "/web/")
	if got := wv.Text("#openid"); got != fakewx.OpenID(appA, "frank") {
		t.Fatalf("handoff: the page shows %q, want the mini program user's openid", got)
	}
	if err := testbrowser.NotBlank(wv.Screenshot(filepath.Join(t.TempDir(), "handoff.png"))); err != nil {
		t.Fatal(err)
	}
}
