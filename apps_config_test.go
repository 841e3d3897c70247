package wechatauth_test

// The config of several apps per block, refused at load: each error names
// the app and the setting (never a secret or a key), and the running
// config goes on serving. And placeholders in secrets and keys, {file.…}
// included.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fakealipay "github.com/wechat-auth/wechat_auth/internal/fake/alipay"
)

// appBlock is a wechat_auth block serving the given app lines.
func appBlock(apps string) string {
	return `
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		` + apps + `
		session_ttl 2h
	}
	reverse_proxy {{.Upstream}}
}`
}

func TestAppConfigErrorsAtLoad(t *testing.T) {
	e, _ := newQQEnv(t, multiSites)
	tok := e.loginApp("/multi", appQQ, "ok-carol")
	keyFile := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(keyFile, []byte("hush-not-a-key-at-all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	appKey := fakealipay.TestKeyPEM(fakealipay.KeyApp1)
	alipayPub := fakealipay.PublicKeyPEM(fakealipay.TestKey(fakealipay.KeyAlipay))
	goodKeyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(goodKeyFile, []byte(appKey), 0o600); err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(t.TempDir(), "alipay.pub")
	if err := os.WriteFile(pubFile, []byte(alipayPub), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WXAUTH_TEST_EMPTY", "")
	e.secret("hush-not-a-key-at-all", "a key that does not parse")
	e.secret(strings.Split(appKey, "\n")[1], "the Alipay app private key")

	cases := []struct {
		name, sites string
		want        []string
	}{
		{"mixed v1 and app blocks", qqApp + appBlock(`app_id {{.AppA}}
		app_secret s
		{{template "qqApp" .}}`), []string{"app_id, app_secret", "app blocks", appQQ}},
		{"QQ app id of WeChat's shape", appBlock(`app wx1234567890 {
			platform qq
			app_secret s
		}`), []string{`app "wx1234567890"`, "not a qq app id", "6 to 12 digits, such as 1112214148"}},
		{"WeChat app id of QQ's shape", appBlock(`app 1112214148 {
			app_secret s
		}`), []string{`app "1112214148"`, "not a wechat app id", `"wx" and 4 to 32 letters or digits`}},
		{"Douyin app id", appBlock(`app tt12 {
			platform douyin
			app_secret s
		}`), []string{`app "tt12"`, "douyin", `"tt" and 16 lower-case hex digits`}},
		{"missing secret", appBlock(`app 1112214148 {
			platform qq
		}`), []string{"app 1112214148", "app_secret is required"}},
		{"empty secret placeholder", appBlock(`app 1112214148 {
			platform qq
			app_secret {env.WXAUTH_TEST_EMPTY}
		}`), []string{"app 1112214148", "app_secret {env.WXAUTH_TEST_EMPTY} is empty", "environment variable WXAUTH_TEST_EMPTY"}},
		{"secret on alipay", appBlock(`app 2021001168648384 {
			platform alipay
			app_secret hush-secret
			app_private_key {file.` + goodKeyFile + `}
			alipay_public_key {file.` + pubFile + `}
		}`), []string{"app 2021001168648384", "takes no app_secret"}},
		{"a key that does not parse", appBlock(`app 2021001168648384 {
			platform alipay
			app_private_key {file.` + keyFile + `}
			alipay_public_key {file.` + pubFile + `}
		}`), []string{"2021001168648384", "app_private_key"}},
		{"a public key that does not parse", appBlock(`app 2021001168648384 {
			platform alipay
			app_private_key {file.` + goodKeyFile + `}
			alipay_public_key hush-not-a-key-at-all
		}`), []string{"2021001168648384", "alipay_public_key"}},
		{"a required key missing", appBlock(`app 2021001168648384 {
			platform alipay
			app_private_key {file.` + goodKeyFile + `}
		}`), []string{"2021001168648384", "alipay_public_key", "required"}},
		{"a key file that is not there", appBlock(`app 2021001168648384 {
			platform alipay
			app_private_key {file./nonexistent/wxauth-test.pem}
			alipay_public_key {file.` + pubFile + `}
		}`), []string{"2021001168648384", "app_private_key", "{file./nonexistent/wxauth-test.pem}", "empty"}},
		{"blocks disagree on an app's platform", `
http://127.0.0.1:{{.Port}} {
	handle /x/* {
		wechat_auth {
			app 2021001168648384 {
				platform baidu
				app_secret s
			}
			session_ttl 2h
		}
	}
	wechat_auth {
		app 2021001168648384 {
			platform alipay
			app_private_key {file.` + goodKeyFile + `}
			alipay_public_key {file.` + pubFile + `}
		}
		session_ttl 2h
	}
}`, []string{"app 2021001168648384", "blocks disagree on its platform", "baidu", "alipay"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := e.loadFails(c.sites)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "hush") || strings.Contains(msg, "PRIVATE KEY") {
				t.Errorf("the error shows a secret or key: %s", msg)
			}
			// the running config still serves, with its sessions
			e.identity("/multi/api", tok)
		})
	}

	// JSON configs are checked alike: an unknown platform lists them.
	msg := e.loadJSONFails(map[string]any{"handler": "wechat_auth",
		"apps": []map[string]any{{"app_id": "1112214148", "platform": "icq", "app_secret": "hush"}}})
	for _, w := range []string{`unknown platform "icq"`, "alipay, baidu, douyin, kuaishou, qq, wechat", "1112214148"} {
		if !strings.Contains(msg, w) {
			t.Errorf("JSON, unknown platform: error lacks %q: %s", w, msg)
		}
	}
	msg = e.loadJSONFails(map[string]any{"handler": "wechat_auth",
		"apps": []map[string]any{{"app_id": "1112214148", "platform": "qq", "app_secret": "a"}, {"app_id": "1112214148", "platform": "qq", "app_secret": "b"}}})
	if !strings.Contains(msg, "1112214148 is given twice") {
		t.Errorf("JSON, an app twice: %s", msg)
	}
	e.identity("/multi/api", tok)

	// The same keys, good ones from files, load.
	e.load(appBlock(`app 2021001168648384 {
			platform alipay
			app_private_key {file.` + goodKeyFile + `}
			alipay_public_key {file.` + pubFile + `}
			api_base http://127.0.0.1:1
		}`))
	// (no fake Alipay here: the login reaches no one)
	if got := e.do("POST", "/wx/login", `{"code":"x"}`).errorCode(t, 502); got != "wechat_unreachable" {
		t.Errorf("alipay login without a fake: %q", got)
	}
}

// loadJSONFails posts a JSON config with handler as the one route's
// handler, and returns the error it is refused with.
func (e *env) loadJSONFails(handler map[string]any) string {
	e.t.Helper()
	cfg := map[string]any{
		"admin": map[string]any{"listen": strings.TrimPrefix(e.adminURL, "http://"), "config": map[string]any{"persist": false}},
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"srv0": map[string]any{
			"listen": []string{fmt.Sprintf("127.0.0.1:%d", e.port)},
			"routes": []any{map[string]any{"handle": []any{handler}}},
		}}}},
	}
	raw, _ := json.Marshal(cfg)
	return e.postLoadFails(raw)
}

// A secret from a file ({file.…}, its trailing newline dropped) and one
// from the environment log in.
func TestSecretsFromFilesAndTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	qqFile := filepath.Join(dir, "qq-secret")
	if err := os.WriteFile(qqFile, []byte(secretQQ+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, _ := newQQEnv(t, `
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		app 1112214148 {
			platform qq
			app_secret {file.`+qqFile+`}
			api_base {{.WeChat}}
		}
		{{template "appAApp" .}}
		session_ttl 2h
	}
	reverse_proxy {{.Upstream}}
}`)
	tokQ := e.loginApp("", appQQ, "ok-carol")
	tokA := e.loginApp("", appA, "ok-alice")
	if h := e.identity("/api", tokQ); h.Get("X-Wx-Platform") != "qq" {
		t.Errorf("QQ: %v", h)
	}
	if h := e.identity("/api", tokA); h.Get("X-Wx-Platform") != "wechat" {
		t.Errorf("WeChat: %v", h)
	}
}
