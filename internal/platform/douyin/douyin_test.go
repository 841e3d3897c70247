package douyin_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	fakedouyin "github.com/wechat-auth/wechat_auth/internal/fake/douyin"
	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/platform/douyin"
	"github.com/wechat-auth/wechat_auth/internal/platform/platformtest"
)

const (
	appID  = "tt5daf2b12c2857910"
	secret = "dy-secret-0123456789"
)

type env struct {
	fake *fakedouyin.Server
	srv  *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fake := fakedouyin.New(fakedouyin.App{ID: appID, Secret: secret, UnionID: true,
		PublicKey: &fakedouyin.TestPrivateKey().PublicKey})
	return &env{fake: fake, srv: platformtest.Serve(t, fake)}
}

// client makes a client of the env's fake; edit changes the config.
func (e *env) client(t *testing.T, edit func(*platform.Config)) platform.Client {
	t.Helper()
	cfg := platform.Config{
		AppID: appID, Secret: secret, APIBase: e.srv.URL,
		Options:    map[string]string{douyin.OptionPrivateKey: fakedouyin.TestPrivateKeyPEM},
		HTTPClient: e.srv.Client(),
		Now:        e.fake.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	return platformtest.NewClient(t, douyin.Name, cfg)
}

func wantKind(t *testing.T, err error, kind platform.Kind, code string) *platform.Error {
	t.Helper()
	return platformtest.WantKind(t, err, kind, code, secret)
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, nil)
	id, err := c.Login(context.Background(), "ok-alice.1")
	if err != nil {
		t.Fatal(err)
	}
	if id.OpenID != fakedouyin.OpenID(appID, "alice") || id.UnionID != fakedouyin.UnionID("alice") {
		t.Errorf("identity %+v", id)
	}
	if id.SessionKey != e.fake.SessionKey(appID, "alice") || !platform.ValidSessionKey(id.SessionKey, 16) {
		t.Errorf("session_key %q, the fake holds %q", id.SessionKey, e.fake.SessionKey(appID, "alice"))
	}
}

func TestLoginErrors(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, nil)
	for _, tc := range []struct {
		code string
		kind platform.Kind
		errc string
	}{
		{"bad-1", platform.KindInvalidCode, "40018"},
		{"nonsense", platform.KindInvalidCode, "40018"},
		{"busy-1", platform.KindBusy, "-1"},
		{"nokey-alice", platform.KindBadAnswer, ""},
		{"badid-alice", platform.KindBadAnswer, ""},
		{"html-1", platform.KindBadAnswer, ""},
		{"http500-1", platform.KindBadAnswer, ""},
		{"empty-1", platform.KindBadAnswer, ""},
		{"trunc-1", platform.KindBadAnswer, ""},
		{"", platform.KindInvalidCode, ""},
	} {
		t.Run(tc.code, func(t *testing.T) {
			_, err := c.Login(context.Background(), tc.code)
			pe := wantKind(t, err, tc.kind, tc.errc)
			if tc.code == "http500-1" && pe.HTTPStatus != http.StatusInternalServerError {
				t.Errorf("HTTPStatus %d", pe.HTTPStatus)
			}
		})
	}
	if n := e.fake.Count(fakedouyin.EndpointCode2Session); n != 9 {
		t.Errorf("%d calls, want 9 (none for the empty code)", n)
	}
}

func TestLoginCodeReusedAndExpired(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, nil)
	ctx := context.Background()
	code := e.fake.MintCode(appID, "bob")
	if _, err := c.Login(ctx, code); err != nil {
		t.Fatal(err)
	}
	_, err := c.Login(ctx, code)
	wantKind(t, err, platform.KindInvalidCode, "40018")

	code = e.fake.MintCode(appID, "bob")
	e.fake.Advance(fakedouyin.LoginCodeTTL)
	_, err = c.Login(ctx, code)
	wantKind(t, err, platform.KindInvalidCode, "40018")
}

func TestLoginCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.client(t, func(c *platform.Config) { c.Secret = "wrong-secret" }).Login(ctx, "ok-alice")
	if pe := wantKind(t, err, platform.KindConfig, "40017"); !strings.Contains(pe.Action, "app_secret") {
		t.Errorf("action %q", pe.Action)
	}
	_, err = e.client(t, func(c *platform.Config) { c.AppID = "tt0123456789abcdef" }).Login(ctx, "ok-alice")
	if pe := wantKind(t, err, platform.KindConfig, "40015"); !strings.Contains(pe.Action, "app_id") {
		t.Errorf("action %q", pe.Action)
	}
}

func TestLoginForcedAndTimeout(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, nil)
	e.fake.Force(fakedouyin.EndpointCode2Session, fakekit.ModeBusy)
	_, err := c.Login(context.Background(), "ok-alice")
	wantKind(t, err, platform.KindBusy, "-1")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.Login(ctx, "hang-1")
	wantKind(t, err, platform.KindTimeout, "")
}

func TestPhoneByCode(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		code, pure, cc, number string
	}{
		{e.fake.MintPhoneCode(appID, "13800138000"), "13800138000", "86", "13800138000"},
		{"phone-5551234-1", "5551234", "1", "+1 5551234"},
		{"long-13900139000", "13900139000", "86", "13900139000"}, // two RSA blocks
	} {
		ph, err := c.Phone(ctx, platform.PhoneRequest{Code: tc.code})
		if err != nil {
			t.Fatalf("%s: %v", tc.code, err)
		}
		if ph.PurePhoneNumber != tc.pure || ph.CountryCode != tc.cc || ph.PhoneNumber != tc.number || ph.Timestamp.IsZero() {
			t.Errorf("%s: %+v", tc.code, ph)
		}
	}
	// With the key, the code wins over sealed data beside it.
	if _, err := c.Phone(ctx, platform.PhoneRequest{Code: "phone-13800138000.9", EncryptedData: "x", IV: "y"}); err != nil {
		t.Errorf("code and data: %v", err)
	}
	if n := e.fake.Count(fakedouyin.EndpointClientToken); n != 1 {
		t.Errorf("%d client_token fetches, want 1 (cached)", n)
	}
}

func TestPhoneByCodeErrors(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, nil)
	ctx := context.Background()
	used := e.fake.MintPhoneCode(appID, "13800138000")
	if _, err := c.Phone(ctx, platform.PhoneRequest{Code: used}); err != nil {
		t.Fatal(err)
	}
	expired := e.fake.MintPhoneCode(appID, "13800138000")
	e.fake.Advance(fakedouyin.PhoneCodeTTL)
	for _, tc := range []struct {
		name, code string
		kind       platform.Kind
		errc       string
	}{
		{"used", used, platform.KindInvalidCode, "28005187"},
		{"expired", expired, platform.KindInvalidCode, "28005187"},
		{"bad", "bad-1", platform.KindInvalidCode, "28005187"},
		{"busy", "busy-1", platform.KindBusy, "28001005"},
		{"limit", "limit-1", platform.KindRateLimited, "28003018"},
		{"ability", "noability-1", platform.KindConfig, "28001018"},
		{"wrong key", "badseal-13800138000", platform.KindConfig, ""},
		{"html", "html-1", platform.KindBadAnswer, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Phone(ctx, platform.PhoneRequest{Code: tc.code})
			pe := wantKind(t, err, tc.kind, tc.errc)
			if tc.name == "wrong key" && !strings.Contains(pe.Action, douyin.OptionPrivateKey) {
				t.Errorf("action %q", pe.Action)
			}
		})
	}
	_, err := c.Phone(ctx, platform.PhoneRequest{Code: "other-13800138000"})
	if !errors.Is(err, platform.ErrWatermark) {
		t.Errorf("another app's watermark: %v", err)
	}
}

func TestPhoneTokenRefresh(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client(t, nil)
	if _, err := c.Phone(ctx, platform.PhoneRequest{Code: "phone-13800138000.1"}); err != nil {
		t.Fatal(err)
	}
	// Douyin kills the token (another server fetched two more): 28001003,
	// a fresh token, the call again.
	e.fake.RevokeClientTokens(appID)
	if _, err := c.Phone(ctx, platform.PhoneRequest{Code: "phone-13800138000.2"}); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Count(fakedouyin.EndpointClientToken); n != 2 {
		t.Errorf("%d client_token fetches, want 2", n)
	}

	// Douyin's side expires it before the client expected (28001008).
	e.fake.ExpireClientTokens(appID)
	e.fake.ResetCounts()
	if _, err := c.Phone(ctx, platform.PhoneRequest{Code: "phone-13800138000.3"}); err != nil {
		t.Fatal(err)
	}
	if n, m := e.fake.Count(fakedouyin.EndpointClientToken), e.fake.Count(fakedouyin.EndpointPhone); n != 1 || m != 2 {
		t.Errorf("%d client_token fetches and %d phone calls, want 1 and 2", n, m)
	}

	// A dead token whose replacement cannot be fetched: the fetch's error.
	e.fake.RevokeClientTokens(appID)
	e.fake.Force(fakedouyin.EndpointClientToken, fakekit.ModeBusy)
	_, err := c.Phone(ctx, platform.PhoneRequest{Code: "phone-13800138000.4"})
	wantKind(t, err, platform.KindBusy, "-1")
}

func TestPhoneClientTokenErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.client(t, func(c *platform.Config) { c.Secret = "wrong" }).Phone(ctx, platform.PhoneRequest{Code: "phone-1"})
	wantKind(t, err, platform.KindConfig, "10013")

	e.fake.Force(fakedouyin.EndpointClientToken, fakekit.ModeLimit)
	_, err = e.client(t, nil).Phone(ctx, platform.PhoneRequest{Code: "phone-1"})
	wantKind(t, err, platform.KindRateLimited, "10020")
}

func TestPhoneFlows(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	noKey := e.client(t, func(c *platform.Config) { c.Options = nil })
	if _, err := noKey.Phone(ctx, platform.PhoneRequest{Code: "phone-13800138000"}); !errors.Is(err, platform.ErrNoPhoneFlow) {
		t.Errorf("code without app_private_key: %v", err)
	}
	if _, err := noKey.Phone(ctx, platform.PhoneRequest{Response: "{}", Sign: "x"}); !errors.Is(err, platform.ErrNoPhoneFlow) {
		t.Errorf("Alipay's flow: %v", err)
	}
	if n := e.fake.Count(fakedouyin.EndpointClientToken); n != 0 {
		t.Errorf("%d client_token fetches without a phone by code", n)
	}
}

func TestPhoneLegacy(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(c *platform.Config) { c.Options = nil; c.PhoneMaxAge = time.Minute })
	ctx := context.Background()
	id1, err := c.Login(ctx, "ok-carol.1")
	if err != nil {
		t.Fatal(err)
	}
	data, iv, err := e.fake.SealPhone(appID, "carol", "13700137000", "", "")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.Login(ctx, "ok-carol.2") // the key that sealed it is now the older one
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{id2.SessionKey, id1.SessionKey}
	ph, err := c.Phone(ctx, platform.PhoneRequest{EncryptedData: data, IV: iv, Keys: keys})
	if err != nil || ph.PurePhoneNumber != "13700137000" || ph.CountryCode != "86" {
		t.Fatalf("%+v, %v", ph, err)
	}
	// Without app_private_key, a callback's code beside the data is left.
	ph, err = c.Phone(ctx, platform.PhoneRequest{Code: "phone-1", EncryptedData: data, IV: iv, Keys: keys})
	if err != nil || ph.PurePhoneNumber != "13700137000" {
		t.Fatalf("code and data: %+v, %v", ph, err)
	}

	other, otherIV, _ := e.fake.SealPhone(appID, "carol", "13700137000", "", "tt00000000000000ff")
	// Another base64 digit, so that the data stays well-formed.
	tampered := []byte(data)
	if tampered[3] == 'A' {
		tampered[3] = 'B'
	} else {
		tampered[3] = 'A'
	}
	for _, tc := range []struct {
		name string
		req  platform.PhoneRequest
		want error
	}{
		{"wrong key", platform.PhoneRequest{EncryptedData: data, IV: iv, Keys: []string{id2.SessionKey}}, platform.ErrUndecryptable},
		{"no key", platform.PhoneRequest{EncryptedData: data, IV: iv}, platform.ErrUndecryptable},
		{"tampered", platform.PhoneRequest{EncryptedData: string(tampered), IV: iv, Keys: keys}, platform.ErrUndecryptable},
		{"wrong app", platform.PhoneRequest{EncryptedData: other, IV: otherIV, Keys: keys}, platform.ErrWatermark},
		{"bad iv", platform.PhoneRequest{EncryptedData: data, IV: "AAAA", Keys: keys}, platform.ErrMalformed},
		{"bad data", platform.PhoneRequest{EncryptedData: "not base64!", IV: iv, Keys: keys}, platform.ErrMalformed},
	} {
		if _, err := c.Phone(ctx, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	e.fake.Advance(2 * time.Minute)
	if _, err := c.Phone(ctx, platform.PhoneRequest{EncryptedData: data, IV: iv, Keys: keys}); !errors.Is(err, platform.ErrStale) {
		t.Errorf("older than PhoneMaxAge: %v", err)
	}
}

func TestOptions(t *testing.T) {
	key := fakedouyin.TestPrivateKey()
	pkcs1 := x509.MarshalPKCS1PrivateKey(key)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1PEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1}))
	p, _ := platform.Lookup(douyin.Name)
	for _, tc := range []struct {
		name, value string
		ok          bool
	}{
		{"PKCS#8 PEM", fakedouyin.TestPrivateKeyPEM, true},
		{"PKCS#1 PEM", pkcs1PEM, true},
		{"PEM with \\n", strings.ReplaceAll(pkcs1PEM, "\n", `\n`), true},
		{"bare base64 PKCS#8", base64.StdEncoding.EncodeToString(pkcs8), true},
		{"bare base64 PKCS#1", base64.StdEncoding.EncodeToString(pkcs1), true},
		{"garbage", "notakey-SECRETVALUE", false},
		{"broken PEM", "-----BEGIN PRIVATE KEY-----\nSECRETVALUE\n-----END PRIVATE KEY-----\n", false},
		{"base64 not a key", base64.StdEncoding.EncodeToString([]byte("SECRETVALUE")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := p.New(platform.Config{AppID: appID, Secret: secret,
				Options: map[string]string{douyin.OptionPrivateKey: tc.value}})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, douyin.OptionPrivateKey) || !strings.Contains(msg, appID) ||
				!strings.Contains(msg, "PEM") || strings.Contains(msg, "SECRETVALUE") || strings.Contains(msg, tc.value) {
				t.Errorf("error %q: want the app, the option and what is accepted, never the value", msg)
			}
		})
	}
}

func TestRegistration(t *testing.T) {
	p, ok := platform.Lookup(douyin.Name)
	if !ok || !p.NeedsSecret || len(p.Options) != 1 || p.Options[0] != douyin.OptionPrivateKey || len(p.Required) != 0 {
		t.Fatalf("%+v", p)
	}
	for id, ok := range map[string]bool{
		"tt5daf2b12c2857910":   true,
		"tt5daf2b12c285791":    false,
		"tt5daf2b12c28579100":  false,
		"TT5daf2b12c2857910":   false,
		"tt5daf2b12c285791g":   false,
		"ks707065143182458884": false,
	} {
		if p.AppID.MatchString(id) != ok {
			t.Errorf("%s: match %v", id, !ok)
		}
	}
	if !strings.Contains(p.AppIDHint, "tt") {
		t.Errorf("hint %q", p.AppIDHint)
	}
}

func TestRealHosts(t *testing.T) {
	// With APIBase empty, login goes to developer.toutiao.com and the
	// phone API to open.douyin.com.
	var rec platformtest.Recorder
	c := platformtest.NewClient(t, douyin.Name, platform.Config{AppID: appID, Secret: secret, HTTPClient: rec.Client(),
		Options: map[string]string{douyin.OptionPrivateKey: fakedouyin.TestPrivateKeyPEM}})
	_, err := c.Login(context.Background(), "x")
	wantKind(t, err, platform.KindUnreachable, "")
	_, err = c.Phone(context.Background(), platform.PhoneRequest{Code: "x"})
	wantKind(t, err, platform.KindUnreachable, "")
	want := []string{"POST https://developer.toutiao.com" + douyin.PathCode2Session, "POST https://open.douyin.com" + douyin.PathClientToken}
	if got := rec.Calls(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("called %v, want %v", got, want)
	}
}
