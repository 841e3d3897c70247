package wechatauth_test

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	wechatauth "github.com/wechat-auth/wechat_auth"
)

// A reload through the admin API (what `caddy reload` does) keeps every
// session and every bound phone, whether the config changed or not.
func TestReloadKeepsSessionsAndPhones(t *testing.T) {
	e := newEnv(t, "")
	e.secret("13800138000", "a full phone number")
	tok := e.login("", "ok-alice")
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...),
		"13800138000", "13800138000", "86")
	tokB := e.login("/b", "ok-bob")

	check := func(when string) {
		t.Helper()
		up := e.do("GET", "/phone/x", "", bearer(tok)...).upstream(t)
		if up.Headers.Get("X-WX-Phone") != "13800138000" {
			t.Errorf("%s: phone lost: %v", when, up.Headers)
		}
		e.do("GET", "/b/x", "", bearer(tokB)...).upstream(t)
	}
	e.reloadViaAdmin(defaultSites) // the same config, forced
	check("after a reload of the same config")

	// the app's store settings change in every block of the app
	changed := strings.ReplaceAll(defaultSites, `{{template "appA" .}}`,
		"{{template \"appA\" .}}\n\t\t\tsession_ttl 3h\n\t\t\tmax_sessions 500000")
	changed = strings.Replace(changed, "handle /open/* {", "handle /new/* {\n\t\trespond \"new\"\n\t}\n\thandle /open/* {", 1)
	e.reloadViaAdmin(changed)
	check("after a reload of a changed config")
	if a := e.do("GET", "/new/x", ""); a.status != 200 || string(a.body) != "new" {
		t.Fatalf("the changed config is not running: %d %s", a.status, a.body)
	}
	// and the store goes on working for new logins and logouts
	tok2 := e.login("", "ok-carol")
	if a := e.do("POST", "/wx/logout", "", bearer(tok2)...); a.status != 204 {
		t.Errorf("logout after reload: %d", a.status)
	}
}

// The shared state lives exactly as long as some block of its app: one
// store and one client per app however many blocks, released on the last.
func TestSharedStateIsReleasedWithTheLastBlock(t *testing.T) {
	e := newEnv(t, "")
	// apps A (three blocks) and B: a store and a client each
	if n := wechatauth.SharedStates(); n != 4 {
		t.Errorf("%d shared states with apps A and B, want 4", n)
	}
	e.load(`
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		{{template "appA" .}}
	}
	reverse_proxy {{.Upstream}}
}`)
	if n := wechatauth.SharedStates(); n != 2 {
		t.Errorf("%d shared states with app A only, want 2", n)
	}
	e.load(`
http://127.0.0.1:{{.Port}} {
	respond "no wechat_auth"
}`)
	if n := wechatauth.SharedStates(); n != 0 {
		t.Errorf("%d shared states left without any wechat_auth block", n)
	}
	e.load("") // the default again, for the cleanup's log check
	if err := caddy.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := wechatauth.SharedStates(); n != 0 {
		t.Errorf("%d shared states left after Caddy stopped", n)
	}
	e.load("") // the cleanup stops it again
}
