package wechatauth_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/echoserver"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// spoofed are identity headers a client might send, in every spelling:
// none may reach the upstream. The server options let underscore and dot
// names through Caddy (expected_underscore_headers x_wx_*,
// expected_dot_headers x.wx.*), so removing them is wechat_auth's job.
var spoofed = [][2]string{
	{"X-WX-OpenID", "spoofed-1"},
	{"x-wx-openid", "spoofed-2"},
	{"X-Wx-Unionid", "spoofed-3"},
	{"X-WX-Phone", "spoofed-4"},
	{"X-WX-PHONE-COUNTRY", "spoofed-5"},
	{"x_wx_openid", "spoofed-6"},
	{"X_WX_PHONE", "spoofed-7"},
	{"x_Wx_unionid", "spoofed-8"},
	{"X-WX_Phone", "spoofed-9"},
	{"x.wx.openid", "spoofed-10"},
	{"X-WX-Anything-Else", "spoofed-11"},
	{"x-wx-", "spoofed-12"},
}

// controls must pass: they prove that underscore and dot names do get
// through Caddy here, and that look-alikes are left alone.
var controls = [][2]string{
	{"x_wx_", "control-underscore-prefix-only"}, // "X-WX-" after folding: must go
	{"X-WXFOO", "control-1"},
	{"X-Request-Id", "control-2"},
}

func TestClientIdentityHeadersAreStrippedInEveryMode(t *testing.T) {
	e := newEnv(t, `
http://127.0.0.1:{{.Port}} {
	handle /phone/* {
		wechat_auth {
			{{template "appA" .}}
			require phone
		}
		reverse_proxy {{.Upstream}}
	}
	handle /open/* {
		wechat_auth {
			{{template "appA" .}}
			require none
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
		}
		reverse_proxy {{.Upstream}}
	}
}`)
	tok := e.login("", "union-alice")
	openid := fakewx.OpenID(appA, "alice")

	check := func(t *testing.T, up echoserver.Answer, wantOpenID string) {
		t.Helper()
		for name, vals := range up.Headers {
			for _, v := range vals {
				if strings.HasPrefix(v, "spoofed") {
					t.Errorf("client header reached the upstream: %s: %s", name, v)
				}
				if v == "control-underscore-prefix-only" {
					t.Errorf("x_wx_ reached the upstream")
				}
			}
		}
		for _, c := range controls[1:] {
			if up.Headers.Get(c[0]) != c[1] {
				t.Errorf("header %s did not reach the upstream", c[0])
			}
		}
		if got := up.Headers.Get("X-WX-OpenID"); got != wantOpenID {
			t.Errorf("X-WX-OpenID = %q, want %q", got, wantOpenID)
		}
	}
	hdrs := append(append([][2]string{}, spoofed...), controls...)

	t.Run("valid token", func(t *testing.T) {
		h := append(hdrs, [2]string{"Authorization", "Bearer " + tok})
		check(t, e.raw("GET", "/api/x", h, "").upstream(t), openid)
	})
	t.Run("require none, anonymous", func(t *testing.T) {
		check(t, e.raw("GET", "/open/x", hdrs, "").upstream(t), "")
	})
	t.Run("require none, with token", func(t *testing.T) {
		h := append(hdrs, [2]string{"Authorization", "Bearer " + tok})
		check(t, e.raw("GET", "/open/x", h, "").upstream(t), openid)
	})
	t.Run("require phone, spoofed phone does not count", func(t *testing.T) {
		h := append(hdrs, [2]string{"Authorization", "Bearer " + tok})
		if got := e.raw("GET", "/phone/x", h, "").errorCode(t, 403); got != "phone_required" {
			t.Errorf("error %q", got)
		}
	})
	t.Run("no token", func(t *testing.T) {
		if got := e.raw("GET", "/api/x", hdrs, "").errorCode(t, 401); got != "unauthorized" {
			t.Errorf("error %q", got)
		}
	})
	t.Run("underscore names do pass Caddy here", func(t *testing.T) {
		// Without this, the test above could pass because Caddy dropped
		// the names, not because wechat_auth did.
		e.load(`
http://127.0.0.1:{{.Port}} {
	reverse_proxy {{.Upstream}}
}`)
		up := e.raw("GET", "/x", [][2]string{{"x_wx_openid", "through"}, {"x.wx.phone", "through"}}, "").upstream(t)
		n := 0
		for _, vals := range up.Headers {
			for _, v := range vals {
				if v == "through" {
					n++
				}
			}
		}
		if n != 2 {
			t.Errorf("without wechat_auth, %d of 2 underscore/dot headers got through: %v", n, up.Headers)
		}
	})
}

// Paths that look like the endpoints but are not them need a token like
// any other path: none reaches the upstream without one.
func TestPathTricksNeverReachUpstreamWithoutToken(t *testing.T) {
	e := newEnv(t, "")
	targets := []string{
		"/wx/login/../api",
		"/wx/login/..%2fapi",
		"/wx/login%2f..%2f..%2fapi",
		"/wx%2flogin",
		"/wx%2Flogin/../../api",
		"//wx/login",
		"/wx//login",
		"/./wx/login",
		"/wx/./login",
		"/wx/login/",
		"/wx/login/.",
		"/wx/login/..",
		"/WX/LOGIN",
		"/Wx/Login",
		"/wx/Login",
		"/%77x/login",
		"/wx/login%00",
		"/wx/login;jsessionid=1",
		"/wx/login?next=/api",
		"/wx/login#frag",
		"/wx/logout/../../api",
		"/wx/phone/..%2f..%2fapi",
		"/wx/",
		"/wx",
		"/wx/anything",
		"/api/../wx/login",
		"/open/../api",
		"/phone/../api",
		"/wx/login\\..\\api",
	}
	for _, method := range []string{"GET", "POST"} {
		for _, target := range targets {
			before := e.upHits.Load()
			a := e.raw(method, target, nil, `{"code":"bad-x"}`)
			if e.upHits.Load() != before {
				t.Errorf("%s %s reached the upstream without a token (status %d)", method, target, a.status)
				continue
			}
			if a.status == http.StatusOK || a.status >= 500 {
				t.Errorf("%s %s: status %d: %s", method, target, a.status, a.body)
			}
			if a.status != http.StatusBadRequest && !json.Valid(a.body) {
				t.Errorf("%s %s: %d answer is not JSON: %q", method, target, a.status, a.body)
			}
		}
	}
	// the control: with a token, the same kind of path does reach it
	tok := e.login("", "ok-alice")
	before := e.upHits.Load()
	e.raw("GET", "/wx/login/../api", [][2]string{{"Authorization", "Bearer " + tok}}, "").upstream(t)
	if e.upHits.Load() != before+1 {
		t.Errorf("the control request did not reach the upstream")
	}
}

func TestRequireModes(t *testing.T) {
	e := newEnv(t, "")
	tok := e.login("", "ok-alice")
	if got := e.do("GET", "/phone/x", "", bearer(tok)...).errorCode(t, 403); got != "phone_required" {
		t.Errorf("require phone without phone: %q", got)
	}
	if got := e.do("GET", "/phone/x", "").errorCode(t, 401); got != "unauthorized" {
		t.Errorf("require phone without token: %q", got)
	}
	up := e.do("GET", "/open/x", "").upstream(t)
	if len(up.Headers.Values("X-WX-OpenID")) != 0 {
		t.Errorf("anonymous request got an identity")
	}
	up = e.do("GET", "/open/x", "", "Authorization", "Bearer junk").upstream(t)
	if up.Headers.Get("Authorization") != "" || up.Headers.Get("X-WX-OpenID") != "" {
		t.Errorf("require none passed a bad bearer token or an identity on")
	}
	// another scheme is not ours: it goes on untouched in require none
	up = e.do("GET", "/open/x", "", "Authorization", "Basic YTpi").upstream(t)
	if up.Headers.Get("Authorization") != "Basic YTpi" {
		t.Errorf("require none dropped a Basic Authorization header")
	}
}
