package wechatauth_test

// Contract v2, "Hostile clients": a Connection header cannot take the
// identity headers away, and a client address whose codes WeChat keeps
// refusing is stopped before it spends the app's WeChat quota.

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	wechatauth "github.com/wechat-auth/wechat_auth"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

func TestConnectionHeaderCannotStripIdentity(t *testing.T) {
	e := newEnv(t, "")
	tok := e.login("", "union-alice")
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...), "13800138000", "13800138000", "86")
	e.secret("13800138000", "a full phone number")
	openid, unionid := fakewx.OpenID(appA, "alice"), fakewx.UnionID("alice")
	auth := [2]string{"Authorization", "Bearer " + tok}

	cases := []struct {
		name, path string
		headers    [][2]string
		hop        bool // X-Hop-Test is named in Connection: it must not arrive
	}{
		{"keep-alive and the openid", "/api/a", [][2]string{{"Connection", "keep-alive, X-WX-OpenID"}}, false},
		{"every identity header", "/api/b", [][2]string{{"CONNECTION", "X-WX-OpenID, X-WX-UnionID, X-WX-Phone, X-WX-Phone-Country"}}, false},
		{"several lines, several spellings", "/api/c", [][2]string{
			{"Connection", "keep-alive"},
			{"connection", "x-wx-openid,X_WX_UNIONID"},
			{"Connection", " X.Wx.Phone-Country ,\tX-Hop-Test , x-wx-phone"},
			{"X-Hop-Test", "must not arrive"},
		}, true},
		{"other tokens kept", "/api/d", [][2]string{{"Connection", "X-Hop-Test, X-Wx-Openid"}, {"X-Hop-Test", "must not arrive"}}, true},
		{"only identity names: the header goes", "/api/e", [][2]string{{"Connection", "X-WX-OPENID"}, {"Connection", "x-wx-unionid"}}, false},
		{"require none", "/open/f", [][2]string{{"Connection", "keep-alive, X-WX-OpenID, x-wx-unionid"}}, false},
		{"require phone", "/phone/g", [][2]string{{"Connection", "X-Wx-Phone, x-wx-phone-country, X-WX-OpenID"}}, false},
		// Go's server closes the connection after the answer, and leaves
		// the header to the handlers.
		{"close", "/api/h", [][2]string{{"Connection", "close, X-WX-OpenID"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up := e.rawRequest("GET", c.path, append(c.headers, auth), "").upstream(t)
			for name, want := range map[string]string{
				"X-WX-OpenID": openid, "X-WX-UnionID": unionid, "X-WX-Phone": "13800138000", "X-WX-Phone-Country": "86",
			} {
				if got := up.Headers.Get(name); got != want {
					t.Errorf("upstream got %s %q, want %q", name, got, want)
				}
			}
			if c.hop && up.Headers.Get("X-Hop-Test") != "" {
				t.Errorf("X-Hop-Test, named in Connection, reached the upstream: the other tokens were not kept")
			}
		})
	}

	// The endpoints take such a header in their stride.
	a := e.rawRequest("POST", "/wx/login", [][2]string{{"Connection", "keep-alive, X-WX-OpenID"}, {"Content-Type", "application/json"}}, `{"code":"ok-bob"}`)
	if a.status != http.StatusOK {
		t.Fatalf("login with a Connection header: %d %s", a.status, a.body)
	}
	e.secret(a.json(t)["token"].(string), "a session token")
	e.recordSessionKeys()
}

// limitSites: app A in two blocks (/two/ strips its prefix, so
// /two/wx/login is a login too) with failure_limit LIMIT, and metrics.
func limitSites(limit string) string {
	s := `
http://127.0.0.1:{{.Port}} {
	handle /metrics {
		metrics
	}
	handle_path /two/* {
		wechat_auth {
			{{template "appA" .}}
			LIMIT
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
			LIMIT
		}
		reverse_proxy {{.Upstream}}
	}
}`
	if limit != "" {
		limit = "failure_limit " + limit
	}
	return strings.ReplaceAll(s, "LIMIT", limit)
}

// loadBehindProxy runs sites with Caddy trusting 127.0.0.1 as a proxy
// (servers { trusted_proxies static 127.0.0.1/32 }), so that a test's
// X-Forwarded-For names the client address.
func (e *env) loadBehindProxy(sites string) {
	e.t.Helper()
	global := strings.Replace(globalOptions, "\tservers {\n", "\tservers {\n\t\ttrusted_proxies static 127.0.0.1/32\n", 1)
	if global == globalOptions {
		e.t.Fatal("the harness's global options have no servers block")
	}
	var buf bytes.Buffer
	if err := template.Must(template.New("caddyfile").Parse(global+sites)).Execute(&buf, e.vars()); err != nil {
		e.t.Fatal(err)
	}
	e.loadCaddyfile(buf.String())
}

// from is the header that makes a request come from addr (behind the
// trusted proxy).
func from(addr string) []string { return []string{"X-Forwarded-For", addr} }

func (e *env) loginFrom(code string, hdr ...string) answer {
	e.t.Helper()
	return e.do("POST", "/wx/login", fmt.Sprintf(`{"code":%q}`, code), hdr...)
}

// tokenOf reads a successful login's token, and records it as a secret.
func (e *env) tokenOf(a answer) string {
	e.t.Helper()
	if a.status != http.StatusOK {
		e.t.Fatalf("login: %d %s", a.status, a.body)
	}
	tok, _ := a.json(e.t)["token"].(string)
	if tok == "" {
		e.t.Fatalf("login answer without a token: %s", a.body)
	}
	e.secret(tok, "a session token")
	e.recordSessionKeys()
	return tok
}

// tooManyFailures checks a 429 too_many_failures and its Retry-After.
func tooManyFailures(t *testing.T, a answer, maxWait int) {
	t.Helper()
	if code := a.errorCode(t, http.StatusTooManyRequests); code != "too_many_failures" {
		t.Fatalf("error %q, want too_many_failures", code)
	}
	ra, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > maxWait {
		t.Fatalf("Retry-After %q, want whole seconds from 1 to %d", a.header.Get("Retry-After"), maxWait)
	}
}

func (e *env) scrape() string {
	e.t.Helper()
	a := e.do("GET", "/metrics", "")
	if a.status != http.StatusOK {
		e.t.Fatalf("metrics: %d", a.status)
	}
	return string(a.body)
}

// A 1m window plus one slice of it (1/15): the longest Retry-After.
const maxWait1m = 64

func TestFailureLimitAtLogin(t *testing.T) {
	e := newEnv(t, "")
	e.loadBehindProxy(limitSites("3/1m"))
	before := e.scrape() // the counters are the process's: compare
	x := from("203.0.113.7")

	// A login that succeeds does not count; refused codes of each kind do.
	tok := e.tokenOf(e.loginFrom("ok-alice.x1", x...))
	for _, c := range []struct {
		code   string
		status int
		err    string
	}{
		{"bad-x1", 401, "invalid_code"},
		{"ok-alice.x1", 401, "code_used"},
		{"risky-x1", 403, "risky_user"},
	} {
		if got := e.loginFrom(c.code, x...).errorCode(t, c.status); got != c.err {
			t.Fatalf("%s: %q, want %q", c.code, got, c.err)
		}
	}

	// Three refused: what comes next from that address reaches no one,
	// a good code included, at either block of the app and at /wx/phone.
	logins, phones := e.wx.Count(fakewx.EndpointJSCode2Session), e.wx.Count(fakewx.EndpointPhoneNumber)
	for i := 0; i < 4; i++ {
		tooManyFailures(t, e.loginFrom(fmt.Sprintf("ok-bob.x%d", i), x...), maxWait1m)
	}
	tooManyFailures(t, e.do("POST", "/two/wx/login", `{"code":"ok-bob.two"}`, x...), maxWait1m)
	tooManyFailures(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, append(bearer(tok), x...)...), maxWait1m)
	if n := e.wx.Count(fakewx.EndpointJSCode2Session) - logins; n != 0 {
		t.Errorf("limited logins made %d jscode2session calls", n)
	}
	if n := e.wx.Count(fakewx.EndpointPhoneNumber) - phones; n != 0 {
		t.Errorf("a limited phone call made %d getuserphonenumber calls", n)
	}
	// The session is fine: only the address's logins and phone calls are held.
	e.do("GET", "/api", "", append(bearer(tok), x...)...).upstream(t)

	// Other addresses are not limited: another forwarded one, and the
	// proxy's own.
	y := from("203.0.113.8")
	if got := e.loginFrom("bad-y1", y...).errorCode(t, 401); got != "invalid_code" {
		t.Errorf("another address: %q, want invalid_code", got)
	}
	e.tokenOf(e.loginFrom("ok-bob.y1", y...))
	e.tokenOf(e.loginFrom("ok-carol.local"))

	// IPv6 addresses count by /64.
	v6 := from("2001:db8:1:2::1")
	for i := 0; i < 3; i++ {
		e.loginFrom(fmt.Sprintf("bad-v6.%d", i), v6...).errorCode(t, 401)
	}
	tooManyFailures(t, e.loginFrom("ok-dave.v6a", from("2001:db8:1:2:ffff::99")...), maxWait1m)
	e.tokenOf(e.loginFrom("ok-dave.v6b", from("2001:db8:1:3::1")...))

	scrape := e.scrape()
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"caddy_wechat_auth_attempts_limited_total", []string{"app_id", appA, "endpoint", "login"}, 6},
		{"caddy_wechat_auth_attempts_limited_total", []string{"app_id", appA, "endpoint", "phone"}, 1},
		{"caddy_wechat_auth_requests_total", []string{"app_id", appA, "endpoint", "login", "result", "too_many_failures"}, 6},
	} {
		if got := metricValue(scrape, c.name, c.labels...) - metricValue(before, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	lines := strings.Split(e.logText(), "\n")
	for _, ip := range []string{"203.0.113.7", "2001:db8:1:2::1"} {
		n := 0
		for _, line := range lines {
			if strings.Contains(line, "client address limited") && strings.Contains(line, `"client_ip":"`+ip+`"`) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the log tells %d times that %s is limited, want once", n, ip)
		}
	}
}

func TestFailureLimitAtPhone(t *testing.T) {
	e := newEnv(t, "")
	e.loadBehindProxy(limitSites("3/1m"))
	z := from("198.51.100.20")
	tok := e.tokenOf(e.loginFrom("ok-dave.z", z...))
	phone := func(code string, hdr ...string) answer {
		return e.do("POST", "/wx/phone", fmt.Sprintf(`{"code":%q}`, code), append(bearer(tok), hdr...)...)
	}
	e.secret("13900139000", "a full phone number")
	e.secret("13700137000", "a full phone number")

	phone("bad-z1", z...).errorCode(t, 400)
	phoneAnswer(t, phone("phone-13900139000.z1", z...), "13900139000", "13900139000", "86")
	if got := phone("phone-13900139000.z1", z...).errorCode(t, 400); got != "invalid_phone_code" { // used
		t.Fatalf("a used phone code: %q", got)
	}
	phone("bad-z2", z...).errorCode(t, 400)

	before := e.scrape()
	phones, logins := e.wx.Count(fakewx.EndpointPhoneNumber), e.wx.Count(fakewx.EndpointJSCode2Session)
	tooManyFailures(t, phone("phone-13700137000.z2", z...), maxWait1m)
	tooManyFailures(t, e.do("POST", "/two/wx/phone", `{"code":"phone-13700137000.z3"}`, append(bearer(tok), z...)...), maxWait1m)
	tooManyFailures(t, e.loginFrom("ok-dave.z2", z...), maxWait1m)
	if n := e.wx.Count(fakewx.EndpointPhoneNumber) - phones; n != 0 {
		t.Errorf("limited phone calls made %d getuserphonenumber calls", n)
	}
	if n := e.wx.Count(fakewx.EndpointJSCode2Session) - logins; n != 0 {
		t.Errorf("a limited login made %d jscode2session calls", n)
	}
	// The same session from another address binds its phone.
	phoneAnswer(t, phone("phone-13700137000.w", from("198.51.100.21")...), "13700137000", "13700137000", "86")

	scrape := e.scrape()
	const limited = "caddy_wechat_auth_attempts_limited_total"
	if got := metricValue(scrape, limited, "app_id", appA, "endpoint", "phone") - metricValue(before, limited, "app_id", appA, "endpoint", "phone"); got != 2 {
		t.Errorf("phone attempts limited: %v, want 2", got)
	}
}

// A short window: limited, then free again once the failures are older
// than the window. (Sent until the first 429 rather than exactly three, so
// that a slow machine cannot make it flaky.) The handlers' clock is the
// test's: it moves the window instead of sleeping through it.
func TestFailureLimitWindowExpires(t *testing.T) {
	var now atomic.Int64 // the handlers' clock, in Unix nanoseconds
	now.Store(time.Now().UnixNano())
	defer wechatauth.SetClock(func() time.Time { return time.Unix(0, now.Load()) })()
	e := newEnv(t, "")
	e.loadBehindProxy(limitSites("3/2s"))
	w := from("192.0.2.44")
	var limited answer
	for i := 0; ; i++ {
		if i == 20 {
			t.Fatal("20 refused codes within a few seconds, and never a 429")
		}
		a := e.loginFrom(fmt.Sprintf("bad-w%d", i), w...)
		if a.status == http.StatusTooManyRequests {
			limited = a
			break
		}
		a.errorCode(t, 401)
	}
	tooManyFailures(t, limited, 3) // 2s and a fifteenth of it, rounded up

	// limited while the failures are younger than the window; free by the
	// window and a slice of it (a fifteenth) after them
	for moved := time.Duration(0); ; moved += 100 * time.Millisecond {
		now.Add(int64(100 * time.Millisecond))
		a := e.loginFrom(fmt.Sprintf("ok-erin.w%d", moved/time.Millisecond), w...)
		if a.status == http.StatusOK {
			if moved < time.Second {
				t.Fatalf("free again %v after the failures, in a 2s window", moved)
			}
			e.tokenOf(a)
			break
		}
		tooManyFailures(t, a, 3)
		if moved > 2*time.Second+2*time.Second/15+100*time.Millisecond {
			t.Fatalf("still limited %v after the failures, in a 2s window", moved)
		}
	}
}

func TestFailureLimitOff(t *testing.T) {
	e := newEnv(t, "")
	e.loadBehindProxy(limitSites("off"))
	if n := wechatauth.FailureLimiters(); n != 0 {
		t.Errorf("%d failure limiters with failure_limit off", n)
	}
	calls := e.wx.Count(fakewx.EndpointJSCode2Session)
	for i := 0; i < 40; i++ {
		e.loginFrom(fmt.Sprintf("bad-off%d", i), from("192.0.2.45")...).errorCode(t, 401)
	}
	if n := e.wx.Count(fakewx.EndpointJSCode2Session) - calls; n != 40 {
		t.Errorf("40 logins, %d jscode2session calls", n)
	}
	e.tokenOf(e.loginFrom("ok-erin.off", from("192.0.2.45")...))
}

// Without the option: 30 refused codes a minute, as the contract says.
func TestFailureLimitDefault(t *testing.T) {
	e := newEnv(t, "")
	for i := 0; i < 30; i++ {
		e.loginFrom(fmt.Sprintf("bad-d%d", i)).errorCode(t, 401)
	}
	tooManyFailures(t, e.loginFrom("ok-alice.d"), maxWait1m)
	// app B has its own limiter
	e.tokenOf(e.do("POST", "/b/wx/login", `{"code":"ok-alice.d"}`))
}

// The limiter is the app's: shared by its blocks, kept across reloads
// (a new n applies to the counts so far; a new window starts afresh),
// gone with the last block; blocks that disagree are refused.
func TestFailureLimitIsTheAppsAndKeptAcrossReloads(t *testing.T) {
	e := newEnv(t, "")
	e.load(limitSites("3/1m"))
	if n := wechatauth.FailureLimiters(); n != 1 {
		t.Errorf("%d failure limiters for one app in two blocks, want 1", n)
	}
	for i := 0; i < 3; i++ {
		e.do("POST", "/two/wx/login", fmt.Sprintf(`{"code":"bad-r%d"}`, i)).errorCode(t, 401)
	}
	tooManyFailures(t, e.loginFrom("ok-alice.r1"), maxWait1m)

	e.reloadViaAdmin(limitSites("3/1m"))
	tooManyFailures(t, e.loginFrom("ok-alice.r2"), maxWait1m)

	e.reloadViaAdmin(limitSites("5/1m"))
	for i := 3; i < 5; i++ {
		e.loginFrom(fmt.Sprintf("bad-r%d", i)).errorCode(t, 401)
	}
	tooManyFailures(t, e.loginFrom("ok-alice.r3"), maxWait1m)

	msg := e.loadFails(strings.Replace(limitSites("5/1m"), "failure_limit 5/1m", "", 1))
	for _, want := range []string{appA, "failure_limit", "5/1m", "30/1m", "every wechat_auth block of the app"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error %q lacks %q", msg, want)
		}
	}
	tooManyFailures(t, e.loginFrom("ok-alice.r4"), maxWait1m) // the running config, and its counts

	e.reloadViaAdmin(limitSites("5/2m"))
	e.tokenOf(e.loginFrom("ok-alice.r5"))
	if n := wechatauth.FailureLimiters(); n != 1 {
		t.Errorf("%d failure limiters after the window changed, want 1", n)
	}
	e.reloadViaAdmin(limitSites("off"))
	if n := wechatauth.FailureLimiters(); n != 0 {
		t.Errorf("%d failure limiters left with failure_limit off", n)
	}
	e.load(`
http://127.0.0.1:{{.Port}} {
	respond "no wechat_auth"
}`)
	if n := wechatauth.FailureLimiters(); n != 0 {
		t.Errorf("%d failure limiters left without any wechat_auth block", n)
	}
	e.load("")
}
