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

// redisSites: app A with its sessions in Redis, on three routes.
const redisSites = `
http://127.0.0.1:{{.Port}} {
	handle /phone/* {
		wechat_auth {
			{{template "appA" .}}
			require phone
			redis REDIS_URL
			redis_timeout 300ms
		}
		reverse_proxy {{.Upstream}}
	}
	handle /open/* {
		wechat_auth {
			{{template "appA" .}}
			require none
			redis REDIS_URL
			redis_timeout 300ms
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
			redis REDIS_URL
			redis_timeout 300ms
		}
		reverse_proxy {{.Upstream}}
	}
}`

func TestRedisStoreThroughCaddy(t *testing.T) {
	rd := testredis.Start(t)
	e := newEnv(t, strings.ReplaceAll(redisSites, "REDIS_URL", rd.URL()))
	e.secret("13800138000", "a full phone number")
	tok := e.login("", "ok-alice")
	up := e.do("GET", "/api", "", bearer(tok)...).upstream(t)
	if up.Headers.Get("X-WX-OpenID") != fakewx.OpenID(appA, "alice") {
		t.Fatalf("identity through Redis: %v", up.Headers)
	}
	// the legacy phone flow reads the user's keys back from Redis
	data, iv, err := e.wx.EncryptPhone(appA, fakewx.OpenID(appA, "alice"), "13800138000", "86", appA)
	if err != nil {
		t.Fatal(err)
	}
	phoneAnswer(t, e.do("POST", "/wx/phone", fmt.Sprintf(`{"encryptedData":%q,"iv":%q}`, data, iv), bearer(tok)...),
		"13800138000", "13800138000", "86")
	if up := e.do("GET", "/phone/x", "", bearer(tok)...).upstream(t); up.Headers.Get("X-WX-Phone") != "13800138000" {
		t.Errorf("phone through Redis: %v", up.Headers)
	}
	e.reloadViaAdmin(strings.ReplaceAll(redisSites, "REDIS_URL", rd.URL()))
	if up := e.do("GET", "/phone/x", "", bearer(tok)...).upstream(t); up.Headers.Get("X-WX-Phone") != "13800138000" {
		t.Errorf("phone lost in a reload: %v", up.Headers)
	}
	if a := e.do("POST", "/wx/logout", "", bearer(tok)...); a.status != 204 {
		t.Fatalf("logout: %d %s", a.status, a.body)
	}
	if got := e.do("GET", "/api", "", bearer(tok)...).errorCode(t, 401); got != "invalid_token" {
		t.Errorf("after logout: %q", got)
	}
}

// Redis paused (hung) or stopped: bounded 503s, never a request let
// through unchecked, and back to normal by itself when Redis returns.
func TestRedisDownAnswers503AndRecovers(t *testing.T) {
	t.Parallel()
	rd := testredis.Start(t)
	e := newEnvOpts(t, strings.ReplaceAll(redisSites, "REDIS_URL", rd.URL()), envOptions{Process: true})
	tok := e.login("", "ok-alice")

	expect503 := func(when string) {
		t.Helper()
		// A session read from the near cache a few milliseconds before
		// Redis hung is still served until the store's heartbeat (25 ms)
		// finds Redis gone; the contract's bound is 100 ms.
		within(t, time.Second, when+": the store sees Redis down", func() bool {
			return e.do("GET", "/api/x", "", bearer(tok)...).status == http.StatusServiceUnavailable
		})
		before := e.upHits.Load()
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/api/x", ""},
			{"GET", "/open/x", ""}, // require none, but a token was sent: it must be checked
			{"GET", "/phone/x", ""},
			{"POST", "/wx/logout", ""},
			{"POST", "/wx/phone", `{"code":"phone-13800138000"}`},
		} {
			start := time.Now()
			a := e.do(req.method, req.path, req.body, bearer(tok)...)
			if got := a.errorCode(t, http.StatusServiceUnavailable); got != "session_store_unavailable" {
				t.Errorf("%s: %s %s: %q", when, req.method, req.path, got)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("%s: %s %s took %v", when, req.method, req.path, d)
			}
		}
		if got := e.do("POST", "/wx/login", `{"code":"ok-bob.`+strings.ReplaceAll(when, " ", "_")+`"}`).errorCode(t, 503); got != "session_store_unavailable" {
			t.Errorf("%s: login: %q", when, got)
		}
		if e.upHits.Load() != before {
			t.Errorf("%s: a request reached the upstream without a checked session", when)
		}
		// anonymous requests on a require-none route need no store
		e.do("GET", "/open/x", "").upstream(t)
	}

	rd.Pause()
	expect503("redis paused")
	rd.Resume()
	// the same session, back by itself once the store sees Redis again
	within(t, 3*time.Second, "the session after Redis resumed", func() bool {
		return e.do("GET", "/api/x", "", bearer(tok)...).status == http.StatusOK
	})

	rd.Stop()
	expect503("redis stopped")
	rd.Restart() // empty: old sessions are gone, new logins work
	within(t, 3*time.Second, "the store after Redis restarted", func() bool {
		return e.do("GET", "/api/x", "", bearer(tok)...).status != http.StatusServiceUnavailable
	})
	if got := e.do("GET", "/api/x", "", bearer(tok)...).errorCode(t, 401); got != "invalid_token" {
		t.Errorf("old token on an emptied Redis: %q", got)
	}
	tok2 := e.login("", "ok-alice.again")
	e.do("GET", "/api/x", "", bearer(tok2)...).upstream(t)
	if !strings.Contains(e.logText(), "session store failed") {
		t.Errorf("the store failures were not logged")
	}
}

// Two Caddy processes with their own config files on one Redis: a session
// made on one works on the other, a phone bound on one shows on the
// other, a logout on either is immediate on both.
func TestTwoCaddyProcessesShareSessionsThroughRedis(t *testing.T) {
	t.Parallel()
	e := newWorld(t, envOptions{}) // the fake WeChat, the upstream, and the secrets grep
	rd := testredis.Start(t)
	e.secret("13800138000", "a full phone number")
	sites := strings.ReplaceAll(redisSites, "REDIS_URL", rd.URL())
	one := startCaddyProcess(t, e, sites)
	two := startCaddyProcess(t, e, sites)

	at := e.at
	a := at(one, "POST", "/wx/login", `{"code":"ok-alice"}`)
	tok, _ := a.json(t)["token"].(string)
	if a.status != 200 || tok == "" {
		t.Fatalf("login on one: %d %s", a.status, a.body)
	}
	e.secret(tok, "a session token")
	up := at(two, "GET", "/api/x", "", bearer(tok)...).upstream(t)
	if up.Headers.Get("X-WX-OpenID") != fakewx.OpenID(appA, "alice") {
		t.Errorf("two does not know one's session: %v", up.Headers)
	}

	// the phone by code on two; both instances share WeChat's stable token
	phoneAnswer(t, at(two, "POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...),
		"13800138000", "13800138000", "86")
	if up := at(one, "GET", "/phone/x", "", bearer(tok)...).upstream(t); up.Headers.Get("X-WX-Phone") != "13800138000" {
		t.Errorf("one does not see the phone bound on two: %v", up.Headers)
	}
	// a dead access_token seen on one does not kill the one two holds
	e.wx.ExpireToken(appA)
	phoneAnswer(t, at(one, "POST", "/wx/phone", `{"code":"phone-13800138001"}`, bearer(tok)...),
		"13800138001", "13800138001", "86")
	phoneAnswer(t, at(two, "POST", "/wx/phone", `{"code":"phone-13800138002"}`, bearer(tok)...),
		"13800138002", "13800138002", "86")
	e.secret("13800138001", "a full phone number")
	e.secret("13800138002", "a full phone number")
	if n := e.wx.Count(fakewx.EndpointStableTokenForce); n != 0 {
		t.Errorf("%d force refreshes", n)
	}
	if n := e.wx.Count(fakewx.EndpointToken); n != 0 {
		t.Errorf("%d calls of the old /cgi-bin/token", n)
	}

	// logout on two: dead on one within 100 ms (one keeps the session in
	// its near cache, and Redis tells it)
	if a := at(two, "POST", "/wx/logout", "", bearer(tok)...); a.status != 204 {
		t.Fatalf("logout on two: %d %s", a.status, a.body)
	}
	within(t, 100*time.Millisecond, "one sees the logout on two", func() bool {
		return at(one, "GET", "/api/x", "", bearer(tok)...).status == http.StatusUnauthorized
	})
	if got := at(one, "GET", "/api/x", "", bearer(tok)...).errorCode(t, 401); got != "invalid_token" {
		t.Errorf("one after logout on two: %q", got)
	}
}
