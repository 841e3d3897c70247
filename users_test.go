package wechatauth_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// storeKinds runs a test against the in-memory store and against Redis:
// extra holds the store's lines for a wechat_auth block (every block of
// the app must carry the same).
func storeKinds(t *testing.T, test func(t *testing.T, extra string)) {
	t.Run("memory", func(t *testing.T) { test(t, "") })
	t.Run("redis", func(t *testing.T) {
		rd := testredis.Start(t)
		test(t, "redis "+rd.URL())
	})
}

// usersSites: app A on three routes with the store lines STORE, and app B.
func usersSites(store string) string {
	s := strings.ReplaceAll(defaultSites, `{{template "appA" .}}`, `{{template "appA" .}}
			`+store)
	return s
}

// A phone bound once belongs to the user: a later login starts with it,
// so require phone passes without another (billed) getPhoneNumber, for
// phone_ttl after the bind; binding a new one replaces it.
func TestPhoneBelongsToTheUser(t *testing.T) {
	t.Parallel()
	storeKinds(t, func(t *testing.T, store string) {
		t.Parallel() // beside the other store kind: each has its own Caddy process
		e := newEnvOpts(t, usersSites(store+"\n\t\t\tphone_ttl 1s"), envOptions{Process: true})
		e.secret("13800138000", "a full phone number")
		e.secret("13800138009", "a full phone number")
		tok := e.login("", "ok-alice.1")
		phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...),
			"13800138000", "13800138000", "86")
		bound := time.Now()
		if a := e.do("POST", "/wx/logout", "", bearer(tok)...); a.status != 204 {
			t.Fatalf("logout: %d %s", a.status, a.body)
		}
		calls := e.wx.Count(fakewx.EndpointPhoneNumber)

		tok2 := e.login("", "ok-alice.2")
		up := e.do("GET", "/phone/x", "", bearer(tok2)...).upstream(t)
		if up.Headers.Get("X-WX-Phone") != "13800138000" || up.Headers.Get("X-WX-Phone-Country") != "86" {
			t.Errorf("a new login of the user lacks the bound phone: %v", up.Headers)
		}
		if n := e.wx.Count(fakewx.EndpointPhoneNumber); n != calls {
			t.Errorf("%d more getPhoneNumber calls", n-calls)
		}
		// another user has no phone
		tokB := e.login("", "ok-bob.1")
		if got := e.do("GET", "/phone/x", "", bearer(tokB)...).errorCode(t, 403); got != "phone_required" {
			t.Errorf("bob: %q", got)
		}
		// a new bind replaces the phone, for the user's next logins too
		phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138009"}`, bearer(tok2)...),
			"13800138009", "13800138009", "86")
		bound = time.Now()
		tok3 := e.login("", "ok-alice.3")
		if up := e.do("GET", "/phone/x", "", bearer(tok3)...).upstream(t); up.Headers.Get("X-WX-Phone") != "13800138009" {
			t.Errorf("the rebound phone: %v", up.Headers)
		}
		// phone_ttl after the bind, a new login starts without it
		time.Sleep(time.Until(bound.Add(1500 * time.Millisecond)))
		tok4 := e.login("", "ok-alice.4")
		if got := e.do("GET", "/phone/x", "", bearer(tok4)...).errorCode(t, 403); got != "phone_required" {
			t.Errorf("after phone_ttl: %q", got)
		}
	})
}

// {"all": true} ends every session of the caller's user, and only theirs.
func TestLogoutEverywhere(t *testing.T) {
	storeKinds(t, func(t *testing.T, store string) {
		e := newEnv(t, usersSites(store))
		var toks []string
		for i := 1; i <= 3; i++ {
			toks = append(toks, e.login("", fmt.Sprintf("ok-alice.%d", i)))
		}
		bob := e.login("", "ok-bob.1")
		// a plain logout is v1's: 204, one session
		if a := e.do("POST", "/wx/logout", `{"all":false}`, bearer(toks[2])...); a.status != 204 {
			t.Fatalf("plain logout: %d %s", a.status, a.body)
		}
		if got := e.do("POST", "/wx/logout", `{"all":`, bearer(toks[0])...).errorCode(t, 400); got != "invalid_json" {
			t.Errorf("malformed body: %q", got)
		}
		a := e.do("POST", "/wx/logout", `{"all":true}`, bearer(toks[0])...)
		if a.status != 200 {
			t.Fatalf("logout all: %d %s", a.status, a.body)
		}
		if n, _ := a.json(t)["revoked"].(float64); n != 2 {
			t.Errorf("revoked %v, want 2 (three logins, one logged out already)", a.json(t)["revoked"])
		}
		for i, tok := range toks {
			if got := e.do("GET", "/api", "", bearer(tok)...).errorCode(t, 401); got != "invalid_token" {
				t.Errorf("token %d after logout everywhere: %q", i, got)
			}
		}
		e.do("GET", "/api", "", bearer(bob)...).upstream(t)
		// the user logs in again as usual
		e.do("GET", "/api", "", bearer(e.login("", "ok-alice.4"))...).upstream(t)
	})
}

// The admin API ends every session of a user and forgets the phone; it
// lists the apps without any user data.
func TestAdminRevokesAUser(t *testing.T) {
	storeKinds(t, func(t *testing.T, store string) {
		e := newEnv(t, usersSites(store))
		e.secret("13800138000", "a full phone number")
		alice := fakewx.OpenID(appA, "alice")
		t1 := e.login("", "ok-alice.1")
		t2 := e.login("/b", "ok-alice.2") // app B: another user, untouched
		phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(t1)...),
			"13800138000", "13800138000", "86")
		t3 := e.login("", "ok-alice.3")
		bob := e.login("", "ok-bob.1")

		admin := func(method, path string) answer {
			t.Helper()
			req, _ := http.NewRequest(method, e.adminURL+path, nil)
			return e.send(req)
		}
		list := admin("GET", "/wechat_auth/apps")
		if list.status != 200 || !strings.Contains(string(list.body), appA) || !strings.Contains(string(list.body), appB) {
			t.Fatalf("GET /wechat_auth/apps: %d %s", list.status, list.body)
		}
		if strings.Contains(string(list.body), alice) {
			t.Errorf("the app list shows an openid: %s", list.body)
		}
		if store == "" && !strings.Contains(string(list.body), `"sessions":3`) {
			t.Errorf("app A should count 3 live sessions: %s", list.body)
		}

		a := admin("DELETE", "/wechat_auth/apps/"+appA+"/users/"+alice)
		if a.status != 200 {
			t.Fatalf("revoke: %d %s", a.status, a.body)
		}
		if n, _ := a.json(t)["revoked"].(float64); n != 2 {
			t.Errorf("revoked %s, want 2", a.body)
		}
		for _, tok := range []string{t1, t3} {
			if got := e.do("GET", "/api", "", bearer(tok)...).errorCode(t, 401); got != "invalid_token" {
				t.Errorf("after revoke: %q", got)
			}
		}
		e.do("GET", "/api", "", bearer(bob)...).upstream(t)
		e.do("GET", "/b/api", "", bearer(t2)...).upstream(t)
		// the phone is forgotten: a new login needs it again
		t4 := e.login("", "ok-alice.4")
		if got := e.do("GET", "/phone/x", "", bearer(t4)...).errorCode(t, 403); got != "phone_required" {
			t.Errorf("after revoke, the phone: %q", got)
		}
		if a := admin("DELETE", "/wechat_auth/apps/"+appA+"/users/"+alice); a.status != 200 || !strings.Contains(string(a.body), `"revoked":1`) {
			t.Errorf("second revoke: %d %s", a.status, a.body)
		}
		if a := admin("DELETE", "/wechat_auth/apps/wxnotservedhere0/users/"+alice); a.status != 404 {
			t.Errorf("unknown app: %d %s", a.status, a.body)
		}
		if a := admin("DELETE", "/wechat_auth/apps/"+appA+"/users/not.an*openid"); a.status != 400 {
			t.Errorf("malformed openid: %d %s", a.status, a.body)
		}
		if a := admin("GET", "/wechat_auth/apps/"+appA+"/users/"+alice); a.status != 405 {
			t.Errorf("GET on a user: %d %s", a.status, a.body)
		}
	})
}

// idle_timeout: a session used at least every idle_timeout/2 lives on; one
// left unused for 1.5 × idle_timeout has ended; session_ttl still caps it.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	storeKinds(t, func(t *testing.T, store string) {
		t.Parallel() // beside the other store kind: each has its own Caddy process
		e := newEnvOpts(t, usersSites(store+"\n\t\t\tidle_timeout 1200ms"), envOptions{Process: true})
		busy := e.login("", "ok-alice.1")
		idle := e.login("", "ok-bob.1")
		start := time.Now()
		for time.Since(start) < 3*time.Second {
			e.do("GET", "/api", "", bearer(busy)...).upstream(t)
			time.Sleep(600 * time.Millisecond) // idle_timeout/2
		}
		// 3 s without use: well past 1.5 × idle_timeout
		if got := e.do("GET", "/api", "", bearer(idle)...).errorCode(t, 401); got != "invalid_token" {
			t.Errorf("an idle session still works: %q", got)
		}
		e.do("GET", "/api", "", bearer(busy)...).upstream(t)
	})
}

// Two Caddy processes on one Redis: logout everywhere on one, and an
// admin revocation on the other, end the user's sessions on both.
func TestUsersAcrossTwoCaddyProcesses(t *testing.T) {
	t.Parallel()
	e := newWorld(t, envOptions{})
	rd := testredis.Start(t)
	sites := strings.ReplaceAll(redisSites, "REDIS_URL", rd.URL())
	one := startCaddyProcess(t, e, sites)
	two := startCaddyProcess(t, e, sites)
	at := e.at
	login := func(p *caddyProcess, code string) string {
		t.Helper()
		a := at(p, "POST", "/wx/login", fmt.Sprintf(`{"code":%q}`, code))
		tok, _ := a.json(t)["token"].(string)
		if a.status != 200 || tok == "" {
			t.Fatalf("login %s: %d %s", code, a.status, a.body)
		}
		e.secret(tok, "a session token")
		return tok
	}
	a1, a2 := login(one, "ok-alice.1"), login(two, "ok-alice.2")
	// both processes know both sessions (and keep them in their caches)
	for _, p := range []*caddyProcess{one, two} {
		for _, tok := range []string{a1, a2} {
			at(p, "GET", "/api", "", bearer(tok)...).upstream(t)
		}
	}
	a := at(two, "POST", "/wx/logout", `{"all":true}`, bearer(a1)...)
	if a.status != 200 || !strings.Contains(string(a.body), `"revoked":2`) {
		t.Fatalf("logout everywhere on two: %d %s", a.status, a.body)
	}
	for _, tok := range []string{a1, a2} {
		within(t, 100*time.Millisecond, "one sees the logout everywhere on two", func() bool {
			return at(one, "GET", "/api", "", bearer(tok)...).status == 401
		})
	}

	b1, b2 := login(one, "ok-bob.1"), login(two, "ok-bob.2")
	for _, p := range []*caddyProcess{one, two} {
		for _, tok := range []string{b1, b2} {
			at(p, "GET", "/api", "", bearer(tok)...).upstream(t)
		}
	}
	req, _ := http.NewRequest("DELETE", one.adminURL+"/wechat_auth/apps/"+appA+"/users/"+fakewx.OpenID(appA, "bob"), nil)
	if a := e.send(req); a.status != 200 || !strings.Contains(string(a.body), `"revoked":2`) {
		t.Fatalf("admin revoke on one: %d %s", a.status, a.body)
	}
	for _, tok := range []string{b1, b2} {
		within(t, 100*time.Millisecond, "two sees the admin's revocation on one", func() bool {
			return at(two, "GET", "/api", "", bearer(tok)...).status == 401
		})
	}
}

// within polls cond until it holds, failing the test if it does not
// within d (the contract's bound; measured from the call, so it includes
// the requests' own time).
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for {
		if cond() {
			return
		}
		if time.Since(start) > d {
			t.Errorf("%s: not within %v", what, d)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
