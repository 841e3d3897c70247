package wechatauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	wechatauth "github.com/wechat-auth/wechat_auth"
)

// Every branch of the Caddyfile parser: each option, and each way to get
// one wrong, with an error that names the option, the value and what is
// accepted.
func TestUnmarshalCaddyfile(t *testing.T) {
	cases := []struct {
		name  string
		input string
		want  wechatauth.Handler
		err   []string // substrings of the error; nil: no error
	}{
		{name: "empty block", input: `wechat_auth`, want: wechatauth.Handler{}},
		{name: "every option", input: `wechat_auth {
			app_id wx4f4bc4dec97d474b
			app_secret {env.WX_APP_SECRET}
			api_base http://127.0.0.1:9100
			require phone
			session_ttl 168h
			timeout 3s
			max_sessions 5000
			redis redis://127.0.0.1:6379/0
			redis_timeout 300ms
			assertion on
		}`, want: wechatauth.Handler{
			AppID: "wx4f4bc4dec97d474b", AppSecret: "{env.WX_APP_SECRET}", APIBase: "http://127.0.0.1:9100",
			Require: "phone", SessionTTL: caddy.Duration(168 * time.Hour), Timeout: caddy.Duration(3 * time.Second),
			MaxSessions: 5000, Redis: "redis://127.0.0.1:6379/0", RedisTimeout: caddy.Duration(300 * time.Millisecond),
			Assertion: true,
		}},
		{name: "assertion off", input: "wechat_auth {\nassertion off\n}", want: wechatauth.Handler{}},
		{name: "assertion on then off", input: "wechat_auth {\nassertion on\nassertion off\n}", want: wechatauth.Handler{}},
		{name: "require openid", input: "wechat_auth {\nrequire openid\n}", want: wechatauth.Handler{Require: "openid"}},
		{name: "require none", input: "wechat_auth {\nrequire none\n}", want: wechatauth.Handler{Require: "none"}},
		{name: "days", input: "wechat_auth {\nsession_ttl 30d\n}", want: wechatauth.Handler{SessionTTL: caddy.Duration(720 * time.Hour)}},
		{name: "argument on the directive line", input: `wechat_auth wx1 { }`, err: []string{"no arguments", `"wx1"`}},
		{name: "option without value", input: "wechat_auth {\napp_id\n}", err: []string{"app_id needs a value"}},
		{name: "option with two values", input: "wechat_auth {\napp_id wx1 wx2\n}", err: []string{"app_id takes one value", `"wx2"`}},
		{name: "bad require", input: "wechat_auth {\nrequire phones\n}", err: []string{`require "phones"`, "openid, phone or none"}},
		{name: "bad session_ttl", input: "wechat_auth {\nsession_ttl forever\n}", err: []string{`session_ttl "forever"`, "positive duration"}},
		{name: "zero session_ttl", input: "wechat_auth {\nsession_ttl 0s\n}", err: []string{`session_ttl "0s"`, "positive duration"}},
		{name: "negative timeout", input: "wechat_auth {\ntimeout -1s\n}", err: []string{`timeout "-1s"`, "positive duration"}},
		{name: "bad redis_timeout", input: "wechat_auth {\nredis_timeout soon\n}", err: []string{`redis_timeout "soon"`, "positive duration"}},
		{name: "bad max_sessions", input: "wechat_auth {\nmax_sessions many\n}", err: []string{`max_sessions "many"`, "positive whole number"}},
		{name: "zero max_sessions", input: "wechat_auth {\nmax_sessions 0\n}", err: []string{`max_sessions "0"`, "positive whole number"}},
		{name: "bad assertion", input: "wechat_auth {\nassertion yes\n}", err: []string{`assertion "yes"`, "on or off"}},
		{name: "assertion without value", input: "wechat_auth {\nassertion\n}", err: []string{"assertion needs a value"}},
		{name: "unknown option", input: "wechat_auth {\nsession_tll 2h\n}", err: []string{`unknown wechat_auth option "session_tll"`, "app_id, app_secret", "redis_timeout", "assertion"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h wechatauth.Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input))
			if c.err == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if h != c.want {
					t.Errorf("got %+v\nwant %+v", h, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want one containing %q", c.err)
			}
			for _, s := range c.err {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}
