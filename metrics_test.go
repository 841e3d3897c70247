package wechatauth_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// metricValue reads one sample from a Prometheus text scrape; 0 if absent.
func metricValue(scrape, name string, labels ...string) float64 {
	for _, line := range strings.Split(scrape, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(line, fmt.Sprintf("%s=%q", labels[i], labels[i+1])) {
				ok = false
			}
		}
		if ok {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			return v
		}
	}
	return 0
}

func TestMetricsCountWithoutUserData(t *testing.T) {
	e := newEnv(t, `
http://127.0.0.1:{{.Port}} {
	handle /metrics {
		metrics
	}
	# a second block of the app: one store, one sessions sample
	handle /second/* {
		wechat_auth {
			{{template "appA" .}}
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
	scrape := func() string {
		t.Helper()
		a := e.do("GET", "/metrics", "")
		if a.status != 200 {
			t.Fatalf("metrics: %d", a.status)
		}
		return string(a.body)
	}
	const requests, phones = "caddy_wechat_auth_requests_total", "caddy_wechat_auth_phone_bindings_total"
	const latency, fetches = "caddy_wechat_auth_wechat_request_duration_seconds_count", "caddy_wechat_auth_access_token_fetches_total"
	before := scrape()

	tok := e.login("", "ok-alice")
	e.login("", "ok-bob")
	e.do("POST", "/wx/login", `{"code":"bad-1"}`)
	e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...)
	e.do("POST", "/wx/phone", `{"encryptedData":"AAAA","iv":"AAAA"}`, bearer(tok)...)
	e.secret("13800138000", "a full phone number")
	e.do("GET", "/second/api", "")
	e.do("GET", "/api", "", "Authorization", "Bearer "+strings.Repeat("x", 43))
	e.do("POST", "/wx/phone", `{"code":"phone-1"}`, "Authorization", "Bearer "+strings.Repeat("x", 43))
	e.do("POST", "/wx/logout", "", bearer(tok)...)
	after := scrape()

	delta := func(name string, labels ...string) float64 {
		return metricValue(after, name, labels...) - metricValue(before, name, labels...)
	}
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{requests, []string{"app_id", appA, "endpoint", "login", "result", "ok"}, 2},
		{requests, []string{"app_id", appA, "endpoint", "login", "result", "invalid_code"}, 1},
		{requests, []string{"app_id", appA, "endpoint", "phone", "result", "ok"}, 1},
		{requests, []string{"app_id", appA, "endpoint", "phone", "result", "malformed_encrypted_data"}, 1},
		{requests, []string{"app_id", appA, "endpoint", "phone", "result", "invalid_token"}, 1},
		{requests, []string{"app_id", appA, "endpoint", "logout", "result", "ok"}, 1},
		{requests, []string{"app_id", appA, "endpoint", "auth", "result", "unauthorized"}, 1},
		{requests, []string{"app_id", appA, "endpoint", "auth", "result", "invalid_token"}, 1},
		{phones, []string{"app_id", appA, "flow", "code"}, 1},
		{latency, []string{"app_id", appA, "endpoint", "jscode2session", "outcome", "ok"}, 2},
		{latency, []string{"app_id", appA, "endpoint", "jscode2session", "outcome", "api_error"}, 1},
		{latency, []string{"app_id", appA, "endpoint", "getuserphonenumber", "outcome", "ok"}, 1},
		{fetches, []string{"app_id", appA, "outcome", "ok"}, 1},
	}
	for _, c := range checks {
		if got := delta(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v went up by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// two logins, one logout: one live session in this app's store
	if got := metricValue(after, "caddy_wechat_auth_sessions", "app_id", appA); got != 1 {
		t.Errorf("live sessions = %v, want 1", got)
	}
	for _, leak := range []string{fakewx.OpenID(appA, "alice"), fakewx.OpenID(appA, "bob"), "13800138000", tok} {
		if strings.Contains(after, leak) {
			t.Errorf("the metrics show user data %q", leak)
		}
	}
	if regexp.MustCompile(`openid|phone_number`).MatchString(after) {
		t.Errorf("a metric label names an openid or phone")
	}
}
