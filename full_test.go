package wechatauth_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A full store still lets users in (contract v3): fill a store of 20, use
// half of it, log in as many new users as the idle half: every login
// succeeds, the sessions in use survive, the idle ones end (401
// invalid_token: never a 500, never a request through unchecked), and the
// evictions are counted and reported in one WARN line.
func TestFullStoreLetsUsersIn(t *testing.T) {
	const size = 20
	e := newEnv(t, fmt.Sprintf(`
http://127.0.0.1:{{.Port}} {
	handle /metrics {
		metrics
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
			max_sessions %d
		}
		reverse_proxy {{.Upstream}}
	}
}`, size))
	const evictedTotal = "caddy_wechat_auth_sessions_evicted_total"
	evictions := func() float64 {
		t.Helper()
		a := e.do("GET", "/metrics", "")
		if a.status != http.StatusOK {
			t.Fatalf("metrics: %d", a.status)
		}
		return metricValue(string(a.body), evictedTotal, "app_id", appA)
	}
	before := evictions() // the counter is the process's: other tests' stores count in it too

	var used, idle []string
	for i := 0; i < size; i++ {
		tok := e.login("", fmt.Sprintf("ok-full%d.1", i))
		if i%2 == 0 {
			used = append(used, tok)
		} else {
			idle = append(idle, tok)
		}
	}
	for _, tok := range used {
		e.do("GET", "/api", "", bearer(tok)...).upstream(t)
	}
	if n := evictions() - before; n != 0 {
		t.Fatalf("%v evictions before the store was full", n)
	}
	var newcomers []string
	for i := range idle {
		newcomers = append(newcomers, e.login("", fmt.Sprintf("ok-newcomer%d.1", i))) // fails the test on anything but 200
	}
	for i, tok := range used {
		if a := e.do("GET", "/api", "", bearer(tok)...); a.status != http.StatusOK {
			t.Errorf("session in use %d did not survive the newcomers: %d %s", i, a.status, a.body)
		}
	}
	for _, tok := range newcomers {
		e.do("GET", "/api", "", bearer(tok)...).upstream(t)
	}
	for i, tok := range idle {
		a := e.do("GET", "/api", "", bearer(tok)...)
		if got := a.errorCode(t, http.StatusUnauthorized); got != "invalid_token" {
			t.Errorf("idle session %d, evicted: %q", i, got)
		}
	}
	if n := evictions() - before; n != float64(len(idle)) {
		t.Errorf("%s went up by %v, want %d", evictedTotal, n, len(idle))
	}
	lines := e.waitLogEntries("warn", "session store full", func(m map[string]any) bool { return m["app_id"] == appA })
	if len(lines) != 1 {
		t.Fatalf("%d WARN lines for %d evictions within a minute, want 1: %v", len(lines), len(idle), lines)
	}
	if msg := fmt.Sprint(lines[0]["msg"]); !strings.Contains(msg, "max_sessions is too small") {
		t.Errorf("the WARN line does not say max_sessions is too small: %q", msg)
	}
	if n, _ := lines[0]["sessions_ended"].(float64); n < 1 || n > float64(len(idle)) {
		t.Errorf("the WARN line says %v sessions ended: %v", n, lines[0])
	}
	e.checkLogHasNoSecrets()
}
