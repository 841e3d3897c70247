package wechatauth_test

// The state of several apps per block: a reload that adds an app keeps
// every other app's sessions; the phone flows of each app's platform; the
// admin API and the metrics name the platform.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	fakeqq "github.com/wechat-auth/wechat_auth/internal/fake/qq"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// oneBlock serves apps (template lines) on every path, with /metrics.
func oneBlock(apps string) string {
	return qqApp + `
http://127.0.0.1:{{.Port}} {
	handle /metrics {
		metrics
	}
	handle {
		wechat_auth {
			` + apps + `
			session_ttl 2h
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
}`
}

func TestReloadThatAddsAnAppKeepsTheSessions(t *testing.T) {
	e, _ := newQQEnv(t, oneBlock(`{{template "appAApp" .}}`))
	tokA := e.loginApp("", "", "ok-alice") // the one app: no app_id needed
	e.reloadViaAdmin(oneBlock(`{{template "appAApp" .}}
		{{template "qqApp" .}}`))
	tokQ := e.loginApp("", appQQ, "ok-carol")
	if got := e.do("POST", "/wx/login", `{"code":"ok-alice.2"}`).errorCode(t, 400); got != "missing_app_id" {
		t.Errorf("two apps, no app_id: %q", got)
	}
	e.reloadViaAdmin(oneBlock(`{{template "appAApp" .}}
		{{template "qqApp" .}}
		{{template "appBApp" .}}`))
	tokB := e.loginApp("", appB, "ok-bob")
	for _, c := range []struct{ token, app string }{{tokA, appA}, {tokQ, appQQ}, {tokB, appB}} {
		if got := e.identity("/api", c.token).Get("X-Wx-Appid"); got != c.app {
			t.Errorf("after the reloads, %s's session: X-WX-AppID %q", c.app, got)
		}
	}
	// Back to app A alone, in the v1 form: A's sessions survive, the
	// others' are not this block's.
	e.reloadViaAdmin(`
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		{{template "appA" .}}
	}
	reverse_proxy {{.Upstream}}
}`)
	if got := e.identity("/api", tokA).Get("X-Wx-Appid"); got != appA {
		t.Errorf("v1 after app blocks: %q", got)
	}
	if got := e.do("GET", "/api", "", bearer(tokQ)...).errorCode(t, 401); got != "invalid_token" {
		t.Errorf("QQ's token in a block of A: %q", got)
	}
}

func TestPhoneOfEachAppsPlatform(t *testing.T) {
	e, qq := newQQEnv(t, oneBlock(`{{template "appAApp" .}}
		{{template "qqApp" .}}`))
	before := e.scrape() // (the counters are the process's: other tests count too)
	tokA := e.loginApp("", appA, "ok-alice")
	tokQ := e.loginApp("", appQQ, "ok-carol")
	carol := fakeqq.OpenID(appQQ, "carol")

	// QQ: the sealed payload, in WeChat's scheme, with the QQ session_key
	data, iv, err := qq.SealPhone(appQQ, carol, "13800138000", "86", appQQ)
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := qq.SessionKeys(appQQ, carol)
	e.secret(cur, "a QQ session_key")
	e.secret("13800138000", "a full phone number")
	body, _ := json.Marshal(map[string]string{"encryptedData": data, "iv": iv})
	a := e.do("POST", "/wx/phone", string(body), bearer(tokQ)...)
	phoneAnswer(t, a, "13800138000", "13800138000", "86")
	if h := e.identity("/api", tokQ); h.Get("X-Wx-Phone") != "13800138000" || h.Get("X-Wx-Platform") != "qq" {
		t.Errorf("QQ after the phone: %v", h)
	}
	// QQ has no phone button: a code names no flow of its platform
	if got := e.do("POST", "/wx/phone", `{"code":"phone-13900139000"}`, bearer(tokQ)...).errorCode(t, 400); got != "missing_phone_data" {
		t.Errorf("QQ, a code: %q", got)
	}
	// data sealed for another app: watermark
	other, oiv, _ := qq.SealPhone(appQQ, carol, "13800138000", "86", "1000000001")
	body, _ = json.Marshal(map[string]string{"encryptedData": other, "iv": oiv})
	if got := e.do("POST", "/wx/phone", string(body), bearer(tokQ)...).errorCode(t, 403); got != "watermark_mismatch" {
		t.Errorf("QQ, another app's data: %q", got)
	}
	// a field that is not a string: the one rule of both endpoints
	for _, b := range []string{`{"encryptedData":5,"iv":"x"}`, `{"code":["x"]}`, `{"response":{},"sign":"x"}`} {
		if got := e.do("POST", "/wx/phone", b, bearer(tokQ)...).errorCode(t, 400); got != "missing_phone_data" {
			t.Errorf("%s: %q", b, got)
		}
	}

	// WeChat in the same block: by code, through its own client
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13900139000"}`, bearer(tokA)...), "13900139000", "13900139000", "86")
	e.secret("13900139000", "a full phone number")
	if n := e.wx.Count(fakewx.EndpointPhoneNumber); n != 1 {
		t.Errorf("%d getuserphonenumber calls, want 1", n)
	}
	// a refused phone code: invalid_phone_code (counted by failure_limit)
	if got := e.do("POST", "/wx/phone", `{"code":"bad-1"}`, bearer(tokA)...).errorCode(t, 400); got != "invalid_phone_code" {
		t.Errorf("WeChat, a bad code: %q", got)
	}

	// the metrics count by platform
	scrape := e.scrape()
	for _, c := range []struct{ app, platform, endpoint string }{
		{appQQ, "qq", "login"}, {appA, "wechat", "login"}, {appQQ, "qq", "phone"}, {appA, "wechat", "phone"},
	} {
		labels := []string{"app_id", c.app, "platform", c.platform, "endpoint", c.endpoint, "result", "ok"}
		if v := metricValue(scrape, "caddy_wechat_auth_requests_total", labels...) - metricValue(before, "caddy_wechat_auth_requests_total", labels...); v != 1 {
			t.Errorf("requests_total{app_id=%s,platform=%s,endpoint=%s,result=ok} = %v, want 1", c.app, c.platform, c.endpoint, v)
		}
	}
}

func TestAdminServesEveryAppOfEveryPlatform(t *testing.T) {
	e, _ := newQQEnv(t, oneBlock(`{{template "appAApp" .}}
		{{template "qqApp" .}}`))
	tokQ := e.loginApp("", appQQ, "ok-carol")
	tokQ2 := e.loginApp("", appQQ, "ok-carol.2")
	tokA := e.loginApp("", appA, "ok-alice")
	admin := func(method, path string) answer {
		t.Helper()
		req, _ := http.NewRequest(method, e.adminURL+path, nil)
		return e.send(req)
	}
	list := admin("GET", "/wechat_auth/apps")
	var apps []struct {
		AppID    string `json:"app_id"`
		Platform string `json:"platform"`
		Store    string `json:"store"`
		Sessions *int64 `json:"sessions"`
	}
	if err := json.Unmarshal(list.body, &apps); err != nil || list.status != 200 {
		t.Fatalf("GET /wechat_auth/apps: %d %s", list.status, list.body)
	}
	got := map[string]string{}
	for _, a := range apps {
		got[a.AppID] = fmt.Sprintf("%s %s %d", a.Platform, a.Store, *a.Sessions)
	}
	if got[appQQ] != "qq memory 2" || got[appA] != "wechat memory 1" {
		t.Errorf("apps %v", got)
	}
	carol := fakeqq.OpenID(appQQ, "carol")
	if a := admin("DELETE", "/wechat_auth/apps/"+appQQ+"/users/"+carol); a.status != 200 || !strings.Contains(string(a.body), `"revoked":2`) {
		t.Errorf("revoke the QQ user: %d %s", a.status, a.body)
	}
	for _, tok := range []string{tokQ, tokQ2} {
		if got := e.do("GET", "/api", "", bearer(tok)...).errorCode(t, 401); got != "invalid_token" {
			t.Errorf("QQ after the revoke: %q", got)
		}
	}
	e.identity("/api", tokA)
	if a := admin("DELETE", "/wechat_auth/apps/"+appQQ+"/users/not.an*openid"); a.status != 400 || !strings.Contains(string(a.body), "qq") {
		t.Errorf("a malformed QQ openid: %d %s", a.status, a.body)
	}
}

// Each app of a block has its own failure limit (the app's setting, as
// with one app per block), and a platform's refusals map as WeChat's do.
func TestFailureLimitAndRefusalsPerApp(t *testing.T) {
	e, _ := newQQEnv(t, qqApp+`
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		{{template "appAApp" .}}
		{{template "qqApp" .}}
		session_ttl 2h
		timeout 1s
		failure_limit 2/1m
	}
	reverse_proxy {{.Upstream}}
}`)
	login := func(app, code string) answer {
		return e.do("POST", "/wx/login", fmt.Sprintf(`{"code":%q,"app_id":%q}`, code, app))
	}
	for _, c := range []struct{ code, want string }{
		{"limit-1", "rate_limited"}, {"busy-1", "wechat_busy"}, {"html-1", "wechat_bad_response"},
	} {
		a := login(appQQ, c.code)
		if got := a.errorCode(t, a.status); got != c.want {
			t.Errorf("QQ %s: %q, want %q", c.code, got, c.want)
		}
	}
	if w := e.waitLogEntries("warn", "per-user login rate limit", func(l map[string]any) bool { return l["app_id"] == appQQ }); len(w) != 1 {
		t.Errorf("%d WARN lines of QQ's rate limit, want 1", len(w))
	}
	// two refused QQ codes: QQ's logins are held, WeChat's app is not
	for i := 0; i < 2; i++ {
		if got := login(appQQ, fmt.Sprintf("bad-%d", i)).errorCode(t, 401); got != "invalid_code" {
			t.Fatalf("QQ bad code %d: %q", i, got)
		}
	}
	if got := login(appQQ, "ok-carol").errorCode(t, 429); got != "too_many_failures" {
		t.Errorf("QQ after 2 refused codes: %q", got)
	}
	e.loginApp("", appA, "ok-alice")
}
