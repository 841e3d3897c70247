package wechatauth_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// WeChat, as it really behaves (2), through Caddy: the phone flows' answers
// to 40013, to data sealed with a key replaced outside a login, and to a
// billed phone code that met a passing hiccup.

// behaviourSites: app A with failure_limit 2/1m and timeout 2s; STORE is its
// store line (empty: in memory).
const behaviourSites = `
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		{{template "appA" .}}
		failure_limit 2/1m
		timeout 2s
		STORE
	}
	reverse_proxy {{.Upstream}}
}`

// 40013 at getuserphonenumber is a code made for another app: the
// client's error (400 invalid_phone_code), counted by failure_limit, never
// wechat_config_error nor an ERROR line for the operator.
func TestPhoneCodeOfAnotherApp(t *testing.T) {
	e := newEnv(t, strings.ReplaceAll(behaviourSites, "STORE", ""))
	tok := e.login("", "ok-alice.1")
	for i := 1; i <= 2; i++ {
		a := e.do("POST", "/wx/phone", fmt.Sprintf(`{"code":"foreign-%d"}`, i), bearer(tok)...)
		if got := a.errorCode(t, http.StatusBadRequest); got != "invalid_phone_code" {
			t.Fatalf("40013, attempt %d: %q, want invalid_phone_code", i, got)
		}
	}
	// two refused codes: the limit (2/1m) is reached, the next attempt
	// reaches no one
	calls := e.wx.Count(fakewx.EndpointPhoneNumber)
	tooManyFailures(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000.1"}`, bearer(tok)...), maxWait1m)
	if n := e.wx.Count(fakewx.EndpointPhoneNumber) - calls; n != 0 {
		t.Errorf("%d getuserphonenumber calls past the failure limit", n)
	}
	for _, l := range e.logEntries("error", "") {
		t.Errorf("40013 at the phone logged at ERROR: %v", l)
	}
	if strings.Contains(e.logText(), "wechat_config_error") {
		t.Error("40013 at the phone answered or logged as wechat_config_error")
	}
}

// Legacy data that no stored session_key opens: wechat_auth asks
// checksession about the user's newest key. Data sealed with a key WeChat
// replaced outside a login (its data pre-fetch) answers 400
// session_key_expired, and after a fresh login (which brings that key)
// the same data binds; data that the current key does not open is 400
// undecryptable_data. Both stores (the keys live in the store).
func TestPhoneDataOfAReplacedSessionKey(t *testing.T) {
	eachStoreEnv(t, behaviourSites, func(t *testing.T, e *env) {
		e.secret("13800138000", "a full phone number")
		tok := e.login("", "ok-alice.1")
		alice := fakewx.OpenID(appA, "alice")
		replaced, err := e.wx.ReplaceSessionKey(appA, alice)
		if err != nil {
			t.Fatal(err)
		}
		e.secret(replaced, "a session_key")
		sealed := encrypted(t, e, "alice", "13800138000", "86", appA) // with the replaced key
		checks := e.wx.Count(fakewx.EndpointCheckSession)
		a := e.do("POST", "/wx/phone", sealed, bearer(tok)...)
		if got := a.errorCode(t, http.StatusBadRequest); got != "session_key_expired" {
			t.Fatalf("data sealed with a replaced key: %q, want session_key_expired", got)
		}
		if n := e.wx.Count(fakewx.EndpointCheckSession) - checks; n != 1 {
			t.Errorf("%d checksession calls, want 1", n)
		}
		// log in again (WeChat hands out its current key: the replaced
		// one), then send the same data again
		again := e.login("", "same-alice.2")
		phoneAnswer(t, e.do("POST", "/wx/phone", sealed, bearer(again)...), "13800138000", "13800138000", "86")

		// bob's key is current, the data is wrong: undecryptable_data
		bobTok := e.login("", "ok-bob.1")
		data, iv, err := e.wx.EncryptPhone(appA, fakewx.OpenID(appA, "bob"), "13800138000", "86", appA)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(data)
		raw[len(raw)-1] ^= 0x41 // the padding no longer checks
		checks = e.wx.Count(fakewx.EndpointCheckSession)
		a = e.do("POST", "/wx/phone", fmt.Sprintf(`{"encryptedData":%q,"iv":%q}`, base64.StdEncoding.EncodeToString(raw), iv), bearer(bobTok)...)
		if got := a.errorCode(t, http.StatusBadRequest); got != "undecryptable_data" {
			t.Errorf("wrong data under a current key: %q, want undecryptable_data", got)
		}
		if n := e.wx.Count(fakewx.EndpointCheckSession) - checks; n != 1 {
			t.Errorf("%d checksession calls, want 1", n)
		}
		e.checkLogHasNoSecrets()
	})
}

// A phone code is billed when the user presses the button: a call that
// met -1 or timed out is retried once, and the code still binds; a WeChat
// that stays busy answers 503 wechat_busy after the one retry.
func TestPhoneCodeRetriedOnceAfterAHiccup(t *testing.T) {
	t.Parallel()
	e := newEnvOpts(t, strings.ReplaceAll(behaviourSites, "STORE", ""), envOptions{Process: true})
	e.secret("13800138000", "a full phone number")
	e.secret("13900139000", "a full phone number")
	tok := e.login("", "ok-alice.1")
	for _, c := range []struct{ code, pure string }{
		{"busyonce-13800138000", "13800138000"},
		{"hangonce-13900139000", "13900139000"},
	} {
		calls := e.wx.Count(fakewx.EndpointPhoneNumber)
		phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"`+c.code+`"}`, bearer(tok)...), c.pure, c.pure, "86")
		if n := e.wx.Count(fakewx.EndpointPhoneNumber) - calls; n != 2 {
			t.Errorf("%s: %d getuserphonenumber calls, want 2 (one retry)", c.code, n)
		}
	}
	calls := e.wx.Count(fakewx.EndpointPhoneNumber)
	if got := e.do("POST", "/wx/phone", `{"code":"busy-1"}`, bearer(tok)...).errorCode(t, http.StatusServiceUnavailable); got != "wechat_busy" {
		t.Errorf("busy every time: %q, want wechat_busy", got)
	}
	if n := e.wx.Count(fakewx.EndpointPhoneNumber) - calls; n != 2 {
		t.Errorf("busy every time: %d getuserphonenumber calls, want 2 (one retry, no more)", n)
	}
	// a refused code is never retried
	calls = e.wx.Count(fakewx.EndpointPhoneNumber)
	e.do("POST", "/wx/phone", `{"code":"bad-1"}`, bearer(tok)...).errorCode(t, http.StatusBadRequest)
	if n := e.wx.Count(fakewx.EndpointPhoneNumber) - calls; n != 1 {
		t.Errorf("a refused code: %d getuserphonenumber calls, want 1", n)
	}
}
