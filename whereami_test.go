package wechatauth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// whereSites: app A with an idle_timeout, app B (under /b/) without one;
// STORE is the store line of both (empty: in memory).
const whereSites = `
http://127.0.0.1:{{.Port}} {
	handle_path /b/* {
		wechat_auth {
			app_id {{.AppB}}
			app_secret {{.SecretB}}
			api_base {{.WeChat}}
			STORE
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
			idle_timeout 10m
			STORE
		}
		reverse_proxy {{.Upstream}}
	}
}`

// eachStoreEnv runs f with a Caddy of sites, once with the sessions in
// memory and once in Redis (sites' STORE line picks the store).
func eachStoreEnv(t *testing.T, sites string, f func(t *testing.T, e *env)) {
	t.Run("memory", func(t *testing.T) {
		f(t, newEnv(t, strings.ReplaceAll(sites, "STORE", "")))
	})
	t.Run("redis", func(t *testing.T) {
		rd := testredis.Start(t)
		f(t, newEnv(t, strings.ReplaceAll(sites, "STORE", "redis "+rd.URL())))
	})
}

// loginBound logs in at prefix with code and returns the token and the
// answer's phone_bound.
func loginBound(t *testing.T, e *env, prefix, code string) (string, bool) {
	t.Helper()
	a := e.do("POST", prefix+"/wx/login", `{"code":"`+code+`"}`)
	if a.status != http.StatusOK {
		t.Fatalf("login %s: %d %s", code, a.status, a.body)
	}
	m := a.json(t)
	tok, _ := m["token"].(string)
	bound, ok := m["phone_bound"].(bool)
	if tok == "" || !ok {
		t.Fatalf("login answer lacks token or phone_bound: %s", a.body)
	}
	e.secret(tok, "a session token")
	return tok, bound
}

// whereAmI asks GET /wx/session and checks the answer's shape.
func whereAmI(t *testing.T, e *env, prefix, tok string) (appID, platform string, expiresIn float64, bound bool) {
	t.Helper()
	a := e.do("GET", prefix+"/wx/session", "", bearer(tok)...)
	if a.status != http.StatusOK {
		t.Fatalf("GET %s/wx/session: %d %s", prefix, a.status, a.body)
	}
	if cc := a.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	m := a.json(t)
	if len(m) != 4 {
		t.Errorf("answer has %d fields, want app_id, platform, expires_in, phone_bound: %s", len(m), a.body)
	}
	appID, _ = m["app_id"].(string)
	platform, _ = m["platform"].(string)
	expiresIn, _ = m["expires_in"].(float64)
	bound, ok := m["phone_bound"].(bool)
	if !ok {
		t.Fatalf("answer lacks phone_bound: %s", a.body)
	}
	return
}

// The client knows where it stands (contract v3): /wx/login answers
// phone_bound, GET /wx/session the app, the platform, the seconds left
// (idle_timeout's or session_ttl's, the earlier) and phone_bound; 401
// without a valid session; never passed on.
func TestSessionEndpointAndPhoneBound(t *testing.T) {
	eachStoreEnv(t, whereSites, func(t *testing.T, e *env) {
		e.secret("13800138000", "a full phone number")
		tok, bound := loginBound(t, e, "", "ok-alice.1")
		if bound {
			t.Error("a user who never bound a phone: phone_bound true")
		}
		app, platform, left, bound := whereAmI(t, e, "", tok)
		if app != appA || platform != "wechat" || bound {
			t.Errorf("before the bind: app_id %q, platform %q, phone_bound %v", app, platform, bound)
		}
		if left > 600 || left < 590 { // idle_timeout 10m, under session_ttl 2h
			t.Errorf("expires_in %v with idle_timeout 10m, want about 600", left)
		}
		phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...),
			"13800138000", "13800138000", "86")
		if _, _, _, bound := whereAmI(t, e, "", tok); !bound {
			t.Error("after the bind: phone_bound false")
		}
		// a returning user whose phone is remembered is told at login
		again, bound := loginBound(t, e, "", "ok-alice.2")
		if !bound {
			t.Error("alice's next login: phone_bound false, her phone is bound (phone_ttl)")
		}
		if _, _, _, bound := whereAmI(t, e, "", again); !bound {
			t.Error("alice's next session: phone_bound false")
		}
		if _, bound := loginBound(t, e, "", "ok-bob.1"); bound {
			t.Error("bob never bound a phone: phone_bound true")
		}
		// app B: no idle_timeout, the default session_ttl (720h)
		tokB, _ := loginBound(t, e, "/b", "ok-carol.1")
		app, _, left, _ = whereAmI(t, e, "/b", tokB)
		if app != appB || left > 720*3600 || left < 720*3600-10 {
			t.Errorf("app B: app_id %q, expires_in %v, want %s and about %d", app, left, appB, 720*3600)
		}
		// a token of app B is no session of app A
		if got := e.do("GET", "/wx/session", "", bearer(tokB)...).errorCode(t, 401); got != "invalid_token" {
			t.Errorf("app B's token at app A: %q", got)
		}

		hits := e.upHits.Load()
		for _, c := range []struct {
			name, method string
			hdr          []string
			status       int
			code         string
		}{
			{"no token", "GET", nil, 401, "unauthorized"},
			{"junk token", "GET", bearer("junk"), 401, "invalid_token"},
			{"POST", "POST", bearer(tok), 405, "method_not_allowed"},
		} {
			a := e.do(c.method, "/wx/session", "", c.hdr...)
			if got := a.errorCode(t, c.status); got != c.code {
				t.Errorf("%s: %q, want %q", c.name, got, c.code)
			}
			if c.status == 405 && a.header.Get("Allow") != "GET" {
				t.Errorf("405 with Allow %q", a.header.Get("Allow"))
			}
		}
		if a := e.do("POST", "/wx/logout", "", bearer(tok)...); a.status != 204 {
			t.Fatalf("logout: %d %s", a.status, a.body)
		}
		if got := e.do("GET", "/wx/session", "", bearer(tok)...).errorCode(t, 401); got != "invalid_token" {
			t.Errorf("after logout: %q", got)
		}
		if n := e.upHits.Load() - hits; n != 0 {
			t.Errorf("/wx/session passed %d requests upstream", n)
		}
		e.checkLogHasNoSecrets()
	})
}
