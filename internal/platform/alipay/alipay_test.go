package alipay

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	fakealipay "github.com/wechat-auth/wechat_auth/internal/fake/alipay"
	"github.com/wechat-auth/wechat_auth/internal/platform"
)

const (
	app1 = "2021000000000001" // user_id mode
	app2 = "2021000000000002" // OpenID mode, with union_id
	app3 = "9021000000000003" // a sandbox-style id, not known to the fake
)

type fixture struct {
	fake *fakealipay.Server
	url  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fake := fakealipay.New(
		fakealipay.App{ID: app1, PublicKey: fakealipay.PublicKeyPEM(fakealipay.TestKey(fakealipay.KeyApp1))},
		fakealipay.App{ID: app2, PublicKey: fakealipay.PublicKeyPEM(fakealipay.TestKey(fakealipay.KeyApp2)), OpenID: true, UnionID: true},
	)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	return &fixture{fake: fake, url: srv.URL}
}

// options are an app's options: its private key, the fake's Alipay key
// and its AES key.
func (f *fixture) options(appID, keyName string) map[string]string {
	return map[string]string{
		OptAppPrivateKey:   fakealipay.TestKeyPEM(keyName),
		OptAlipayPublicKey: f.fake.AlipayPublicKeyPEM(),
		OptAESKey:          f.fake.AESKey(appID),
	}
}

func (f *fixture) client(t *testing.T, appID string, opts map[string]string) platform.Client {
	t.Helper()
	c, err := New(platform.Config{AppID: appID, APIBase: f.url, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestRegistered(t *testing.T) {
	p, ok := platform.Lookup(Name)
	if !ok || p.NeedsSecret || !p.AppID.MatchString(app1) || !p.AppID.MatchString(app3) || p.AppID.MatchString("202100000000001") {
		t.Fatalf("registration: %+v", p)
	}
	if strings.Join(p.Required, ",") != "app_private_key,alipay_public_key" {
		t.Fatalf("required options: %v", p.Required)
	}
}

// The documented example string of "Building the RSA2 signature".
func TestSignContentDocExample(t *testing.T) {
	p := url.Values{
		"app_id": {"2021000000000000"}, "charset": {"utf-8"}, "code": {"4b203fe6c11548bcabd8da5bb087a83b"},
		"format": {"JSON"}, "grant_type": {"authorization_code"}, "method": {"alipay.system.oauth.token"},
		"sign_type": {"RSA2"}, "timestamp": {"2024-05-13 17:49:20"}, "version": {"1.0"},
		"sign": {"dropped"}, "app_auth_token": {""},
	}
	want := "app_id=2021000000000000&charset=utf-8&code=4b203fe6c11548bcabd8da5bb087a83b&format=JSON&grant_type=authorization_code&method=alipay.system.oauth.token&sign_type=RSA2&timestamp=2024-05-13 17:49:20&version=1.0"
	if got := SignContent(p); got != want {
		t.Fatalf("sign content\n got %s\nwant %s", got, want)
	}
}

func TestTimestampIsBeijingTime(t *testing.T) {
	c := &Client{appID: app1, now: func() time.Time { return time.Date(2024, 5, 13, 9, 49, 20, 0, time.UTC) }}
	if got := c.commonParams("m").Get("timestamp"); got != "2024-05-13 17:49:20" {
		t.Fatalf("timestamp %q, want Beijing time 2024-05-13 17:49:20", got)
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	c1 := f.client(t, app1, f.options(app1, fakealipay.KeyApp1))
	c2 := f.client(t, app2, f.options(app2, fakealipay.KeyApp2))
	ctx := context.Background()

	id, err := c1.Login(ctx, f.fake.MintCode(app1, "alice"))
	if err != nil || id.OpenID != fakealipay.UserID("alice") || id.UnionID != "" || id.SessionKey != "" {
		t.Fatalf("user_id app: %+v %v", id, err)
	}
	id, err = c2.Login(ctx, f.fake.MintCode(app2, "alice"))
	if err != nil || id.OpenID != fakealipay.OpenID(app2, "alice") || id.UnionID != fakealipay.UnionID("alice") {
		t.Fatalf("open_id app: %+v %v", id, err)
	}

	used := f.fake.MintCode(app1, "bob")
	if _, err := c1.Login(ctx, used); err != nil {
		t.Fatal(err)
	}
	expired := f.fake.MintCode(app1, "carol")
	other := f.fake.MintCode(app2, "dave")
	late := f.fake.MintCode(app1, "erin")
	f.fake.Advance(fakealipay.CodeTTL)
	_ = late

	for _, tc := range []struct {
		code string
		kind platform.Kind
		sub  string
	}{
		{used, platform.KindInvalidCode, "isv.code-invalid"},
		{expired, platform.KindInvalidCode, "isv.code-invalid"},
		{other, platform.KindInvalidCode, "isv.unmatched-app-id"},
		{"bad-1", platform.KindInvalidCode, "isv.code-invalid"},
		{"nonsense", platform.KindInvalidCode, "isv.code-invalid"},
		{"", platform.KindInvalidCode, ""},
		{"busy-1", platform.KindBusy, "isp.unknow-error"},
		{"limit-1", platform.KindRateLimited, "isp.call-limited"},
		{"perm-1", platform.KindConfig, "isv.insufficient-isv-permissions"},
		{"badsign-alice", platform.KindBadAnswer, ""},
		{"nosign-alice", platform.KindBadAnswer, ""},
		{"badid-alice", platform.KindBadAnswer, ""},
		{"http500-1", platform.KindBadAnswer, ""},
		{"html-1", platform.KindBadAnswer, ""},
	} {
		t.Run(tc.code, func(t *testing.T) {
			_, err := c1.Login(ctx, tc.code)
			checkErr(t, err, tc.kind, tc.sub)
		})
	}
}

func checkErr(t *testing.T, err error, kind platform.Kind, sub string) *platform.Error {
	t.Helper()
	var pe *platform.Error
	if !errors.As(err, &pe) || pe.Kind != kind {
		t.Fatalf("got %v, want kind %v", err, kind)
	}
	if sub != "" && !strings.HasPrefix(pe.Msg, sub) {
		t.Fatalf("got %v, want sub_code %s", err, sub)
	}
	if pe.Kind == platform.KindConfig && pe.Action == "" {
		t.Fatalf("%v: a config error needs an Action", err)
	}
	return pe
}

func TestLoginForced(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, app1, f.options(app1, fakealipay.KeyApp1))
	for _, tc := range []struct {
		fail fakealipay.Failure
		kind platform.Kind
	}{
		{fakealipay.FailBusy, platform.KindBusy},
		{fakealipay.FailRateLimited, platform.KindRateLimited},
		{fakealipay.FailNonJSON, platform.KindBadAnswer},
		{fakealipay.FailHTTP500, platform.KindBadAnswer},
		{fakealipay.FailBadSign, platform.KindBadAnswer},
	} {
		f.fake.FailNext(tc.fail)
		_, err := c.Login(context.Background(), f.fake.MintCode(app1, "alice"))
		checkErr(t, err, tc.kind, "")
	}
	// A forced failure leaves the next login alone.
	if _, err := c.Login(context.Background(), f.fake.MintCode(app1, "alice")); err != nil {
		t.Fatal(err)
	}
}

func TestLoginTimeout(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, app1, f.options(app1, fakealipay.KeyApp1))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Login(ctx, "hang-1")
	checkErr(t, err, platform.KindTimeout, "")
}

func TestLoginBadConfig(t *testing.T) {
	f := newFixture(t)
	// app1 signing with app2's private key: the gateway's invalid-signature.
	c := f.client(t, app1, f.options(app1, fakealipay.KeyApp2))
	_, err := c.Login(context.Background(), "ok-alice")
	pe := checkErr(t, err, platform.KindConfig, "isv.invalid-signature")
	if !strings.Contains(pe.Action, OptAppPrivateKey) {
		t.Fatalf("action %q should name app_private_key", pe.Action)
	}
	// An app the gateway does not know.
	c = f.client(t, app3, f.options(app1, fakealipay.KeyApp1))
	_, err = c.Login(context.Background(), "ok-alice")
	checkErr(t, err, platform.KindConfig, "isv.invalid-app-id")
	// alipay_public_key that is not Alipay's: the answer cannot be trusted.
	opts := f.options(app1, fakealipay.KeyApp1)
	opts[OptAlipayPublicKey] = fakealipay.PublicKeyPEM(fakealipay.TestKey(fakealipay.KeyApp2))
	c = f.client(t, app1, opts)
	_, err = c.Login(context.Background(), "ok-alice")
	checkErr(t, err, platform.KindBadAnswer, "")
	// Nothing listens.
	c2, _ := New(platform.Config{AppID: app1, APIBase: "http://127.0.0.1:1", Options: f.options(app1, fakealipay.KeyApp1)})
	_, err = c2.Login(context.Background(), "ok-alice")
	checkErr(t, err, platform.KindUnreachable, "")
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func TestOptions(t *testing.T) {
	k := fakealipay.TestKey(fakealipay.KeyApp1)
	ali := fakealipay.TestKey(fakealipay.KeyAlipay)
	pkcs1 := x509.MarshalPKCS1PrivateKey(k)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
	pkix, _ := x509.MarshalPKIXPublicKey(&ali.PublicKey)
	b64 := base64.StdEncoding.EncodeToString
	aes16 := b64(make([]byte, 16))
	good := []map[string]string{
		{OptAppPrivateKey: pemOf("RSA PRIVATE KEY", pkcs1), OptAlipayPublicKey: pemOf("PUBLIC KEY", pkix)},
		{OptAppPrivateKey: pemOf("PRIVATE KEY", pkcs8), OptAlipayPublicKey: b64(pkix), OptAESKey: aes16},
		{OptAppPrivateKey: b64(pkcs1), OptAlipayPublicKey: pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&ali.PublicKey))},
		{OptAppPrivateKey: b64(pkcs8), OptAlipayPublicKey: b64(pkix), OptAESKey: b64(make([]byte, 32))},
		// A PEM pasted with literal \n.
		{OptAppPrivateKey: strings.ReplaceAll(pemOf("PRIVATE KEY", pkcs8), "\n", `\n`), OptAlipayPublicKey: b64(pkix)},
	}
	for i, opts := range good {
		if _, err := New(platform.Config{AppID: app1, Options: opts}); err != nil {
			t.Errorf("good options %d: %v", i, err)
		}
	}
	secret := "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsecret"
	bad := []struct {
		name string
		opts map[string]string
		want string
	}{
		{"no private key", map[string]string{OptAlipayPublicKey: b64(pkix)}, OptAppPrivateKey},
		{"no alipay key", map[string]string{OptAppPrivateKey: b64(pkcs8)}, OptAlipayPublicKey},
		{"garbage private", map[string]string{OptAppPrivateKey: secret, OptAlipayPublicKey: b64(pkix)}, OptAppPrivateKey},
		{"garbage public", map[string]string{OptAppPrivateKey: b64(pkcs8), OptAlipayPublicKey: secret}, OptAlipayPublicKey},
		{"public as private", map[string]string{OptAppPrivateKey: b64(pkix), OptAlipayPublicKey: b64(pkix)}, OptAppPrivateKey},
		{"own public key", map[string]string{OptAppPrivateKey: b64(pkcs8), OptAlipayPublicKey: fakealipay.PublicKeyPEM(k)}, "应用公钥"},
		{"aes not base64", map[string]string{OptAppPrivateKey: b64(pkcs8), OptAlipayPublicKey: b64(pkix), OptAESKey: secret + "!"}, OptAESKey},
		{"aes 15 bytes", map[string]string{OptAppPrivateKey: b64(pkcs8), OptAlipayPublicKey: b64(pkix), OptAESKey: b64(make([]byte, 15))}, OptAESKey},
	}
	for _, tc := range bad {
		_, err := New(platform.Config{AppID: app1, Options: tc.opts})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), app1) {
			t.Errorf("%s: got %v, want an error naming %s and the app", tc.name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "MIIB") || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the value: %v", tc.name, err)
		}
	}
	if _, err := New(platform.Config{AppID: "2088", Options: good[0]}); err == nil {
		t.Error("a 4-digit app id was accepted")
	}
}

// sign is the fake Alipay key's signature, for handmade answers.
func sign(t testing.TB, text string) string {
	t.Helper()
	s, err := signRSA2(fakealipay.TestKey(fakealipay.KeyAlipay), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// offline is a client for handmade answers (no HTTP).
func offline(t testing.TB, aes string) *Client {
	t.Helper()
	opts := map[string]string{
		OptAppPrivateKey:   fakealipay.TestKeyPEM(fakealipay.KeyApp1),
		OptAlipayPublicKey: fakealipay.PublicKeyPEM(fakealipay.TestKey(fakealipay.KeyAlipay)),
		OptAESKey:          aes,
	}
	c, err := New(platform.Config{AppID: app1, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return c.(*Client)
}

// Answers made by hand: the signature covers the raw bytes of the
// result, escapes and spaces included.
func TestOpenAnswer(t *testing.T) {
	c := offline(t, "")
	k := `"alipay_system_oauth_token_response"`
	withSign := func(obj string) string { return `{` + k + `:` + obj + `,"sign":"` + sign(t, obj) + `"}` }
	okRaw := `{"user_id":"2088102150477652","access_token":"a\/b","expires_in":"1296000", "re_expires_in":2592000}`
	for _, tc := range []struct {
		name, body string
		kind       platform.Kind
		user       string
	}{
		{"escapes and spaces, string expires_in", withSign(okRaw), 0, "2088102150477652"},
		{"spaces around the colon", `{` + k + ` :  ` + okRaw + ` , "sign" : "` + sign(t, okRaw) + `"}`, 0, "2088102150477652"},
		{"sign first", `{"sign":"` + sign(t, okRaw) + `",` + k + `:` + okRaw + `}`, 0, "2088102150477652"},
		{"open_id over user_id", withSign(`{"user_id":"2088102150477652","open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"}`), 0, "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"},
		{"re-serialized text does not verify", `{` + k + `:` + okRaw + `,"sign":"` + sign(t, strings.ReplaceAll(okRaw, `\/`, `/`)) + `"}`, platform.KindBadAnswer, ""},
		{"tampered", strings.Replace(withSign(okRaw), "2088102150477652", "2088102150477653", 1), platform.KindBadAnswer, ""},
		{"unsigned result", `{` + k + `:` + okRaw + `}`, platform.KindBadAnswer, ""},
		{"repeated key", `{` + k + `:` + okRaw + `,` + k + `:` + okRaw + `,"sign":"` + sign(t, okRaw) + `"}`, platform.KindBadAnswer, ""},
		{"key in another case", `{"ALIPAY_SYSTEM_OAUTH_TOKEN_RESPONSE":` + okRaw + `,"sign":"` + sign(t, okRaw) + `"}`, platform.KindBadAnswer, ""},
		{"no id", withSign(`{"access_token":"x"}`), platform.KindBadAnswer, ""},
		{"id of a bad shape", withSign(`{"user_id":"2088 1021"}`), platform.KindBadAnswer, ""},
		{"union_id of a bad shape", withSign(`{"user_id":"2088102150477652","union_id":"<x>"}`), platform.KindBadAnswer, ""},
		{"signed error in the method key", withSign(`{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"}`), platform.KindConfig, ""},
		{"signed code other than 10000", withSign(`{"code":"40004","msg":"Business Failed"}`), platform.KindRefused, ""},
		{"unsigned error_response", `{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"授权码code无效"}}`, platform.KindInvalidCode, ""},
		{"grant type", `{"error_response":{"code":"40002","sub_code":"isv.grant-type-invalid"}}`, platform.KindRefused, ""},
		{"missing param", `{"error_response":{"code":"40001","sub_code":"isv.missing-signature"}}`, platform.KindRefused, ""},
		{"aop busy", `{"error_response":{"code":"20000","sub_code":"aop.unknow-error"}}`, platform.KindBusy, ""},
		{"error_response with a bad sign", `{"error_response":{"code":"40005"},"sign":"` + sign(t, "x") + `"}`, platform.KindBadAnswer, ""},
		{"error_response with a good sign", `{"error_response":{"code":"40005"},"sign":"` + sign(t, `{"code":"40005"}`) + `"}`, platform.KindRateLimited, ""},
		{"error_response without code", `{"error_response":{}}`, platform.KindBadAnswer, ""},
		{"neither", `{"sign":"x"}`, platform.KindBadAnswer, ""},
		{"trailing data", withSign(okRaw) + `{}`, platform.KindBadAnswer, ""},
		{"cut", `{` + k + `:{"user_id":"2088`, platform.KindBadAnswer, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := c.identity(EndpointOAuthToken, []byte(tc.body))
			if tc.kind == 0 {
				if err != nil || id.OpenID != tc.user {
					t.Fatalf("got %+v %v, want %s", id, err, tc.user)
				}
				return
			}
			if platform.KindOf(err) != tc.kind {
				t.Fatalf("got %v, want %v", err, tc.kind)
			}
		})
	}
}

// Sanity of the test keys' type, so a key file mix-up fails here.
var _ *rsa.PrivateKey = fakealipay.TestKey(fakealipay.KeyApp1)
