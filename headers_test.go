package wechatauth_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

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

// Every request passed on with a session says which app the user is of:
// X-WX-AppID, the block's app_id. A client cannot forge it, in any
// spelling, and a backend written for WeChat Cloud Hosting (which reads
// the names lower-cased, as Node and many frameworks hand them over)
// finds x-wx-openid and x-wx-appid where it looks.
func TestAppIDHeaderForCloudHostingBackends(t *testing.T) {
	e := newEnv(t, "")
	lower := startLowerCaseBackend(t)
	e.load(`
http://127.0.0.1:{{.Port}} {
	handle_path /lc/* {
		wechat_auth {
			{{template "appA" .}}
		}
		reverse_proxy ` + lower + `
	}
	handle_path /b/* {
		wechat_auth {
			app_id {{.AppB}}
			app_secret {{.SecretB}}
			api_base {{.WeChat}}
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
	tokA := e.login("", "ok-alice")
	tokB := e.login("/b", "ok-alice")
	forged := [][2]string{
		{"X-WX-AppID", "wxforged"}, {"x-wx-appid", "wxforged"}, {"X_WX_APPID", "wxforged"}, {"x.wx.appid", "wxforged"},
	}

	for _, c := range []struct{ prefix, token, app string }{{"", tokA, appA}, {"/b", tokB, appB}} {
		h := append(append([][2]string{}, forged...), [2]string{"Authorization", "Bearer " + c.token})
		up := e.raw("GET", c.prefix+"/api/x", h, "").upstream(t)
		if got := up.Headers.Values("X-WX-AppID"); len(got) != 1 || got[0] != c.app {
			t.Errorf("%s: X-WX-AppID = %q, want [%q]", c.prefix, got, c.app)
		}
		if got := up.Headers.Get("X-WX-OpenID"); got != fakewx.OpenID(c.app, "alice") {
			t.Errorf("%s: X-WX-OpenID = %q", c.prefix, got)
		}
		for name, vals := range up.Headers {
			for _, v := range vals {
				if v == "wxforged" {
					t.Errorf("%s: a forged app id reached the upstream as %s", c.prefix, name)
				}
			}
		}
	}
	// anonymous requests carry no app id: it comes with a session only
	if got := e.raw("GET", "/api/x", forged, "").errorCode(t, 401); got != "unauthorized" {
		t.Errorf("no token: %q", got)
	}

	// the Cloud Hosting backend, reading lower-cased names
	a := e.raw("GET", "/lc/me", append(append([][2]string{}, forged...), [2]string{"Authorization", "Bearer " + tokA}), "")
	if a.status != http.StatusOK {
		t.Fatalf("lower-case backend: %d %s", a.status, a.body)
	}
	var got map[string][]string
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatalf("lower-case backend answered %q", a.body)
	}
	if v := got["x-wx-openid"]; len(v) != 1 || v[0] != fakewx.OpenID(appA, "alice") {
		t.Errorf("x-wx-openid = %q", v)
	}
	if v := got["x-wx-appid"]; len(v) != 1 || v[0] != appA {
		t.Errorf("x-wx-appid = %q", v)
	}
}

// startLowerCaseBackend serves HTTP/1.1 by hand, the way Node's http
// module hands headers to a backend: every name lower-cased, as it came on
// the wire. It answers each request with its headers as JSON, name ->
// values. It returns its host:port.
func startLowerCaseBackend(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveLowerCase(conn)
		}
	}()
	return ln.Addr().String()
}

func serveLowerCase(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	for {
		if _, err := br.ReadString('\n'); err != nil { // the request line
			return
		}
		headers := map[string][]string{}
		length := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			name, value, _ := strings.Cut(line, ":")
			name, value = strings.ToLower(name), strings.TrimSpace(value)
			headers[name] = append(headers[name], value)
			if name == "content-length" {
				length, _ = strconv.Atoi(value)
			}
		}
		if _, err := io.CopyN(io.Discard, br, int64(length)); err != nil {
			return
		}
		body, _ := json.Marshal(headers)
		fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
}
