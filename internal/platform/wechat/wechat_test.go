package wechat_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/platform"
	_ "github.com/wechat-auth/wechat_auth/internal/platform/wechat"
)

const (
	app      = "wxplatform000001"
	secret   = "platform-secret"
	otherApp = "wxplatform000002"
)

// world is the platform's client of app against a fake WeChat.
type world struct {
	t      *testing.T
	wx     *fakewx.Server
	url    string
	client platform.Client

	mu    sync.Mutex
	calls []string // endpoints called, in order
}

func newWorld(t *testing.T, cfg platform.Config) *world {
	t.Helper()
	wx := fakewx.New(fakewx.Config{Apps: map[string]string{app: secret, otherApp: "other-secret"}})
	ts := httptest.NewServer(wx)
	t.Cleanup(ts.Close)
	t.Cleanup(wx.Close) // first: releases hanging requests
	w := &world{t: t, wx: wx, url: ts.URL}
	if cfg.AppID == "" {
		cfg.AppID, cfg.Secret = app, secret
	}
	cfg.APIBase, cfg.HTTPClient = ts.URL, ts.Client()
	cfg.Observe = func(endpoint string, _ time.Duration, _ error) {
		w.mu.Lock()
		w.calls = append(w.calls, endpoint)
		w.mu.Unlock()
	}
	p, ok := platform.Lookup("wechat")
	if !ok {
		t.Fatal("wechat not registered")
	}
	c, err := p.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w.client = c
	return w
}

func (w *world) called(endpoint string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.calls {
		if e == endpoint {
			n++
		}
	}
	return n
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// wantKind checks err is a *platform.Error of kind with WeChat's errcode
// code as text ("" for none).
func wantKind(t *testing.T, what string, err error, kind platform.Kind, code string) *platform.Error {
	t.Helper()
	var pe *platform.Error
	if !errors.As(err, &pe) {
		t.Fatalf("%s: %v (%T), want a *platform.Error of kind %v", what, err, err, kind)
	}
	if pe.Kind != kind || pe.Code != code || pe.Platform != "wechat" {
		t.Fatalf("%s: %v: kind %v code %q, want %v %q", what, err, pe.Kind, pe.Code, kind, code)
	}
	for _, s := range []string{secret, "access_token", "secret="} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("%s: error text %q holds %q", what, err, s)
		}
	}
	return pe
}

func TestRegistration(t *testing.T) {
	p, ok := platform.Lookup("wechat")
	if !ok || !p.NeedsSecret || len(p.Options) != 0 || p.AppIDHint == "" {
		t.Fatalf("registration: %+v", p)
	}
	for id, want := range map[string]bool{
		"wx4f4bc4dec97d474b": true, "wxabcd": true, "wx" + strings.Repeat("a", 32): true,
		"wxabc": false, "wx" + strings.Repeat("a", 33): false, "tt4f4bc4dec97d474b": false, "wx-abcdefg": false, "": false,
	} {
		if p.AppID.MatchString(id) != want {
			t.Errorf("app id %q: match %v", id, !want)
		}
	}
	for _, tc := range []struct {
		cfg  platform.Config
		want string
	}{
		{platform.Config{AppID: app}, "app_secret is required"},
		{platform.Config{AppID: app, Secret: secret, Options: map[string]string{"app_private_key": "hush-value"}}, `unknown option "app_private_key"`},
		{platform.Config{AppID: "tt123456", Secret: secret}, "app_id"},
	} {
		_, err := p.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hush-value") || strings.Contains(err.Error(), secret) {
			t.Errorf("New(%+v): %v, want an error saying %q without the values", tc.cfg.AppID, err, tc.want)
		}
	}
}

func TestLogin(t *testing.T) {
	w := newWorld(t, platform.Config{})
	ctx := ctxFor(t, 5*time.Second)

	id, err := w.client.Login(ctx, "ok-alice.1")
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := w.wx.SessionKeys(app, id.OpenID)
	if id.OpenID != fakewx.OpenID(app, "alice") || id.UnionID != "" || id.SessionKey != cur {
		t.Fatalf("identity %+v", id)
	}
	id, err = w.client.Login(ctx, "union-bob")
	if err != nil || id.UnionID != fakewx.UnionID("bob") {
		t.Fatalf("union: %+v %v", id, err)
	}
	_, err = w.client.Login(ctx, "ok-alice.1")
	wantKind(t, "reused", err, platform.KindCodeUsed, "40163")

	w.wx.MintCode(app, "ok-carol.1")
	w.wx.Advance(fakewx.CodeTTL)
	_, err = w.client.Login(ctx, "ok-carol.1")
	wantKind(t, "expired", err, platform.KindInvalidCode, "40029")

	for _, tc := range []struct {
		code string
		kind platform.Kind
		errc string
	}{
		{"bad-1", platform.KindInvalidCode, "40029"},
		{"nothing", platform.KindInvalidCode, "40029"},
		{"risky-1", platform.KindRiskyUser, "40226"},
		{"limit-1", platform.KindRateLimited, "45011"},
		{"busy-1", platform.KindBusy, "-1"},
		{"http500-1", platform.KindBadAnswer, ""},
		{"html-1", platform.KindBadAnswer, ""},
		{"empty-1", platform.KindBadAnswer, ""},
		{"trunc-1", platform.KindBadAnswer, ""},
		{"nokey-dave", platform.KindBadAnswer, ""},
		{"badid-long", platform.KindBadAnswer, ""},
		{"badid-dotdot", platform.KindBadAnswer, ""},
		{"badid-quote", platform.KindBadAnswer, ""},
		{"badid-crlf", platform.KindBadAnswer, ""},
		{"badid-empty", platform.KindBadAnswer, ""},
		{"badid-union", platform.KindBadAnswer, ""},
	} {
		_, err := w.client.Login(ctx, tc.code)
		wantKind(t, tc.code, err, tc.kind, tc.errc)
	}

	_, err = w.client.Login(ctxFor(t, 100*time.Millisecond), "hang-1")
	wantKind(t, "hang", err, platform.KindTimeout, "")
}

func TestLoginBadCredentials(t *testing.T) {
	for _, tc := range []struct {
		appID, secret, code string
	}{
		{app, "wrong-secret", "40125"},
		{"wxunknownapp0001", secret, "40013"},
	} {
		w := newWorld(t, platform.Config{AppID: tc.appID, Secret: tc.secret})
		_, err := w.client.Login(ctxFor(t, 5*time.Second), "ok-alice")
		pe := wantKind(t, tc.code, err, platform.KindConfig, tc.code)
		if pe.Action == "" || strings.Contains(pe.Action, tc.secret) {
			t.Errorf("%s: action %q", tc.code, pe.Action)
		}
	}
}

func TestPhoneByCode(t *testing.T) {
	w := newWorld(t, platform.Config{})
	ctx := ctxFor(t, 5*time.Second)
	alice := fakewx.OpenID(app, "alice")
	phone := func(code string) (platform.Phone, error) {
		return w.client.Phone(ctx, platform.PhoneRequest{OpenID: alice, Code: code})
	}

	ph, err := phone("phone-13800138000")
	if err != nil || ph.PurePhoneNumber != "13800138000" || ph.PhoneNumber != "13800138000" || ph.CountryCode != "86" || ph.Timestamp.IsZero() {
		t.Fatalf("phone: %+v %v", ph, err)
	}
	ph, err = phone("phonenum-2025550123-1@alice")
	if err != nil || ph.PhoneNumber != "+1 2025550123" || ph.CountryCode != "1" {
		t.Fatalf("phonenum: %+v %v", ph, err)
	}
	if n := w.called("stable_token"); n != 1 {
		t.Errorf("stable_token called %d times, want 1 (cached)", n)
	}

	for _, tc := range []struct {
		code string
		kind platform.Kind
		errc string
		hits int // getuserphonenumber calls
	}{
		{"phone-13800138000", platform.KindInvalidCode, "40029", 1}, // reused
		{"bad-1", platform.KindInvalidCode, "40029", 1},
		{"phone-13800138000.1@bob", platform.KindInvalidCode, "40003", 1},
		{"foreign-1", platform.KindInvalidCode, "40013", 1}, // issue 21: the client's error
		{"limit-1", platform.KindRateLimited, "45011", 1},
		{"busy-1", platform.KindBusy, "-1", 2}, // retried once
		{"http500-1", platform.KindBadAnswer, "", 1},
		{"html-1", platform.KindBadAnswer, "", 1},
	} {
		before := w.called("getuserphonenumber")
		_, err := phone(tc.code)
		wantKind(t, tc.code, err, tc.kind, tc.errc)
		if n := w.called("getuserphonenumber") - before; n != tc.hits {
			t.Errorf("%s: %d calls, want %d", tc.code, n, tc.hits)
		}
	}

	w.wx.MintCode(app, "phone-13900000000.9")
	w.wx.Advance(fakewx.CodeTTL)
	_, err = phone("phone-13900000000.9")
	wantKind(t, "expired", err, platform.KindInvalidCode, "40029")

	if _, err := w.client.Phone(ctx, platform.PhoneRequest{OpenID: alice}); err != platform.ErrNoPhoneFlow {
		t.Errorf("no flow: %v", err)
	}
	if _, err := w.client.Phone(ctx, platform.PhoneRequest{OpenID: alice, EncryptedData: "abc"}); err != platform.ErrNoPhoneFlow {
		t.Errorf("data without iv: %v", err)
	}
}

func TestPhoneCodeRetriedOnce(t *testing.T) {
	w := newWorld(t, platform.Config{})
	alice := fakewx.OpenID(app, "alice")

	// -1 once, then the answer: one press of the button, one number.
	ph, err := w.client.Phone(ctxFor(t, 5*time.Second), platform.PhoneRequest{OpenID: alice, Code: "busyonce-13800138000"})
	if err != nil || ph.PurePhoneNumber != "13800138000" {
		t.Fatalf("busyonce: %+v %v", ph, err)
	}
	// No answer the first time: the first attempt gets half the time.
	start := time.Now()
	ph, err = w.client.Phone(ctxFor(t, 1500*time.Millisecond), platform.PhoneRequest{OpenID: alice, Code: "hangonce-13900000000"})
	if err != nil || ph.PurePhoneNumber != "13900000000" {
		t.Fatalf("hangonce: %+v %v after %v", ph, err, time.Since(start))
	}
	if n := w.called("getuserphonenumber"); n != 4 {
		t.Errorf("%d getuserphonenumber calls, want 4", n)
	}
	// The code was used when it succeeded.
	_, err = w.client.Phone(ctxFor(t, 5*time.Second), platform.PhoneRequest{OpenID: alice, Code: "hangonce-13900000000"})
	wantKind(t, "used", err, platform.KindInvalidCode, "40029")

	// Never answering: the retry times out too, within the caller's deadline.
	ctx := ctxFor(t, 300*time.Millisecond)
	_, err = w.client.Phone(ctx, platform.PhoneRequest{OpenID: alice, Code: "hang-1"})
	wantKind(t, "hang", err, platform.KindTimeout, "")
	if n := w.called("getuserphonenumber"); n != 7 {
		t.Errorf("%d getuserphonenumber calls, want 7", n)
	}
}

func TestPhoneCodeTokenTrouble(t *testing.T) {
	w := newWorld(t, platform.Config{})
	ctx := ctxFor(t, 5*time.Second)
	alice := fakewx.OpenID(app, "alice")
	if _, err := w.client.Phone(ctx, platform.PhoneRequest{OpenID: alice, Code: "phone-13800138000.1"}); err != nil {
		t.Fatal(err)
	}
	// A dead token: dropped, fetched again, the call made once more.
	w.wx.ExpireToken(app)
	if _, err := w.client.Phone(ctx, platform.PhoneRequest{OpenID: alice, Code: "phone-13800138000.2"}); err != nil {
		t.Fatalf("after the token died: %v", err)
	}
	if n := w.called("stable_token"); n != 2 {
		t.Errorf("stable_token called %d times, want 2", n)
	}
}

func TestPhoneCodeTokenRefused(t *testing.T) {
	var reports []platform.TokenError
	var mu sync.Mutex
	w := newWorld(t, platform.Config{OnTokenError: func(e platform.TokenError) {
		mu.Lock()
		reports = append(reports, e)
		mu.Unlock()
	}})
	w.wx.SetTokenMode(app, fakewx.TokenIPDenied)
	_, err := w.client.Phone(ctxFor(t, 5*time.Second), platform.PhoneRequest{OpenID: "o1", Code: "phone-13800138000"})
	pe := wantKind(t, "ip", err, platform.KindConfig, "40164")
	if pe.Endpoint != "stable_token" || pe.Action == "" {
		t.Fatalf("ip: %+v", pe)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 1 || reports[0].AppID != app || platform.KindOf(reports[0].Err) != platform.KindConfig {
		t.Fatalf("token reports %+v", reports)
	}
}

// sealed is alice's phone payload sealed with her current key.
func (w *world) sealed(openid, pure, watermark string) (data, iv string) {
	w.t.Helper()
	data, iv, err := w.wx.EncryptPhone(app, openid, pure, "86", watermark)
	if err != nil {
		w.t.Fatal(err)
	}
	return data, iv
}

func TestPhoneByData(t *testing.T) {
	w := newWorld(t, platform.Config{})
	ctx := ctxFor(t, 5*time.Second)
	id, err := w.client.Login(ctx, "ok-alice.1")
	if err != nil {
		t.Fatal(err)
	}
	first := id.SessionKey
	data, iv := w.sealed(id.OpenID, "13800138000", app)
	phone := func(keys []string, data, iv string) (platform.Phone, error) {
		return w.client.Phone(ctx, platform.PhoneRequest{OpenID: id.OpenID, Keys: keys, EncryptedData: data, IV: iv})
	}
	ph, err := phone([]string{first}, data, iv)
	if err != nil || ph.PurePhoneNumber != "13800138000" || ph.CountryCode != "86" {
		t.Fatalf("decrypt: %+v %v", ph, err)
	}

	// Logged in again after the button: the previous key opens it.
	id2, err := w.client.Login(ctx, "ok-alice.2")
	if err != nil {
		t.Fatal(err)
	}
	if ph, err := phone([]string{id2.SessionKey, first}, data, iv); err != nil || ph.PurePhoneNumber != "13800138000" {
		t.Fatalf("previous key: %+v %v", ph, err)
	}

	bob, _ := w.client.Login(ctx, "ok-bob.1")
	bobData, bobIV := w.sealed(bob.OpenID, "13900000000", app)
	otherData, otherIV := w.sealed(id.OpenID, "13800138000", otherApp)
	tampered := []byte(data) // one base64 digit changed for another
	if tampered[10] == 'A' {
		tampered[10] = 'B'
	} else {
		tampered[10] = 'A'
	}
	for _, tc := range []struct {
		name     string
		keys     []string
		data, iv string
		want     error
	}{
		{"another user's data", []string{id2.SessionKey, first}, bobData, bobIV, platform.ErrUndecryptable},
		{"tampered", []string{id2.SessionKey, first}, string(tampered), iv, platform.ErrUndecryptable},
		{"wrong app", []string{id2.SessionKey}, otherData, otherIV, platform.ErrWatermark},
		{"iv not base64", []string{first}, data, "!!", platform.ErrMalformed},
		{"iv short", []string{first}, data, base64.StdEncoding.EncodeToString([]byte("short")), platform.ErrMalformed},
		{"data not blocks", []string{first}, base64.StdEncoding.EncodeToString([]byte("abc")), iv, platform.ErrMalformed},
		{"no keys", nil, data, iv, platform.ErrUndecryptable},
	} {
		if _, err := phone(tc.keys, tc.data, tc.iv); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := w.called("checksession"); n != 2 {
		t.Errorf("checksession called %d times, want 2 (the undecryptable cases with keys)", n)
	}
}

func TestPhoneByDataKeyReplacedOutsideLogin(t *testing.T) {
	w := newWorld(t, platform.Config{})
	ctx := ctxFor(t, 5*time.Second)
	id, err := w.client.Login(ctx, "ok-alice.1")
	if err != nil {
		t.Fatal(err)
	}
	// WeChat replaces the key (data pre-fetch) and seals with the new one.
	if _, err := w.wx.ReplaceSessionKey(app, id.OpenID); err != nil {
		t.Fatal(err)
	}
	data, iv := w.sealed(id.OpenID, "13800138000", app)
	req := platform.PhoneRequest{OpenID: id.OpenID, Keys: []string{id.SessionKey}, EncryptedData: data, IV: iv}
	if _, err := w.client.Phone(ctx, req); err != platform.ErrSessionKeyExpired {
		t.Fatalf("replaced key: %v, want ErrSessionKeyExpired", err)
	}
	// Logging in again hands the new key out: the same data now opens.
	id2, err := w.client.Login(ctx, "same-alice.2")
	if err != nil {
		t.Fatal(err)
	}
	req.Keys = []string{id2.SessionKey, id.SessionKey}
	if ph, err := w.client.Phone(ctx, req); err != nil || ph.PurePhoneNumber != "13800138000" {
		t.Fatalf("after the login: %+v %v", ph, err)
	}

	// A failed checksession cannot tell: undecryptable.
	bad := platform.PhoneRequest{OpenID: id.OpenID, Keys: []string{id.SessionKey}, EncryptedData: data, IV: iv}
	w.wx.ExpireToken(app)
	w.wx.SetTokenMode(app, fakewx.TokenBusy)
	if _, err := w.client.Phone(ctx, bad); err != platform.ErrUndecryptable {
		t.Fatalf("checksession failed: %v, want ErrUndecryptable", err)
	}
}

func TestPhoneByDataAge(t *testing.T) {
	w := newWorld(t, platform.Config{PhoneMaxAge: time.Minute})
	ctx := ctxFor(t, 5*time.Second)
	id, err := w.client.Login(ctx, "ok-alice.1")
	if err != nil {
		t.Fatal(err)
	}
	w.wx.Advance(-2 * time.Minute)
	data, iv := w.sealed(id.OpenID, "13800138000", app)
	w.wx.Advance(2 * time.Minute)
	if _, err := w.client.Phone(ctx, platform.PhoneRequest{OpenID: id.OpenID, Keys: []string{id.SessionKey}, EncryptedData: data, IV: iv}); err != platform.ErrStale {
		t.Fatalf("old data: %v, want ErrStale", err)
	}
}

// WeChat's published test vector (official-vector.txt of the shared docs).
const (
	vecKey   = "tiihtNczf5v6AKRyjwEUhQ=="
	vecIV    = "r7BXXKkLb8qrSNn05n0qiA=="
	vecAppID = "wx4f4bc4dec97d474b"
	vecData  = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
)

// TestOfficialVector: WeChat's vector is user-info data, no phone number.
func TestOfficialVector(t *testing.T) {
	check := platform.PhoneCheck{AppID: vecAppID, RequireWatermark: true}
	if _, err := platform.OpenSealedPhone([]string{vecKey}, vecIV, vecData, check); err != platform.ErrNoPhone {
		t.Fatalf("official vector: %v, want ErrNoPhone", err)
	}
	check.AppID = app
	if _, err := platform.OpenSealedPhone([]string{"AAAAAAAAAAAAAAAAAAAAAA==", vecKey}, vecIV, vecData, check); err != platform.ErrNoPhone {
		t.Fatalf("official vector, second key: %v, want ErrNoPhone", err)
	}
}
