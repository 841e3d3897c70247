package wechatauth_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// /wx/phone sends the session's openid with the code: a code WeChat handed
// out to another user is refused (the fake's "@<user>" codes answer 40003
// for another openid, as WeChat documents it checks), so nobody binds
// someone else's number to their session.
func TestPhoneCodeOfAnotherUserIsRefused(t *testing.T) {
	e := newEnv(t, "")
	e.secret("13800138000", "a full phone number")
	tok := e.login("", "ok-alice")
	a := e.do("POST", "/wx/phone", `{"code":"phone-13900139000.1@bob"}`, bearer(tok)...)
	if got := a.errorCode(t, 400); got != "invalid_phone_code" {
		t.Errorf("bob's code in alice's session: %q", got)
	}
	if got := e.do("GET", "/phone/x", "", bearer(tok)...).errorCode(t, 403); got != "phone_required" {
		t.Errorf("bob's number was bound to alice: %q", got)
	}
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000.2@alice"}`, bearer(tok)...),
		"13800138000", "13800138000", "86")
}

// phoneSites: app A as in defaultSites, plus /strict/ with
// phone_data_max_age 10m (the same app: the session works there too).
const phoneSites = `
http://127.0.0.1:{{.Port}} {
	handle_path /strict/* {
		wechat_auth {
			{{template "appA" .}}
			phone_data_max_age 10m
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
		}
		reverse_proxy {{.Upstream}}
	}
}`

// watermark.timestamp of legacy data: never in the future; by default any
// age (old data logged at DEBUG); with phone_data_max_age, no older.
func TestLegacyPhoneDataTimestamp(t *testing.T) {
	e := newEnv(t, phoneSites)
	e.secret("13800138000", "a full phone number")
	tok := e.login("", "ok-alice")
	sealedAt := func(shift time.Duration) string {
		e.wx.Advance(shift)
		defer e.wx.Advance(-shift)
		return encrypted(t, e, "alice", "13800138000", "86", appA)
	}
	hourOld, minuteOld, future := sealedAt(-time.Hour), sealedAt(-time.Minute), sealedAt(time.Hour)

	// default: any age
	phoneAnswer(t, e.do("POST", "/wx/phone", hourOld, bearer(tok)...), "13800138000", "13800138000", "86")
	if len(e.logEntries("debug", "old data accepted")) != 1 {
		t.Errorf("no DEBUG line for the hour-old data")
	}
	for _, prefix := range []string{"", "/strict"} {
		if got := e.do("POST", prefix+"/wx/phone", future, bearer(tok)...).errorCode(t, 400); got != "stale_phone_data" {
			t.Errorf("%s: data from the future: %q", prefix, got)
		}
	}
	// phone_data_max_age 10m
	if got := e.do("POST", "/strict/wx/phone", hourOld, bearer(tok)...).errorCode(t, 400); got != "stale_phone_data" {
		t.Errorf("hour-old data with phone_data_max_age 10m: %q", got)
	}
	phoneAnswer(t, e.do("POST", "/strict/wx/phone", minuteOld, bearer(tok)...), "13800138000", "13800138000", "86")
}

func TestPhoneDataMaxAgeConfig(t *testing.T) {
	adapt := func(value string) error {
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(`:8080 {
	wechat_auth {
		app_id wxa
		app_secret s
		phone_data_max_age `+value+`
	}
}`), nil)
		return err
	}
	if err := adapt("15m"); err != nil {
		t.Errorf("15m: %v", err)
	}
	if err := adapt("0"); err != nil {
		t.Errorf("0: %v", err)
	}
	for _, bad := range []string{"-1m", "soon"} {
		err := adapt(bad)
		if err == nil || !strings.Contains(err.Error(), "phone_data_max_age") || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: %v, want an error naming the option and the value", bad, err)
		}
	}
}

// WeChat may hand a user's session_key out again unchanged (a repeated
// wx.login within its refresh period: the fake's same-<user>). That must
// not push the previous key out: data the client sealed with the key before
// it still decrypts, in every store.
//
// The user's keys: ok-alice.1 hands out K1 (the client seals data with
// it), ok-alice.2 K2 (newest K2, previous K1), same-alice.3 K2 again: the
// previous key must stay K1.
//
// With Redis this FAILS on this branch: session/redis.go compares the
// sealed values (never equal), so the re-issued K2 becomes "previous" too
// and K1 is lost. The fix (compare the plaintext keys) is in the
// rueidis rewrite of internal/session/redis.go, on another branch; this
// test passes once both are merged.
func TestReissuedSessionKeyKeepsThePreviousKey(t *testing.T) {
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			sites := ""
			if store == "redis" {
				rd := testredis.Start(t)
				sites = strings.ReplaceAll(redisSites, "REDIS_URL", rd.URL())
			}
			e := newEnv(t, sites)
			e.secret("13800138000", "a full phone number")
			e.login("", "ok-alice.1")
			sealed1 := encrypted(t, e, "alice", "13800138000", "86", appA)
			k1, _ := e.wx.SessionKeys(appA, fakewx.OpenID(appA, "alice"))
			e.login("", "ok-alice.2")
			k2, _ := e.wx.SessionKeys(appA, fakewx.OpenID(appA, "alice"))
			tok := e.login("", "same-alice.3")
			if k3, prev := e.wx.SessionKeys(appA, fakewx.OpenID(appA, "alice")); k3 != k2 || prev != k1 || k1 == k2 {
				t.Fatal("the fake did not hand the same key out again")
			}
			phoneAnswer(t, e.do("POST", "/wx/phone", sealed1, bearer(tok)...), "13800138000", "13800138000", "86")
			sealed2 := encrypted(t, e, "alice", "13800138000", "86", appA)
			phoneAnswer(t, e.do("POST", "/wx/phone", sealed2, bearer(tok)...), "13800138000", "13800138000", "86")
		})
	}
}

// A login code is good for five minutes after WeChat handed it out.
func TestExpiredLoginCodeIsRefused(t *testing.T) {
	e := newEnv(t, "")
	e.wx.MintCode(appA, "ok-alice.old")
	e.wx.Advance(fakewx.CodeTTL)
	a := e.do("POST", "/wx/login", `{"code":"ok-alice.old"}`)
	if got := a.errorCode(t, 401); got != "invalid_code" {
		t.Errorf("a code 5 minutes old: %q", got)
	}
	e.login("", fmt.Sprintf("ok-alice.%d", time.Now().UnixNano()))
}
