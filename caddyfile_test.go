package wechatauth_test

import (
	"reflect"
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
			failure_limit 10/5m
			assertion on
			idle_timeout 30m
			phone_ttl 2160h
			phone_data_max_age 10m
		}`, want: wechatauth.Handler{
			AppID: "wx4f4bc4dec97d474b", AppSecret: "{env.WX_APP_SECRET}", APIBase: "http://127.0.0.1:9100",
			Require: "phone", SessionTTL: caddy.Duration(168 * time.Hour), Timeout: caddy.Duration(3 * time.Second),
			MaxSessions: 5000, Redis: "redis://127.0.0.1:6379/0", RedisTimeout: caddy.Duration(300 * time.Millisecond),
			FailureLimit: "10/5m", Assertion: true, IdleTimeout: caddy.Duration(30 * time.Minute),
			PhoneTTL: caddy.Duration(2160 * time.Hour), PhoneDataMaxAge: caddy.Duration(10 * time.Minute),
		}},
		{name: "idle_timeout off", input: "wechat_auth {\nidle_timeout 30m\nidle_timeout off\n}", want: wechatauth.Handler{}},
		{name: "idle_timeout 0", input: "wechat_auth {\nidle_timeout 0\n}", want: wechatauth.Handler{}},
		{name: "idle_timeout seconds", input: "wechat_auth {\nidle_timeout 2s\n}", want: wechatauth.Handler{IdleTimeout: caddy.Duration(2 * time.Second)}},
		{name: "bad idle_timeout", input: "wechat_auth {\nidle_timeout soon\n}", err: []string{`idle_timeout "soon"`, "positive duration"}},
		{name: "bad phone_ttl", input: "wechat_auth {\nphone_ttl -1h\n}", err: []string{`phone_ttl "-1h"`, "positive duration"}},
		{name: "phone_data_max_age", input: "wechat_auth {\nphone_data_max_age 10m\n}", want: wechatauth.Handler{PhoneDataMaxAge: caddy.Duration(10 * time.Minute)}},
		{name: "phone_data_max_age any", input: "wechat_auth {\nphone_data_max_age 0\n}", want: wechatauth.Handler{}},
		{name: "bad phone_data_max_age", input: "wechat_auth {\nphone_data_max_age old\n}", err: []string{`phone_data_max_age "old"`, "0 for any age"}},
		{name: "assertion off", input: "wechat_auth {\nassertion off\n}", want: wechatauth.Handler{}},
		{name: "assertion on then off", input: "wechat_auth {\nassertion on\nassertion off\n}", want: wechatauth.Handler{}},
		{name: "require openid", input: "wechat_auth {\nrequire openid\n}", want: wechatauth.Handler{Require: "openid"}},
		{name: "require none", input: "wechat_auth {\nrequire none\n}", want: wechatauth.Handler{Require: "none"}},
		{name: "days", input: "wechat_auth {\nsession_ttl 30d\n}", want: wechatauth.Handler{SessionTTL: caddy.Duration(720 * time.Hour)}},
		{name: "failure_limit per minute", input: "wechat_auth {\nfailure_limit 30/1m\n}", want: wechatauth.Handler{FailureLimit: "30/1m"}},
		{name: "failure_limit in seconds", input: "wechat_auth {\nfailure_limit 3/2s\n}", want: wechatauth.Handler{FailureLimit: "3/2s"}},
		{name: "failure_limit in days", input: "wechat_auth {\nfailure_limit 65535/1d\n}", want: wechatauth.Handler{FailureLimit: "65535/1d"}},
		{name: "failure_limit off", input: "wechat_auth {\nfailure_limit off\n}", want: wechatauth.Handler{FailureLimit: "off"}},
		{name: "failure_limit without window", input: "wechat_auth {\nfailure_limit 30\n}", err: []string{`failure_limit "30"`, "<n>/<duration>", "failure_limit 30/1m", "or off"}},
		{name: "failure_limit zero", input: "wechat_auth {\nfailure_limit 0/1m\n}", err: []string{`failure_limit "0/1m"`, "from 1 to 65535", "failure_limit 30/1m"}},
		{name: "failure_limit too large", input: "wechat_auth {\nfailure_limit 65536/1m\n}", err: []string{`failure_limit "65536/1m"`, "from 1 to 65535"}},
		{name: "failure_limit negative", input: "wechat_auth {\nfailure_limit -3/1m\n}", err: []string{`failure_limit "-3/1m"`, "from 1 to 65535"}},
		{name: "failure_limit bad window", input: "wechat_auth {\nfailure_limit 30/minute\n}", err: []string{`failure_limit "30/minute"`, `window "minute"`, "at least 1s", "failure_limit 30/1m"}},
		{name: "failure_limit short window", input: "wechat_auth {\nfailure_limit 30/500ms\n}", err: []string{`failure_limit "30/500ms"`, "at least 1s"}},
		{name: "failure_limit rate form", input: "wechat_auth {\nfailure_limit 30/m\n}", err: []string{`failure_limit "30/m"`, "failure_limit 30/1m"}},
		{name: "failure_limit on", input: "wechat_auth {\nfailure_limit on\n}", err: []string{`failure_limit "on"`, "or off"}},
		{name: "failure_limit two values", input: "wechat_auth {\nfailure_limit 30 1m\n}", err: []string{"failure_limit takes one value", `"1m"`}},
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
		{name: "app blocks", input: `wechat_auth {
			app wx4f4bc4dec97d474b {
				app_secret {env.WX_SECRET}
				api_base http://127.0.0.1:9100
			}
			app 1112214148 {
				platform qq
				app_secret {file./run/secrets/qq}
			}
			app 2021001168648384 {
				platform alipay
				app_private_key {file./run/secrets/alipay.pem}
				alipay_public_key {env.ALIPAY_PUBLIC_KEY}
				aes_key {env.ALIPAY_AES_KEY}
			}
			app tt5daf2b12c2857910
			require phone
		}`, want: wechatauth.Handler{Apps: []wechatauth.AppConfig{
			{AppID: "wx4f4bc4dec97d474b", AppSecret: "{env.WX_SECRET}", APIBase: "http://127.0.0.1:9100"},
			{AppID: "1112214148", Platform: "qq", AppSecret: "{file./run/secrets/qq}"},
			{AppID: "2021001168648384", Platform: "alipay", Options: map[string]string{
				"app_private_key": "{file./run/secrets/alipay.pem}", "alipay_public_key": "{env.ALIPAY_PUBLIC_KEY}", "aes_key": "{env.ALIPAY_AES_KEY}"}},
			{AppID: "tt5daf2b12c2857910"},
		}, Require: "phone"}},
		{name: "app without id", input: "wechat_auth {\napp {\nplatform qq\n}\n}", err: []string{"app needs the app's id"}},
		{name: "app with two ids", input: "wechat_auth {\napp wx1234567 wx7654321\n}", err: []string{"app takes one argument", `"wx7654321"`}},
		{name: "app option without value", input: "wechat_auth {\napp 1112214148 {\nplatform\n}\n}", err: []string{"app 1112214148: platform needs a value"}},
		{name: "app option with two values", input: "wechat_auth {\napp 1112214148 {\napp_secret hush-1 hush-2\n}\n}", err: []string{"app 1112214148: app_secret takes one value"}},
		{name: "unknown platform", input: "wechat_auth {\napp 1112214148 {\nplatform icq\n}\n}", err: []string{`app 1112214148: unknown platform "icq"`, "alipay, baidu, douyin, kuaishou, qq, wechat"}},
		{name: "option of another platform", input: "wechat_auth {\napp 1112214148 {\nplatform qq\napp_private_key hush-key\n}\n}", err: []string{`app 1112214148: unknown option "app_private_key"`, "the qq platform takes platform, app_secret, api_base and no options"}},
		{name: "unknown option of a platform with options", input: "wechat_auth {\napp 2021001168648384 {\nplatform alipay\nalipay_key hush-key\n}\n}", err: []string{`unknown option "alipay_key"`, "app_private_key, alipay_public_key, aes_key"}},
		{name: "app twice", input: "wechat_auth {\napp wx1234567 {\napp_secret a\n}\napp wx1234567\n}", err: []string{"app wx1234567 is given twice"}},
		{name: "unknown option", input: "wechat_auth {\nsession_tll 2h\n}", err: []string{`unknown wechat_auth option "session_tll"`, "app_id, app_secret", "redis_timeout", "failure_limit", "assertion"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h wechatauth.Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input))
			if c.err == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !reflect.DeepEqual(h, c.want) {
					t.Errorf("got %+v\nwant %+v", h, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want one containing %q", c.err)
			}
			if strings.Contains(err.Error(), "hush") {
				t.Errorf("the error shows a secret or key: %v", err)
			}
			for _, s := range c.err {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}
