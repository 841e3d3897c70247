package wechatauth_test

// Several apps in one block (contract v3, "Many apps in one block"): login
// by app_id, tokens bound to their app, X-WX-Platform, through a real
// Caddy in front of the fake WeChat and the fake QQ on one address.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	fakeqq "github.com/wechat-auth/wechat_auth/internal/fake/qq"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// The QQ app the fake QQ knows.
const (
	appQQ    = "1112214148"
	secretQQ = "secret-of-the-qq-app-5566778899"
)

// qqApp is the template of the QQ app's block.
const qqApp = `{{define "qqApp"}}app {{.Vars.QQApp}} {
				platform qq
				app_secret {{.Vars.QQSecret}}
				api_base {{.WeChat}}
			}{{end}}`

// multiSites: /multi/ serves apps A and B (WeChat) and the QQ app; /onlyb/
// serves B alone in an app block; /v1/ is app A in the v1 form; and the
// default route serves app A and the QQ app. Every block gives session_ttl
// 2h (the store settings of an app agree across its blocks).
const multiSites = qqApp + `
http://127.0.0.1:{{.Port}} {
	handle_path /multi/* {
		wechat_auth {
			{{template "appAApp" .}}
			{{template "appBApp" .}}
			{{template "qqApp" .}}
			session_ttl 2h
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
	handle_path /onlyb/* {
		wechat_auth {
			{{template "appBApp" .}}
			session_ttl 2h
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
	handle_path /v1/* {
		wechat_auth {
			{{template "appA" .}}
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appAApp" .}}
			{{template "qqApp" .}}
			session_ttl 2h
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
}
`

// newQQEnv starts Caddy with sites in front of the fake WeChat and the
// fake QQ (fakeqq.Route, on the fake WeChat's address).
func newQQEnv(t *testing.T, sites string) (*env, *fakeqq.Server) {
	t.Helper()
	qq := fakeqq.New(fakeqq.App{ID: appQQ, Secret: secretQQ, UnionID: true})
	t.Cleanup(qq.Close)
	e := newEnvOpts(t, sites, envOptions{
		Fakes:   []func(http.Handler) http.Handler{func(next http.Handler) http.Handler { return fakeqq.Route(next, qq) }},
		Vars:    map[string]string{"QQApp": appQQ, "QQSecret": secretQQ},
		Secrets: map[string]string{secretQQ: "the QQ app_secret"},
	})
	// (runs before the env's log check: cleanups run last first)
	t.Cleanup(func() {
		for _, user := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
			cur, prev := qq.SessionKeys(appQQ, fakeqq.OpenID(appQQ, user))
			e.secret(cur, "a QQ session_key")
			e.secret(prev, "a QQ session_key")
		}
	})
	return e, qq
}

// loginApp logs in at prefix with code for appID ("" for none) and
// returns the token.
func (e *env) loginApp(prefix, appID, code string) string {
	e.t.Helper()
	body := fmt.Sprintf(`{"code":%q,"app_id":%q}`, code, appID)
	if appID == "" {
		body = fmt.Sprintf(`{"code":%q}`, code)
	}
	a := e.do("POST", prefix+"/wx/login", body)
	if a.status != http.StatusOK {
		e.t.Fatalf("login %s at %q: %d %s", appID, prefix, a.status, a.body)
	}
	tok, _ := a.json(e.t)["token"].(string)
	if tok == "" {
		e.t.Fatalf("login %s: no token: %s", appID, a.body)
	}
	e.secret(tok, "a session token")
	return tok
}

// identity is what the upstream was told of a request with token at path.
func (e *env) identity(path, token string, hdr ...string) http.Header {
	e.t.Helper()
	return e.do("GET", path, "", append(bearer(token), hdr...)...).upstream(e.t).Headers
}

func TestSeveralAppsLogInByAppID(t *testing.T) {
	e, _ := newQQEnv(t, multiSites)
	tokA := e.loginApp("/multi", appA, "ok-alice")
	tokB := e.loginApp("/multi", appB, "ok-bob")
	tokQ := e.loginApp("/multi", appQQ, "ok-carol")

	for _, c := range []struct {
		token, app, platform, openID string
	}{
		{tokA, appA, "wechat", fakewx.OpenID(appA, "alice")},
		{tokB, appB, "wechat", fakewx.OpenID(appB, "bob")},
		{tokQ, appQQ, "qq", fakeqq.OpenID(appQQ, "carol")},
	} {
		// a client's X-WX-Platform (any spelling) never reaches the upstream
		h := e.identity("/multi/api", c.token, "X-WX-Platform", "evil", "x_wx_platform", "evil")
		if got := h.Values("X-Wx-Platform"); len(got) != 1 || got[0] != c.platform {
			t.Errorf("%s: X-WX-Platform %q, want %q", c.app, got, c.platform)
		}
		if h.Get("X-Wx-Appid") != c.app || h.Get("X-Wx-Openid") != c.openID {
			t.Errorf("%s: X-WX-AppID %q, X-WX-OpenID %q, want %q %q", c.app, h.Get("X-Wx-Appid"), h.Get("X-Wx-Openid"), c.app, c.openID)
		}
		if _, ok := h["X_wx_platform"]; ok {
			t.Errorf("%s: the client's x_wx_platform reached the upstream", c.app)
		}
	}
	if h := e.identity("/multi/api", tokQ); h.Get("X-Wx-Unionid") != fakeqq.UnionID("carol") {
		t.Errorf("QQ unionid %q, want %q", h.Get("X-Wx-Unionid"), fakeqq.UnionID("carol"))
	}

	for _, c := range []struct{ name, body, want string }{
		{"no app_id among several", `{"code":"ok-dave"}`, "missing_app_id"},
		{"null app_id", `{"code":"ok-dave","app_id":null}`, "missing_app_id"},
		{"empty app_id", `{"code":"ok-dave","app_id":""}`, "missing_app_id"},
		{"app_id a number", `{"code":"ok-dave","app_id":1112214148}`, "missing_app_id"},
		{"app_id an object", `{"code":"ok-dave","app_id":{"id":"x"}}`, "missing_app_id"},
		{"unknown app", `{"code":"ok-dave","app_id":"wxnotservedhere01"}`, "unknown_app"},
		{"an app of another block", fmt.Sprintf(`{"code":"ok-dave","app_id":%q}`, appVector), "unknown_app"},
	} {
		if got := e.do("POST", "/multi/wx/login", c.body).errorCode(t, 400); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// nothing of those reached WeChat
	if n := e.wx.Count(fakewx.EndpointJSCode2Session); n != 2 {
		t.Errorf("%d jscode2session calls, want 2 (alice, bob)", n)
	}

	// A block of one app takes a login without app_id, and refuses one
	// naming another app.
	tok := e.loginApp("/onlyb", "", "ok-erin")
	if h := e.identity("/onlyb/api", tok); h.Get("X-Wx-Appid") != appB || h.Get("X-Wx-Platform") != "wechat" {
		t.Errorf("/onlyb: %v", h)
	}
	if got := e.do("POST", "/onlyb/wx/login", fmt.Sprintf(`{"code":"ok-erin","app_id":%q}`, appA)).errorCode(t, 400); got != "unknown_app" {
		t.Errorf("/onlyb, app A: %q", got)
	}
	e.loginApp("/onlyb", appB, "ok-erin.2")
	e.loginApp("/v1", appA, "ok-frank")
}

func TestTokensAreBoundToTheirApp(t *testing.T) {
	e, _ := newQQEnv(t, multiSites)
	tokA := e.loginApp("/multi", appA, "ok-alice")
	tokB := e.loginApp("/multi", appB, "ok-bob")
	tokQ := e.loginApp("", appQQ, "ok-carol")
	tokV1 := e.loginApp("/v1", "", "ok-dave")

	for _, c := range []struct {
		name, path, token, app string // app "" : 401
	}{
		{"A in a block serving only B", "/onlyb/api", tokA, ""},
		{"QQ in a block serving only B", "/onlyb/api", tokQ, ""},
		{"B in its own block", "/onlyb/api", tokB, appB},
		{"A in the v1 block of A", "/v1/api", tokA, appA},
		{"B in the v1 block of A", "/v1/api", tokB, ""},
		{"QQ from another block serving it", "/multi/api", tokQ, appQQ},
		{"QQ in the block that issued it", "/api", tokQ, appQQ},
		{"A in a block of A and QQ", "/api", tokA, appA},
		{"B in a block of A and QQ", "/api", tokB, ""},
		{"a v1 token in a block of several", "/multi/api", tokV1, appA},
	} {
		a := e.do("GET", c.path, "", bearer(c.token)...)
		if c.app == "" {
			if got := a.errorCode(t, 401); got != "invalid_token" {
				t.Errorf("%s: %q, want invalid_token", c.name, got)
			}
			continue
		}
		if got := a.upstream(t).Headers.Get("X-Wx-Appid"); got != c.app {
			t.Errorf("%s: X-WX-AppID %q, want %q", c.name, got, c.app)
		}
	}

	// A token whose tag names no app of the block: 401, and its body is
	// another app's session, so a lookup could not have found it either
	// way; a token with A's body and B's tag is not B's session.
	forged := tokA[:len(tokA)-4] + tokB[len(tokB)-4:]
	if got := e.do("GET", "/multi/api", "", bearer(forged)...).errorCode(t, 401); got != "invalid_token" {
		t.Errorf("A's token with B's tag: %q", got)
	}
	untagged := tokA[:len(tokA)-4] + "zzzz"
	if got := e.do("GET", "/multi/api", "", bearer(untagged)...).errorCode(t, 401); got != "invalid_token" {
		t.Errorf("a tag of no app: %q", got)
	}

	// logout in one block ends the session in every block of the app
	if a := e.do("POST", "/wx/logout", "", bearer(tokQ)...); a.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", a.status, a.body)
	}
	if got := e.do("GET", "/multi/api", "", bearer(tokQ)...).errorCode(t, 401); got != "invalid_token" {
		t.Errorf("QQ after logout: %q", got)
	}
	if strings.Contains(e.logText(), secretQQ) {
		t.Errorf("the log holds the QQ secret")
	}
}
