package wechatauth_test

// Every platform end to end through a real Caddy (issue 22): for QQ,
// Douyin, Kuaishou, Baidu and Alipay, a login and its identity headers,
// the platform's errors as the handler maps them, each phone flow, tokens
// bound to their app, wrong credentials, config errors, a reload adding
// apps; and one block serving WeChat, Douyin and Alipay. The fakes are
// those of package fakeworld, mounted in front of the harness's fake
// WeChat on one address (every app's api_base).

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fakealipay "github.com/wechat-auth/wechat_auth/internal/fake/alipay"
	fakebaidu "github.com/wechat-auth/wechat_auth/internal/fake/baidu"
	fakedouyin "github.com/wechat-auth/wechat_auth/internal/fake/douyin"
	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
	fakekuaishou "github.com/wechat-auth/wechat_auth/internal/fake/kuaishou"
	fakeqq "github.com/wechat-auth/wechat_auth/internal/fake/qq"
	fakeworld "github.com/wechat-auth/wechat_auth/internal/fake/world"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// platformApps are the app blocks of the demo apps of every platform but
// WeChat, against the fakes; the keys come from files ({file.…}).
const platformApps = `{{define "qqDemo"}}app {{.Vars.QQ}} {
				platform qq
				app_secret {{.Vars.QQSecret}}
				api_base {{.WeChat}}
			}{{end}}{{define "douyinDemo"}}app {{.Vars.Douyin}} {
				platform douyin
				app_secret {{.Vars.DouyinSecret}}
				app_private_key {file.{{.Vars.DouyinKey}}}
				api_base {{.WeChat}}
			}{{end}}{{define "kuaishouDemo"}}app {{.Vars.Kuaishou}} {
				platform kuaishou
				app_secret {{.Vars.KuaishouSecret}}
				api_base {{.WeChat}}
			}{{end}}{{define "baiduDemo"}}app {{.Vars.Baidu}} {
				platform baidu
				app_secret {{.Vars.BaiduSecret}}
				api_base {{.WeChat}}
			}{{end}}{{define "alipayDemo"}}app {{.Vars.Alipay}} {
				platform alipay
				app_private_key {file.{{.Vars.AlipayKey}}}
				alipay_public_key {file.{{.Vars.AlipayPub}}}
				aes_key {{.Vars.AlipayAES}}
				api_base {{.WeChat}}
			}{{end}}`

// platformSites: /all/ serves the five platforms' apps, /mix/ WeChat's
// app A with Douyin and Alipay.
const platformSites = platformApps + `
http://127.0.0.1:{{.Port}} {
	handle_path /all/* {
		wechat_auth {
			{{template "qqDemo" .}}
			{{template "douyinDemo" .}}
			{{template "kuaishouDemo" .}}
			{{template "baiduDemo" .}}
			{{template "alipayDemo" .}}
			session_ttl 2h
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
	handle_path /mix/* {
		wechat_auth {
			{{template "appAApp" .}}
			{{template "douyinDemo" .}}
			{{template "alipayDemo" .}}
			session_ttl 2h
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		respond 404
	}
}
`

// platformWorld is the fakes of the other platforms with their demo apps.
type platformWorld struct {
	*fakeworld.World
}

// newPlatformEnv starts Caddy with sites in front of every platform's
// fake, the demo apps' keys in files.
func newPlatformEnv(t *testing.T, sites string) (*env, platformWorld) {
	t.Helper()
	return newPlatformEnvWith(t, sites, fakewx.Config{})
}

// newPlatformEnvWith is newPlatformEnv with the fake WeChat configured by
// wxCfg (its Apps are the test apps).
func newPlatformEnvWith(t *testing.T, sites string, wxCfg fakewx.Config) (*env, platformWorld) {
	t.Helper()
	return newPlatformEnvOpts(t, sites, envOptions{WeChat: wxCfg})
}

// newPlatformEnvOpts is newPlatformEnv with opts (its Fakes, Vars and
// Secrets are the platforms').
func newPlatformEnvOpts(t *testing.T, sites string, opts envOptions) (*env, platformWorld) {
	t.Helper()
	cfg := fakeworld.DemoConfig()
	cfg.WeChat = fakewx.Config{}
	w := fakeworld.New(cfg)
	t.Cleanup(w.Close)
	keys := w.DemoKeys()
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	opts.Fakes = []func(http.Handler) http.Handler{w.Mount}
	opts.Vars = map[string]string{
		"QQ": fakeworld.DemoQQID, "QQSecret": fakeworld.DemoQQSecret,
		"Douyin": fakeworld.DemoDouyinID, "DouyinSecret": fakeworld.DemoDouyinSecret,
		"Keys":      dir, // as cmd/demo's WX_DEMO_KEYS
		"DouyinKey": file("douyin_app_private_key.pem", keys.DouyinAppPrivateKey),
		"Kuaishou":  fakeworld.DemoKuaishouID, "KuaishouSecret": fakeworld.DemoKuaishouSecret,
		"Baidu": fakeworld.DemoBaiduKey, "BaiduSecret": fakeworld.DemoBaiduSecret,
		"Alipay":    fakeworld.DemoAlipayID,
		"AlipayKey": file("alipay_app_private_key.pem", keys.AlipayAppPrivateKey),
		"AlipayPub": file("alipay_public_key.pem", keys.AlipayPublicKey),
		"AlipayAES": w.Alipay.AESKey(fakeworld.DemoAlipayID),
	}
	opts.Secrets = map[string]string{
		fakeworld.DemoQQSecret: "the QQ secret", fakeworld.DemoDouyinSecret: "the Douyin secret",
		fakeworld.DemoKuaishouSecret: "the Kuaishou secret", fakeworld.DemoBaiduSecret: "the Baidu secret",
		keyLine(keys.DouyinAppPrivateKey): "the Douyin app private key",
		keyLine(keys.AlipayAppPrivateKey): "the Alipay app private key",
	}
	return newEnvOpts(t, sites, opts), platformWorld{w}
}

// keyLine is a line from the middle of a PEM key: what a leak would show.
func keyLine(pem string) string { return strings.Split(pem, "\n")[3] }

// platformCase is one platform's app and how its fake is steered.
type platformCase struct {
	name, app       string
	mint            func(user string) string
	openID, unionID func(user string) string // unionID nil: none given
	advance         func()                   // past the codes' lifetime
	force           func(what string) bool   // busy, limit; false: not forceable
	// forced is what a forced busy or limit answer gives: the platform's
	// own error where it documents one (platforms.md), else what its
	// fake answers (Kuaishou: an HTML gateway page; Douyin documents no
	// rate limit for logins, its fake's is a busy answer; Baidu's
	// server_error is not a documented busy error).
	forced map[string]string
	used   string // the error of a code used twice
}

func (w platformWorld) cases() []platformCase {
	return []platformCase{
		{
			name: "qq", app: fakeworld.DemoQQID,
			mint:    func(u string) string { return w.QQ.MintCode(fakeworld.DemoQQID, u) },
			openID:  func(u string) string { return fakeqq.OpenID(fakeworld.DemoQQID, u) },
			unionID: fakeqq.UnionID,
			advance: func() { w.QQ.Advance(fakeqq.CodeTTL) },
			force: func(what string) bool {
				w.QQ.Force(fakeqq.EndpointLogin, fakeqq.Mode(what))
				return true
			},
			used:   "invalid_code",
			forced: map[string]string{"busy": "wechat_busy", "limit": "rate_limited"},
		},
		{
			name: "douyin", app: fakeworld.DemoDouyinID,
			mint:    func(u string) string { return w.Douyin.MintCode(fakeworld.DemoDouyinID, u) },
			openID:  func(u string) string { return fakedouyin.OpenID(fakeworld.DemoDouyinID, u) },
			unionID: fakedouyin.UnionID,
			advance: func() { w.Douyin.Advance(fakedouyin.LoginCodeTTL) },
			force: func(what string) bool {
				w.Douyin.Force(fakedouyin.EndpointCode2Session, fakekit.Mode(what))
				return true
			},
			used:   "invalid_code",
			forced: map[string]string{"busy": "wechat_busy", "limit": "wechat_busy"},
		},
		{
			name: "kuaishou", app: fakeworld.DemoKuaishouID,
			mint:    func(u string) string { return w.Kuaishou.MintCode(fakeworld.DemoKuaishouID, u) },
			openID:  func(u string) string { return fakekuaishou.OpenID(fakeworld.DemoKuaishouID, u) },
			advance: func() { w.Kuaishou.Advance(fakekuaishou.CodeTTL) },
			force: func(what string) bool {
				w.Kuaishou.Force(fakekuaishou.EndpointCode2Session, fakekit.Mode(what))
				return true
			},
			used:   "invalid_code",
			forced: map[string]string{"busy": "wechat_bad_response", "limit": "wechat_bad_response"},
		},
		{
			name: "baidu", app: fakeworld.DemoBaiduKey,
			mint:    func(u string) string { return w.Baidu.MintCode(fakeworld.DemoBaiduKey, u) },
			openID:  func(u string) string { return fakebaidu.OpenID(fakeworld.DemoBaiduKey, u) },
			advance: func() { w.Baidu.Advance(fakebaidu.CodeTTL) },
			force: func(what string) bool {
				if what != "busy" {
					return false
				}
				w.Baidu.FailNext(fakebaidu.EndpointLogin, fakebaidu.FailServer)
				return true
			},
			used:   "invalid_code",
			forced: map[string]string{"busy": "wechat_error"},
		},
		{
			name: "alipay", app: fakeworld.DemoAlipayID,
			mint:    func(u string) string { return w.Alipay.MintCode(fakeworld.DemoAlipayID, u) },
			advance: func() { w.Alipay.Advance(fakealipay.CodeTTL) },
			force: func(what string) bool {
				w.Alipay.FailNext(map[string]fakealipay.Failure{"busy": fakealipay.FailBusy, "limit": fakealipay.FailRateLimited}[what])
				return true
			},
			used:   "invalid_code",
			forced: map[string]string{"busy": "wechat_busy", "limit": "rate_limited"},
		},
	}
}

func TestEveryPlatformLogsIn(t *testing.T) {
	t.Parallel() // its Caddy is a child process
	e, w := newPlatformEnvOpts(t, platformSites, envOptions{Process: true})
	tokens := map[string]string{}
	for _, c := range w.cases() {
		t.Run(c.name, func(t *testing.T) {
			tok := e.loginApp("/all", c.app, c.mint("alice"))
			tokens[c.name] = tok
			h := e.identity("/all/api", tok, "X-WX-Platform", "evil", "X-WX-OpenID", "evil")
			if h.Get("X-Wx-Platform") != c.name || h.Get("X-Wx-Appid") != c.app || len(h.Values("X-Wx-Openid")) != 1 {
				t.Errorf("headers %v", h)
			}
			if c.openID != nil && h.Get("X-Wx-Openid") != c.openID("alice") {
				t.Errorf("X-WX-OpenID %q, want %q", h.Get("X-Wx-Openid"), c.openID("alice"))
			}
			if c.unionID != nil && h.Get("X-Wx-Unionid") != c.unionID("alice") {
				t.Errorf("X-WX-UnionID %q, want %q", h.Get("X-Wx-Unionid"), c.unionID("alice"))
			}

			login := func(code string) answer {
				return e.do("POST", "/all/wx/login", `{"app_id":"`+c.app+`","code":"`+code+`"}`)
			}
			code := c.mint("bob")
			e.loginApp("/all", c.app, code)
			errs := []struct {
				name, code string
				status     int
				want       string
			}{
				{"used code", code, 401, c.used},
				{"unknown code", "bad-nobody", 401, "invalid_code"},
				{"not JSON", "html-x", 502, "wechat_bad_response"},
				{"HTTP 500", "http500-x", 502, ""},
				{"no answer in time", "hang-x", 504, "wechat_timeout"},
			}
			for _, x := range errs {
				a := login(x.code)
				if x.want == "" {
					if a.status < 500 {
						t.Errorf("%s: %d %s", x.name, a.status, a.body)
					}
					continue
				}
				if got := a.errorCode(t, x.status); got != x.want {
					t.Errorf("%s: %q, want %q", x.name, got, x.want)
				}
			}
			old := c.mint("carol")
			c.advance()
			if got := login(old).errorCode(t, 401); got != "invalid_code" {
				t.Errorf("expired code: %q", got)
			}
			for _, what := range []string{"busy", "limit"} {
				if !c.force(what) {
					continue
				}
				a := login(c.mint("dave"))
				if got, _ := a.json(t)["error"].(string); got != c.forced[what] || a.status < 400 {
					t.Errorf("forced %s: %d %s, want %s", what, a.status, a.body, c.forced[what])
				}
			}
		})
	}

	// every token is its own app's, in the block serving them all
	for name, tok := range tokens {
		if h := e.identity("/all/api", tok); h.Get("X-Wx-Platform") != name {
			t.Errorf("%s's token: X-WX-Platform %q", name, h.Get("X-Wx-Platform"))
		}
	}
	// a QQ, Kuaishou or Baidu token is not for /mix/ (WeChat, Douyin, Alipay)
	for _, name := range []string{"qq", "kuaishou", "baidu"} {
		if got := e.do("GET", "/mix/api", "", bearer(tokens[name])...).errorCode(t, 401); got != "invalid_token" {
			t.Errorf("%s's token in /mix/: %q", name, got)
		}
	}
	e.checkLogHasNoSecrets()
}

func TestWeChatDouyinAlipayInOneBlock(t *testing.T) {
	e, w := newPlatformEnv(t, platformSites)
	for _, c := range []struct{ app, code, platform string }{
		{appA, "ok-alice", "wechat"},
		{fakeworld.DemoDouyinID, w.Douyin.MintCode(fakeworld.DemoDouyinID, "alice"), "douyin"},
		{fakeworld.DemoAlipayID, w.Alipay.MintCode(fakeworld.DemoAlipayID, "alice"), "alipay"},
	} {
		tok := e.loginApp("/mix", c.app, c.code)
		if h := e.identity("/mix/api", tok); h.Get("X-Wx-Platform") != c.platform || h.Get("X-Wx-Appid") != c.app {
			t.Errorf("%s: %v", c.platform, h)
		}
		// Douyin's and Alipay's sessions are as good in /all/, WeChat's not
		a := e.do("GET", "/all/api", "", bearer(tok)...)
		if c.platform == "wechat" {
			if got := a.errorCode(t, 401); got != "invalid_token" {
				t.Errorf("WeChat's token in /all/: %q", got)
			}
		} else if a.status != 200 {
			t.Errorf("%s's token in /all/: %d %s", c.platform, a.status, a.body)
		}
	}
	if got := e.do("POST", "/mix/wx/login", `{"code":"ok-x"}`).errorCode(t, 400); got != "missing_app_id" {
		t.Errorf("no app_id: %q", got)
	}
	if got := e.do("POST", "/mix/wx/login", `{"code":"ok-x","app_id":"`+fakeworld.DemoQQID+`"}`).errorCode(t, 400); got != "unknown_app" {
		t.Errorf("QQ in /mix/: %q", got)
	}
	e.checkLogHasNoSecrets()
}

// wrongSites serves the five apps with a wrong secret (Alipay: requests
// signed with another app's key): each platform refuses them, and the
// client gets wechat_config_error.
const wrongSites = `
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		app {{.Vars.QQ}} {
			platform qq
			app_secret wrong-secret-1
			api_base {{.WeChat}}
		}
		app {{.Vars.Douyin}} {
			platform douyin
			app_secret wrong-secret-2
			api_base {{.WeChat}}
		}
		app {{.Vars.Kuaishou}} {
			platform kuaishou
			app_secret wrong-secret-3
			api_base {{.WeChat}}
		}
		app {{.Vars.Baidu}} {
			platform baidu
			app_secret wrong-secret-4
			api_base {{.WeChat}}
		}
		app {{.Vars.Alipay}} {
			platform alipay
			app_private_key {file.{{.Vars.OtherKey}}}
			alipay_public_key {file.{{.Vars.AlipayPub}}}
			api_base {{.WeChat}}
		}
		session_ttl 2h
		timeout 1s
	}
	reverse_proxy {{.Upstream}}
}
`

func TestWrongCredentialsPerPlatform(t *testing.T) {
	other := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(other, []byte(fakealipay.TestKeyPEM(fakealipay.KeyApp2)), 0o600); err != nil {
		t.Fatal(err)
	}
	e, w := newPlatformEnv(t, strings.ReplaceAll(wrongSites, "{{.Vars.OtherKey}}", other))
	for i, c := range w.cases() {
		a := e.do("POST", "/wx/login", `{"app_id":"`+c.app+`","code":"`+c.mint("alice")+`"}`)
		if got := a.errorCode(t, 502); got != "wechat_config_error" {
			t.Errorf("%s: %q, want wechat_config_error", c.name, got)
		}
		if strings.Contains(e.logText(), "wrong-secret-"+string(rune('1'+i))) {
			t.Errorf("%s: the log holds the secret", c.name)
		}
	}
	if !strings.Contains(e.logText(), "refused the app's configuration") {
		t.Error("no log line says a platform refused the configuration")
	}
}

// sealedBody is a /wx/phone body of sealed data.
func sealedBody(t *testing.T, data, iv string, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"encryptedData": data, "iv": iv})
	return string(b)
}

// tamper changes one base64 digit of data, in its middle, for another.
func tamper(data string) string { return tamperAt(data, len(data)/2) }

// tamperAt changes the base64 digit at i for another.
func tamperAt(data string, i int) string {
	c := byte('A')
	if data[i] == 'A' {
		c = 'B'
	}
	return data[:i] + string(c) + data[i+1:]
}

func TestEveryPlatformsPhoneFlows(t *testing.T) {
	e, w := newPlatformEnv(t, platformSites)
	const number = "13800138000"
	phone := func(tok, body string) answer { return e.do("POST", "/all/wx/phone", body, bearer(tok)...) }
	good := func(t *testing.T, tok, body string) {
		t.Helper()
		a := phone(tok, body)
		if a.status != 200 || a.json(t)["pure_phone_number"] != number {
			t.Fatalf("good: %d %s", a.status, a.body)
		}
		if h := e.identity("/all/api", tok); h.Get("X-Wx-Phone") != number {
			t.Errorf("X-WX-Phone %q after binding", h.Get("X-Wx-Phone"))
		}
	}
	bad := func(t *testing.T, name, tok, body string, status int, want string) {
		t.Helper()
		if got := phone(tok, body).errorCode(t, status); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	login := func(app, code string) string { return e.loginApp("/all", app, code) }

	t.Run("qq", func(t *testing.T) {
		app := fakeworld.DemoQQID
		tok := login(app, w.QQ.MintCode(app, "alice"))
		open := fakeqq.OpenID(app, "alice")
		data, iv, err := w.QQ.SealPhone(app, open, number, "86", app)
		bad(t, "tampered", tok, sealedBody(t, tamper(data), iv, err), 400, "undecryptable_data")
		otherData, otherIV, err := w.QQ.SealPhone(app, open, number, "86", "1110000009")
		bad(t, "wrong app", tok, sealedBody(t, otherData, otherIV, err), 403, "watermark_mismatch")
		tokB := login(app, w.QQ.MintCode(app, "bob"))
		bData, bIV, err := w.QQ.SealPhone(app, fakeqq.OpenID(app, "bob"), number, "86", app)
		bad(t, "wrong key (another user's)", tok, sealedBody(t, bData, bIV, err), 400, "undecryptable_data")
		_ = tokB
		good(t, tok, sealedBody(t, data, iv, nil))
	})
	t.Run("douyin", func(t *testing.T) {
		app := fakeworld.DemoDouyinID
		tok := login(app, w.Douyin.MintCode(app, "alice"))
		code := w.Douyin.MintPhoneCode(app, number)
		good(t, tok, `{"code":"`+code+`"}`)
		bad(t, "phone code used twice", tok, `{"code":"`+code+`"}`, 400, "invalid_phone_code")
		data, iv, err := w.Douyin.SealPhone(app, "alice", number, "86", app)
		bad(t, "tampered", tok, sealedBody(t, tamper(data), iv, err), 400, "undecryptable_data")
		wd, wiv, err := w.Douyin.SealPhone(app, "alice", number, "86", "tt9999999999999999")
		bad(t, "wrong app", tok, sealedBody(t, wd, wiv, err), 403, "watermark_mismatch")
		login(app, w.Douyin.MintCode(app, "bob"))
		bd, biv, err := w.Douyin.SealPhone(app, "bob", number, "86", app)
		bad(t, "wrong key", tok, sealedBody(t, bd, biv, err), 400, "undecryptable_data")
		good(t, tok, sealedBody(t, data, iv, nil))
		// last: the fake's clock moved on stamps later payloads in the future
		old := w.Douyin.MintPhoneCode(app, number)
		w.Douyin.Advance(fakedouyin.PhoneCodeTTL)
		bad(t, "expired phone code", tok, `{"code":"`+old+`"}`, 400, "invalid_phone_code")
	})
	t.Run("kuaishou", func(t *testing.T) {
		app := fakeworld.DemoKuaishouID
		tok := login(app, w.Kuaishou.MintCode(app, "alice"))
		data, iv, err := w.Kuaishou.SealPhone(app, "alice", number, "86")
		bad(t, "tampered", tok, sealedBody(t, tamper(data), iv, err), 400, "undecryptable_data")
		login(app, w.Kuaishou.MintCode(app, "bob"))
		bd, biv, err := w.Kuaishou.SealPhone(app, "bob", number, "86")
		bad(t, "wrong key", tok, sealedBody(t, bd, biv, err), 400, "undecryptable_data")
		good(t, tok, sealedBody(t, data, iv, nil))
	})
	t.Run("baidu", func(t *testing.T) {
		app := fakeworld.DemoBaiduKey
		tok := login(app, w.Baidu.MintCode(app, "alice"))
		data, iv, err := w.Baidu.SealPhone(app, "alice", number, app)
		// the last block: its 32-byte padding breaks (a digit in the
		// middle may leave a payload that opens, for the trailer check)
		bad(t, "tampered", tok, sealedBody(t, tamperAt(data, len(data)-8), iv, err), 400, "undecryptable_data")
		wd, wiv, err := w.Baidu.SealPhone(app, "alice", number, "otherbaiduappkey0000001")
		bad(t, "wrong app", tok, sealedBody(t, wd, wiv, err), 403, "watermark_mismatch")
		login(app, w.Baidu.MintCode(app, "bob"))
		bd, biv, err := w.Baidu.SealPhone(app, "bob", number, app)
		bad(t, "wrong key", tok, sealedBody(t, bd, biv, err), 400, "undecryptable_data")
		good(t, tok, sealedBody(t, data, iv, nil))
	})
	t.Run("alipay", func(t *testing.T) {
		app := fakeworld.DemoAlipayID
		tok := login(app, w.Alipay.MintCode(app, "alice"))
		answerOf := func(v fakealipay.PhoneVariant) string {
			resp, err := w.Alipay.PhoneAnswer(app, number, v)
			if err != nil {
				t.Fatal(err)
			}
			// the client sends res.response's members: response, sign
			var wrapper map[string]any
			if err := json.Unmarshal([]byte(resp), &wrapper); err != nil {
				t.Fatal(err)
			}
			body := map[string]any{"response": wrapper["response"]}
			if sign, ok := wrapper["sign"]; ok {
				body["sign"] = sign
			}
			b, _ := json.Marshal(body)
			return string(b)
		}
		bad(t, "bad sign", tok, answerOf(fakealipay.PhoneBadSign), 502, "wechat_bad_response")
		bad(t, "wrong AES key", tok, answerOf(fakealipay.PhoneWrongAESKey), 400, "undecryptable_data")
		bad(t, "no sign", tok, answerOf(fakealipay.PhoneNoSign), 502, "wechat_bad_response")
		bad(t, "not authorized (40003)", tok, answerOf(fakealipay.PhoneNotAuthorized), 400, "no_phone_number")
		good(t, tok, answerOf(fakealipay.PhoneOK))
		// or res.response whole, as the mini program hands it over (the
		// sign inside it)
		whole := func(v fakealipay.PhoneVariant) string {
			resp, err := w.Alipay.PhoneAnswer(app, number, v)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(map[string]string{"response": resp})
			return string(b)
		}
		bad(t, "whole, bad sign", tok, whole(fakealipay.PhoneBadSign), 502, "wechat_bad_response")
		bad(t, "whole, no sign", tok, whole(fakealipay.PhoneNoSign), 502, "wechat_bad_response")
		good(t, tok, whole(fakealipay.PhoneOK))
	})
	e.checkLogHasNoSecrets()
}

// reloadSites: a block of Douyin and Alipay, and (after the reload) the
// same block with a Kuaishou and a Baidu app added.
func reloadSites(more string) string {
	return platformApps + `
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		{{template "douyinDemo" .}}
		{{template "alipayDemo" .}}
		` + more + `
		session_ttl 2h
		timeout 1s
	}
	reverse_proxy {{.Upstream}}
}
`
}

func TestReloadAddingPlatformsKeepsSessions(t *testing.T) {
	e, w := newPlatformEnv(t, reloadSites(""))
	dy := e.loginApp("", fakeworld.DemoDouyinID, w.Douyin.MintCode(fakeworld.DemoDouyinID, "alice"))
	ap := e.loginApp("", fakeworld.DemoAlipayID, w.Alipay.MintCode(fakeworld.DemoAlipayID, "alice"))
	if got := e.do("POST", "/wx/login", `{"app_id":"`+fakeworld.DemoKuaishouID+`","code":"ok-x"}`).errorCode(t, 400); got != "unknown_app" {
		t.Fatalf("Kuaishou before the reload: %q", got)
	}
	e.reloadViaAdmin(reloadSites(`{{template "kuaishouDemo" .}}
		{{template "baiduDemo" .}}`))
	for name, tok := range map[string]string{"douyin": dy, "alipay": ap} {
		if h := e.identity("/api", tok); h.Get("X-Wx-Platform") != name {
			t.Errorf("%s's session after the reload: %v", name, h)
		}
	}
	ks := e.loginApp("", fakeworld.DemoKuaishouID, w.Kuaishou.MintCode(fakeworld.DemoKuaishouID, "alice"))
	if h := e.identity("/api", ks); h.Get("X-Wx-Platform") != "kuaishou" {
		t.Errorf("the added Kuaishou app: %v", h)
	}
	e.checkLogHasNoSecrets()
}

// Config errors of the other platforms' app blocks: the accepted id shape
// named, a missing secret, a key that does not parse (by {env.} or
// {file.}) named without its value; the running config goes on serving.
func TestPlatformConfigErrors(t *testing.T) {
	e, w := newPlatformEnv(t, platformSites)
	tok := e.loginApp("/all", fakeworld.DemoDouyinID, w.Douyin.MintCode(fakeworld.DemoDouyinID, "alice"))
	t.Setenv("WXAUTH_BAD_KEY", "hush-garbage-key")
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("hush-garbage-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.secret("hush-garbage-key", "a key that does not parse")
	e.secret("hush-garbage-file", "a key file that does not parse")
	for _, c := range []struct {
		name, apps string
		want       []string
	}{
		{"kuaishou id", `app ks12 {
			platform kuaishou
			app_secret s
		}`, []string{`app "ks12"`, "kuaishou", `"ks" and 6 to 24 digits`}},
		{"baidu id", `app short {
			platform baidu
			app_secret s
		}`, []string{`app "short"`, "baidu"}},
		{"alipay id", `app 2021 {
			platform alipay
			app_private_key {file.{{.Vars.AlipayKey}}}
			alipay_public_key {file.{{.Vars.AlipayPub}}}
		}`, []string{`app "2021"`, "alipay", "16 digits"}},
		{"kuaishou without secret", `app ks700000000000000009 {
			platform kuaishou
		}`, []string{"ks700000000000000009", "app_secret is required"}},
		{"douyin key by env that does not parse", `app tt0123456789abcdee {
			platform douyin
			app_secret s
			app_private_key {env.WXAUTH_BAD_KEY}
		}`, []string{"tt0123456789abcdee", "app_private_key"}},
		{"alipay key by file that does not parse", `app 2021000000000009 {
			platform alipay
			app_private_key {file.` + garbage + `}
			alipay_public_key {file.{{.Vars.AlipayPub}}}
		}`, []string{"2021000000000009", "app_private_key"}},
		{"alipay aes_key that does not parse", `app 2021000000000009 {
			platform alipay
			app_private_key {file.{{.Vars.AlipayKey}}}
			alipay_public_key {file.{{.Vars.AlipayPub}}}
			aes_key {env.WXAUTH_BAD_KEY}
		}`, []string{"2021000000000009", "aes_key"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := e.loadFails(appBlock(c.apps))
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "hush") || strings.Contains(msg, "PRIVATE KEY") {
				t.Errorf("the error shows a key: %s", msg)
			}
			e.identity("/all/api", tok)
		})
	}
	e.checkLogHasNoSecrets()
}
