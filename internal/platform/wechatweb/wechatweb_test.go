package wechatweb_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/platform/platformtest"
	"github.com/wechat-auth/wechat_auth/internal/platform/wechatweb"
)

const (
	oaApp, oaSecret   = "wxoa000000000001", "oa-secret"
	webApp, webSecret = "wxweb00000000001", "web-secret"
)

func fake(t *testing.T) (*fakewx.Server, *httptest.Server) {
	t.Helper()
	wx := fakewx.New(fakewx.Config{WebApps: map[string]fakewx.WebApp{
		oaApp:  {Kind: fakewx.OfficialAccount, Secret: oaSecret, UnionID: true},
		webApp: {Kind: fakewx.WebsiteApp, Secret: webSecret, UnionID: true},
	}})
	ts := httptest.NewServer(wx)
	t.Cleanup(ts.Close)
	t.Cleanup(wx.Close)
	return wx, ts
}

func client(t *testing.T, ts *httptest.Server, name, app, secret string, opts map[string]string) platform.Client {
	return platformtest.NewClient(t, name, platform.Config{AppID: app, Secret: secret, APIBase: ts.URL,
		HTTPClient: ts.Client(), Options: opts})
}

func TestLogin(t *testing.T) {
	wx, ts := fake(t)
	ctx := context.Background()
	for _, tc := range []struct{ name, app, secret string }{
		{wechatweb.NameOA, oaApp, oaSecret}, {wechatweb.NameWeb, webApp, webSecret},
	} {
		c := client(t, ts, tc.name, tc.app, tc.secret, nil)
		code, err := wx.MintWebCode(tc.app, "alice", "")
		if err != nil {
			t.Fatal(err)
		}
		id, err := c.Login(ctx, code)
		if err != nil || id.OpenID != fakewx.OpenID(tc.app, "alice") || id.SessionKey != "" {
			t.Fatalf("%s: Login = %+v, %v", tc.name, id, err)
		}
		if tc.name == wechatweb.NameWeb && id.UnionID != fakewx.UnionID("alice") {
			t.Fatalf("%s: unionid %q, want the user's", tc.name, id.UnionID)
		}
		// single use
		_, err = c.Login(ctx, code)
		platformtest.WantKind(t, err, platform.KindCodeUsed, "40163", tc.secret)
		// a code of the other app
		other := webApp
		if tc.app == webApp {
			other = oaApp
		}
		foreign, _ := wx.MintWebCode(other, "bob", "")
		_, err = c.Login(ctx, foreign)
		platformtest.WantKind(t, err, platform.KindInvalidCode, "40029", tc.secret)
	}
}

func TestLoginErrors(t *testing.T) {
	_, ts := fake(t)
	ctx := context.Background()
	c := client(t, ts, wechatweb.NameOA, oaApp, oaSecret, nil)
	for _, tc := range []struct {
		code string
		kind platform.Kind
		errc string
	}{
		{"bad-alice", platform.KindInvalidCode, "40029"},
		{"nonsense", platform.KindInvalidCode, "40029"},
		{"busy-alice", platform.KindBusy, "-1"},
		{"limit-alice", platform.KindRateLimited, "45011"},
		{"html-alice", platform.KindBadAnswer, ""},
		{"http500-alice", platform.KindBadAnswer, ""},
		{"empty-alice", platform.KindBadAnswer, ""},
		{"trunc-alice", platform.KindBadAnswer, ""},
		{"", platform.KindInvalidCode, ""},
	} {
		_, err := c.Login(ctx, tc.code)
		platformtest.WantKind(t, err, tc.kind, tc.errc, oaSecret)
	}
	if _, err := c.Login(ctx, "snapshot-alice"); !errors.Is(err, platform.ErrSnapshotUser) {
		t.Fatalf("snapshot user: %v, want ErrSnapshotUser", err)
	}
	wrong := client(t, ts, wechatweb.NameOA, oaApp, "not-the-secret", nil)
	_, err := wrong.Login(ctx, "ok-alice")
	pe := platformtest.WantKind(t, err, platform.KindConfig, "40125", "not-the-secret")
	if pe.Action == "" {
		t.Fatal("config error without an action")
	}
	unknown := client(t, ts, wechatweb.NameWeb, "wxnotabrowserapp1", "s", nil)
	_, err = unknown.Login(ctx, "ok-alice")
	platformtest.WantKind(t, err, platform.KindConfig, "40013")
	down := platformtest.NewClient(t, wechatweb.NameWeb, platform.Config{AppID: webApp, Secret: webSecret, APIBase: "http://127.0.0.1:1"})
	_, err = down.Login(ctx, "ok-alice")
	platformtest.WantKind(t, err, platform.KindUnreachable, "", webSecret)
	if _, err := c.Phone(ctx, platform.PhoneRequest{Code: "x"}); !errors.Is(err, platform.ErrNoPhoneFlow) {
		t.Fatalf("Phone: %v, want ErrNoPhoneFlow", err)
	}
}

func TestAuthorizeURL(t *testing.T) {
	_, ts := fake(t)
	const redirect, state = "https://shop.example/wx/web/callback", "abc123"
	for _, tc := range []struct {
		name, app string
		opts      map[string]string
		want      string
	}{
		{wechatweb.NameOA, oaApp, nil,
			"https://open.weixin.qq.com/connect/oauth2/authorize?appid=" + oaApp + "&redirect_uri=https%3A%2F%2Fshop.example%2Fwx%2Fweb%2Fcallback&response_type=code&scope=snsapi_base&state=abc123#wechat_redirect"},
		{wechatweb.NameOA, oaApp, map[string]string{"scope": "userinfo", "open_base": "http://127.0.0.1:9/"},
			"http://127.0.0.1:9/connect/oauth2/authorize?appid=" + oaApp + "&redirect_uri=https%3A%2F%2Fshop.example%2Fwx%2Fweb%2Fcallback&response_type=code&scope=snsapi_userinfo&state=abc123#wechat_redirect"},
		{wechatweb.NameWeb, webApp, nil,
			"https://open.weixin.qq.com/connect/qrconnect?appid=" + webApp + "&redirect_uri=https%3A%2F%2Fshop.example%2Fwx%2Fweb%2Fcallback&response_type=code&scope=snsapi_login&state=abc123#wechat_redirect"},
	} {
		c := client(t, ts, tc.name, tc.app, "s", tc.opts)
		a, ok := c.(platform.Authorizer)
		if !ok {
			t.Fatalf("%s: not an Authorizer", tc.name)
		}
		if got := a.AuthorizeURL(redirect, state); got != tc.want {
			t.Errorf("%s %v:\n got  %s\n want %s", tc.name, tc.opts, got, tc.want)
		}
	}
}

func TestConfigChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  platform.Config
		want string
	}{
		{wechatweb.NameOA, platform.Config{AppID: "oa1", Secret: "s"}, `app_id must be "wx"`},
		{wechatweb.NameWeb, platform.Config{AppID: webApp}, "app_secret is required"},
		{wechatweb.NameOA, platform.Config{AppID: oaApp, Secret: "s", Options: map[string]string{"scope": "all"}}, `scope "all": want base`},
		{wechatweb.NameWeb, platform.Config{AppID: webApp, Secret: "s", Options: map[string]string{"scope": "base"}}, `unknown option "scope"`},
		{wechatweb.NameOA, platform.Config{AppID: oaApp, Secret: "s", Options: map[string]string{"open_base": "ftp://x"}}, `open_base "ftp://x"`},
		{wechatweb.NameOA, platform.Config{AppID: oaApp, Secret: "s", Options: map[string]string{"open_base": "https://x/?q=1"}}, `open_base`},
	} {
		p, _ := platform.Lookup(tc.name)
		if _, err := p.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %+v: %v, want an error with %q", tc.name, tc.cfg, err, tc.want)
		}
	}
}
