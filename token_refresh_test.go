package wechatauth_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// logEntries returns the log's JSON lines at level whose message contains
// msg.
func (e *env) logEntries(level, msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(e.logText(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		if m["level"] == level && strings.Contains(fmt.Sprint(m["msg"]), msg) {
			out = append(out, m)
		}
	}
	return out
}

// waitLogEntries polls the log until it has such a line that match
// accepts (10 s at most), and returns all those.
func (e *env) waitLogEntries(level, msg string, match func(map[string]any) bool) []map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []map[string]any
		for _, l := range e.logEntries(level, msg) {
			if match(l) {
				got = append(got, l)
			}
		}
		if len(got) > 0 || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A phone-by-code call while the cached access_token is past its refresh
// point and stable_token fails (45009, then no answer at all) still
// succeeds with the cached token, which WeChat honours until it expires;
// each failed refresh is logged at ERROR with the app_id. (Before: the
// call waited for the refresh and answered 502.)
//
// The fake's tokens live 6 s here, so the refresh point (half the life
// when it is short) comes 3 s after the fetch.
func TestPhoneByCodeSurvivesAFailingTokenRefresh(t *testing.T) {
	t.Parallel()
	e := newEnvOpts(t, "", envOptions{WeChat: fakewx.Config{TokenTTL: 6 * time.Second, TokenOverlap: 2 * time.Second}, Process: true})
	for i := 1; i <= 3; i++ {
		e.secret(fmt.Sprintf("1380013800%d", i), "a full phone number")
	}
	tok := e.login("", "ok-alice")
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138001"}`, bearer(tok)...), "13800138001", "13800138001", "86")
	fetched := time.Now() // the token was fetched before this: due by fetched+3s, valid until at least fetched+6s
	e.recordSessionKeys()
	if n := e.wx.Count(fakewx.EndpointStableToken); n != 1 {
		t.Fatalf("%d token fetches", n)
	}

	e.wx.SetTokenMode(appA, fakewx.TokenQuota)
	time.Sleep(time.Until(fetched.Add(3*time.Second + 100*time.Millisecond)))
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138002"}`, bearer(tok)...), "13800138002", "13800138002", "86")
	lines := e.waitLogEntries("error", "access_token refresh failed", func(map[string]any) bool { return true })
	if len(lines) != 1 {
		t.Fatalf("%d ERROR lines about the failed refresh, want 1", len(lines))
	}
	l := lines[0]
	if l["app_id"] != appA || l["errcode"] != float64(45009) || !strings.Contains(fmt.Sprint(l["msg"]), "cached token stays in use") ||
		!strings.Contains(fmt.Sprint(l["action"]), "quota") || l["cached_token_valid_for"] == nil {
		t.Errorf("the ERROR line lacks the app_id, errcode, action or what happens meanwhile: %v", l)
	}

	// the next attempt, after the backoff (1 s), hangs: still no wait
	e.wx.SetTokenMode(appA, fakewx.TokenHang)
	time.Sleep(1100 * time.Millisecond)
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138003"}`, bearer(tok)...), "13800138003", "13800138003", "86")
	// (the hanging fetch runs in the background: wait for it to arrive)
	for deadline := time.Now().Add(5 * time.Second); e.wx.Count(fakewx.EndpointStableToken) < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := e.wx.Count(fakewx.EndpointStableToken); n != 3 {
		t.Errorf("%d token fetches, want 3 (the first, the failed refresh, the hanging one)", n)
	}
	if time.Since(fetched) > 5*time.Second {
		t.Logf("the machine is slow: the calls came close to the token's expiry")
	}
}

// 45009 and 40164 from stable_token are the operator's to fix: 502
// wechat_config_error (not the retryable wechat_error), and an ERROR line
// naming the app_id and what to do.
func TestTokenQuotaAndWhitelistAreConfigErrors(t *testing.T) {
	e := newEnv(t, "")
	e.wx.SetTokenMode(appA, fakewx.TokenQuota)
	e.wx.SetTokenMode(appB, fakewx.TokenIPDenied)
	tokA := e.login("", "ok-alice")
	tokB := e.login("/b", "ok-bob")
	for _, c := range []struct {
		prefix, token, app, action string
		errcode                    float64
	}{
		{"", tokA, appA, "quota", 45009},
		{"/b", tokB, appB, "whitelist", 40164},
	} {
		a := e.do("POST", c.prefix+"/wx/phone", `{"code":"phone-13800138000"}`, bearer(c.token)...)
		if got := a.errorCode(t, 502); got != "wechat_config_error" {
			t.Errorf("%s: error %q, want wechat_config_error", c.app, got)
		}
		found := e.waitLogEntries("error", "phone by code failed", func(l map[string]any) bool {
			return l["app_id"] == c.app && l["errcode"] == c.errcode && strings.Contains(fmt.Sprint(l["msg"]), c.action) &&
				l["answer"] == "wechat_config_error"
		})
		if len(found) != 1 {
			t.Errorf("%s: %d ERROR lines naming the app_id, errcode %v and %q, want 1", c.app, len(found), c.errcode, c.action)
		}
		refresh := e.waitLogEntries("error", "access_token refresh failed", func(l map[string]any) bool {
			return l["app_id"] == c.app && l["errcode"] == c.errcode && strings.Contains(fmt.Sprint(l["action"]), c.action)
		})
		if len(refresh) != 1 {
			t.Errorf("%s: %d ERROR lines of the token source, want 1", c.app, len(refresh))
		}
	}
	if strings.Contains(e.logText(), "invalid ip 127.0.0.1") == false {
		t.Errorf("the log does not carry WeChat's errmsg naming the IP to whitelist")
	}
}

// 45011 at login (WeChat counts it per user: 100 logins a minute) logs
// one WARN line a minute per app, with how many were throttled since the
// last; every client still gets 429 and Retry-After.
func TestLoginRateLimitIsLoggedOnceAMinute(t *testing.T) {
	e := newEnv(t, "")
	for i := 0; i < 5; i++ {
		a := e.do("POST", "/wx/login", fmt.Sprintf(`{"code":"limit-%d"}`, i))
		if got := a.errorCode(t, 429); got != "rate_limited" || a.header.Get("Retry-After") == "" {
			t.Fatalf("login %d: %q, Retry-After %q", i, got, a.header.Get("Retry-After"))
		}
	}
	warns := e.logEntries("warn", "45011")
	if len(warns) != 1 {
		t.Fatalf("%d WARN lines for 5 throttled logins, want 1", len(warns))
	}
	if w := warns[0]; w["app_id"] != appA || w["errcode"] != float64(45011) || w["throttled_since_last_line"] != float64(0) ||
		!strings.Contains(fmt.Sprint(w["msg"]), "per-user") {
		t.Errorf("WARN line %v", w)
	}
	if n := len(e.logEntries("debug", "login failed")); n != 4 {
		t.Errorf("%d DEBUG lines for the 4 held back, want 4", n)
	}
}
