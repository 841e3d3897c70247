package qq_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	fakeqq "github.com/wechat-auth/wechat_auth/internal/fake/qq"
	"github.com/wechat-auth/wechat_auth/internal/platform"
	_ "github.com/wechat-auth/wechat_auth/internal/platform/qq"
)

const (
	app      = "1112214148"
	secret   = "qq-secret"
	unionApp = "1112214149"
	otherApp = "1112214150"
)

type world struct {
	qq     *fakeqq.Server
	url    string
	client platform.Client
}

func newWorld(t *testing.T, cfg platform.Config) *world {
	t.Helper()
	qq := fakeqq.New(fakeqq.App{ID: app, Secret: secret}, fakeqq.App{ID: unionApp, Secret: secret, UnionID: true},
		fakeqq.App{ID: otherApp, Secret: secret})
	ts := httptest.NewServer(qq)
	t.Cleanup(ts.Close)
	t.Cleanup(qq.Close)
	if cfg.AppID == "" {
		cfg.AppID, cfg.Secret = app, secret
	}
	cfg.APIBase, cfg.HTTPClient = ts.URL, ts.Client()
	p, _ := platform.Lookup("qq")
	c, err := p.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &world{qq: qq, url: ts.URL, client: c}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func wantKind(t *testing.T, what string, err error, kind platform.Kind, code string) *platform.Error {
	t.Helper()
	var pe *platform.Error
	if !errors.As(err, &pe) || pe.Kind != kind || pe.Code != code || pe.Platform != "qq" {
		t.Fatalf("%s: %v, want kind %v code %q", what, err, kind, code)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("%s: error text holds the secret: %v", what, err)
	}
	return pe
}

func TestRegistration(t *testing.T) {
	p, ok := platform.Lookup("qq")
	if !ok || !p.NeedsSecret || len(p.Options) != 0 || p.AppIDHint == "" {
		t.Fatalf("registration: %+v", p)
	}
	for id, want := range map[string]bool{"1112214148": true, "123456": true, "wx4f4bc4dec97d474b": false, "12345": false, "1234567890123": false, "11122x4148": false} {
		if p.AppID.MatchString(id) != want {
			t.Errorf("app id %q: match %v", id, !want)
		}
	}
	for _, tc := range []struct {
		cfg  platform.Config
		want string
	}{
		{platform.Config{AppID: app}, "app_secret is required"},
		{platform.Config{AppID: app, Secret: secret, Options: map[string]string{"aes_key": "hush-value"}}, `unknown option "aes_key"`},
		{platform.Config{AppID: "wx4f4bc4dec97d474b", Secret: secret}, "app_id must be"},
	} {
		_, err := p.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hush-value") || strings.Contains(err.Error(), secret) {
			t.Errorf("New: %v, want %q without the values", err, tc.want)
		}
	}
}

func TestLogin(t *testing.T) {
	w := newWorld(t, platform.Config{})
	ctx := ctxFor(t, 5*time.Second)
	// Twice: the fake answers with and without "errcode": 0 by turns.
	for _, code := range []string{"ok-alice.1", "ok-alice.2"} {
		id, err := w.client.Login(ctx, code)
		cur, _ := w.qq.SessionKeys(app, fakeqq.OpenID(app, "alice"))
		if err != nil || id.OpenID != fakeqq.OpenID(app, "alice") || id.UnionID != "" || id.SessionKey != cur {
			t.Fatalf("%s: %+v %v", code, id, err)
		}
	}
	_, err := w.client.Login(ctx, "ok-alice.1")
	wantKind(t, "reused", err, platform.KindInvalidCode, "40029")

	code := w.qq.MintCode(app, "bob")
	w.qq.Advance(fakeqq.CodeTTL)
	_, err = w.client.Login(ctx, code)
	wantKind(t, "expired", err, platform.KindInvalidCode, "40029")

	for _, tc := range []struct {
		code string
		kind platform.Kind
		errc string
	}{
		{"bad-1", platform.KindInvalidCode, "40029"},
		{"nothing", platform.KindInvalidCode, "40029"},
		{"limit-1", platform.KindRateLimited, "45011"},
		{"busy-1", platform.KindBusy, "-1"},
		{"http500-1", platform.KindBadAnswer, ""},
		{"html-1", platform.KindBadAnswer, ""},
		{"empty-1", platform.KindBadAnswer, ""},
		{"trunc-1", platform.KindBadAnswer, ""},
		{"nokey-carol", platform.KindBadAnswer, ""},
		{"badid-carol", platform.KindBadAnswer, ""},
	} {
		_, err := w.client.Login(ctx, tc.code)
		wantKind(t, tc.code, err, tc.kind, tc.errc)
	}
	for m, kind := range map[fakeqq.Mode]platform.Kind{
		fakeqq.ModeBusy: platform.KindBusy, fakeqq.ModeLimit: platform.KindRateLimited,
		fakeqq.ModeHTML: platform.KindBadAnswer, fakeqq.ModeHTTP500: platform.KindBadAnswer,
		fakeqq.ModeEmpty: platform.KindBadAnswer, fakeqq.ModeTrunc: platform.KindBadAnswer,
	} {
		w.qq.Force(fakeqq.EndpointLogin, m)
		_, err := w.client.Login(ctx, w.qq.MintCode(app, "dave"))
		if platform.KindOf(err) != kind {
			t.Errorf("Force(%s): %v, want %v", m, err, kind)
		}
	}
	_, err = w.client.Login(ctxFor(t, 100*time.Millisecond), "hang-1")
	wantKind(t, "hang", err, platform.KindTimeout, "")

	wu := newWorld(t, platform.Config{AppID: unionApp, Secret: secret})
	id, err := wu.client.Login(ctx, "ok-alice")
	if err != nil || id.UnionID != fakeqq.UnionID("alice") || id.OpenID != fakeqq.OpenID(unionApp, "alice") {
		t.Fatalf("unionid app: %+v %v", id, err)
	}
}

func TestLoginRateLimitPerUser(t *testing.T) {
	w := newWorld(t, platform.Config{})
	ctx := ctxFor(t, 10*time.Second)
	for i := range fakeqq.LoginsPerMinute {
		if _, err := w.client.Login(ctx, w.qq.MintCode(app, "eve")); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
	_, err := w.client.Login(ctx, w.qq.MintCode(app, "eve"))
	wantKind(t, "101st", err, platform.KindRateLimited, "45011")
	if _, err := w.client.Login(ctx, w.qq.MintCode(app, "frank")); err != nil {
		t.Fatalf("another user: %v", err)
	}
	w.qq.Advance(time.Minute)
	if _, err := w.client.Login(ctx, w.qq.MintCode(app, "eve")); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
}

func TestLoginBadCredentials(t *testing.T) {
	for _, cfg := range []platform.Config{{AppID: app, Secret: "wrong"}, {AppID: "999999999", Secret: secret}} {
		w := newWorld(t, cfg)
		_, err := w.client.Login(ctxFor(t, 5*time.Second), "ok-alice")
		pe := wantKind(t, cfg.AppID, err, platform.KindConfig, "-101222100")
		if pe.Action == "" {
			t.Errorf("%s: no action", cfg.AppID)
		}
	}
}

func TestPhone(t *testing.T) {
	w := newWorld(t, platform.Config{PhoneMaxAge: time.Hour})
	ctx := ctxFor(t, 5*time.Second)
	id, err := w.client.Login(ctx, "ok-alice.1")
	if err != nil {
		t.Fatal(err)
	}
	seal := func(pure, cc, wm string) (string, string) {
		data, iv, err := w.qq.SealPhone(app, id.OpenID, pure, cc, wm)
		if err != nil {
			t.Fatal(err)
		}
		return data, iv
	}
	data, iv := seal("13800138000", "86", app)
	req := platform.PhoneRequest{OpenID: id.OpenID, Keys: []string{id.SessionKey}, EncryptedData: data, IV: iv}
	ph, err := w.client.Phone(ctx, req)
	if err != nil || ph.PurePhoneNumber != "13800138000" || ph.CountryCode != "86" || ph.Timestamp.IsZero() {
		t.Fatalf("phone: %+v %v", ph, err)
	}

	// A newer login: the new key first, the old one still opens old data.
	id2, err := w.client.Login(ctx, "ok-alice.2")
	if err != nil {
		t.Fatal(err)
	}
	req.Keys = []string{id2.SessionKey, id.SessionKey}
	if _, err := w.client.Phone(ctx, req); err != nil {
		t.Fatalf("previous key: %v", err)
	}
	usData, usIV := seal("2025550123", "1", app)
	if ph, err := w.client.Phone(ctx, platform.PhoneRequest{Keys: []string{id2.SessionKey}, EncryptedData: usData, IV: usIV}); err != nil || ph.PhoneNumber != "+1 2025550123" || ph.CountryCode != "1" {
		t.Fatalf("US number: %+v %v", ph, err)
	}

	otherData, otherIV := seal("13800138000", "86", otherApp)
	infoData, infoIV, err := w.qq.Seal(app, id.OpenID, []byte(`{"openId":"X","nickName":"alice","watermark":{"appid":"`+app+`","timestamp":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	w.qq.Advance(-2 * time.Hour)
	oldData, oldIV := seal("13800138000", "86", app)
	w.qq.Advance(2 * time.Hour)
	tampered := []byte(usData)
	tampered[5] = map[bool]byte{true: 'B', false: 'A'}[tampered[5] == 'A']
	for _, tc := range []struct {
		name     string
		keys     []string
		data, iv string
		want     error
	}{
		{"wrong key", []string{id.SessionKey}, usData, usIV, platform.ErrUndecryptable},
		{"tampered", []string{id2.SessionKey}, string(tampered), usIV, platform.ErrUndecryptable},
		{"wrong app", []string{id2.SessionKey}, otherData, otherIV, platform.ErrWatermark},
		{"no phone (user info)", []string{id2.SessionKey}, infoData, infoIV, platform.ErrNoPhone},
		{"too old", []string{id2.SessionKey}, oldData, oldIV, platform.ErrStale},
		{"iv malformed", []string{id2.SessionKey}, usData, base64.StdEncoding.EncodeToString([]byte("x")), platform.ErrMalformed},
		{"data malformed", []string{id2.SessionKey}, "***", usIV, platform.ErrMalformed},
	} {
		if _, err := w.client.Phone(ctx, platform.PhoneRequest{Keys: tc.keys, EncryptedData: tc.data, IV: tc.iv}); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// QQ has no phone button: a code names no flow of this platform.
	if _, err := w.client.Phone(ctx, platform.PhoneRequest{Code: "phone-13800138000"}); err != platform.ErrNoPhoneFlow {
		t.Errorf("code: %v", err)
	}
}

func FuzzPhone(f *testing.F) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 16))
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA==")
	f.Fuzz(func(t *testing.T, data, iv string) {
		_, err := platform.OpenSealedPhone([]string{key}, iv, data, platform.PhoneCheck{AppID: app, RequireWatermark: true})
		if err == nil {
			return
		}
		for _, e := range []error{platform.ErrMalformed, platform.ErrUndecryptable, platform.ErrNoPhone, platform.ErrWatermark, platform.ErrStale} {
			if errors.Is(err, e) {
				return
			}
		}
		t.Fatalf("unexpected error %v", err)
	})
}
