package baidu

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	fakebaidu "github.com/wechat-auth/wechat_auth/internal/fake/baidu"
	"github.com/wechat-auth/wechat_auth/internal/platform"
)

const (
	key1    = "4fecoAqgCIUtzIyA4FAPgoyrc4oUc25c"
	secret1 = "s3cr3tOfApp1xxxxxxxxxxxxxxxxxxxx"
	key2    = "Y2dTfnWfkx2OXttMEMWlGHoB1KzMogm7"
	secret2 = "s3cr3tOfApp2xxxxxxxxxxxxxxxxxxxx"
)

type fixture struct {
	fake *fakebaidu.Server
	url  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fake := fakebaidu.New(fakebaidu.App{Key: key1, Secret: secret1}, fakebaidu.App{Key: key2, Secret: secret2, NoUnionID: true})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	return &fixture{fake: fake, url: srv.URL}
}

func (f *fixture) client(t *testing.T, key, secret string, tokenErrs *atomic.Int32) platform.Client {
	t.Helper()
	cfg := platform.Config{AppID: key, Secret: secret, APIBase: f.url}
	if tokenErrs != nil {
		cfg.OnTokenError = func(platform.TokenError) { tokenErrs.Add(1) }
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestRegistered(t *testing.T) {
	p, ok := platform.Lookup(Name)
	if !ok || !p.NeedsSecret || !p.AppID.MatchString(key1) || p.AppID.MatchString("17050399") || len(p.Options) != 0 {
		t.Fatalf("registration: %+v", p)
	}
	for _, cfg := range []platform.Config{{AppID: "17050399", Secret: "x"}, {AppID: key1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, key1, secret1, nil)
	ctx := context.Background()
	id, err := c.Login(ctx, f.fake.MintCode(key1, "alice"))
	if err != nil || id.OpenID != fakebaidu.OpenID(key1, "alice") || id.UnionID != fakebaidu.UnionID("alice") {
		t.Fatalf("login: %+v %v", id, err)
	}
	if b, _ := base64.StdEncoding.DecodeString(id.SessionKey); len(b) != 24 || f.fake.SessionKeys(key1, id.OpenID)[0] != id.SessionKey {
		t.Fatalf("session_key %q", id.SessionKey)
	}
	// The token is fetched once and reused.
	if _, err := c.Login(ctx, f.fake.MintCode(key1, "bob")); err != nil {
		t.Fatal(err)
	}
	if n := f.fake.Count(fakebaidu.EndpointToken); n != 1 {
		t.Fatalf("%d token fetches, want 1", n)
	}

	used := f.fake.MintCode(key1, "carol")
	if _, err := c.Login(ctx, used); err != nil {
		t.Fatal(err)
	}
	expired := f.fake.MintCode(key1, "dave")
	other := f.fake.MintCode(key2, "erin")
	f.fake.Advance(fakebaidu.CodeTTL)
	for _, tc := range []struct {
		code string
		kind platform.Kind
	}{
		{used, platform.KindInvalidCode},
		{expired, platform.KindInvalidCode},
		{other, platform.KindInvalidCode},
		{"bad-1", platform.KindInvalidCode},
		{"", platform.KindInvalidCode},
		{"http500-1", platform.KindBadAnswer},
		{"html-1", platform.KindBadAnswer},
		{"badid-1", platform.KindBadAnswer},
	} {
		_, err := c.Login(ctx, tc.code)
		if platform.KindOf(err) != tc.kind {
			t.Errorf("code %q: %v, want %v", tc.code, err, tc.kind)
		}
	}
	f.fake.FailNext(fakebaidu.EndpointLogin, fakebaidu.FailServer)
	if _, err := c.Login(ctx, f.fake.MintCode(key1, "alice")); platform.KindOf(err) != platform.KindRefused {
		t.Errorf("server_error: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.Login(short, "hang-1"); platform.KindOf(err) != platform.KindTimeout {
		t.Errorf("hang: %v", err)
	}
}

func TestLoginWrongSecret(t *testing.T) {
	f := newFixture(t)
	for _, c := range []platform.Client{f.client(t, key1, "wrong", nil), f.client(t, "UnknownAppKey0000000000000000000", secret1, nil)} {
		_, err := c.Login(context.Background(), f.fake.MintCode(key1, "alice"))
		var pe *platform.Error
		if !errors.As(err, &pe) || pe.Kind != platform.KindConfig || !strings.Contains(pe.Action, "AppKey") {
			t.Fatalf("got %v, want a config error about the AppKey and secret", err)
		}
		if strings.Contains(err.Error(), secret1) || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("the error shows the secret: %v", err)
		}
	}
}

// A failed getunionid leaves UnionID empty and the login good.
func TestUnionIDFailures(t *testing.T) {
	f := newFixture(t)
	var tokenErrs atomic.Int32
	ctx := context.Background()

	c2 := f.client(t, key2, secret2, nil) // the fake has no unionid for it
	id, err := c2.Login(ctx, f.fake.MintCode(key2, "alice"))
	if err != nil || id.OpenID == "" || id.UnionID != "" {
		t.Fatalf("errno 1: %+v %v", id, err)
	}

	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	c, err := New(platform.Config{AppID: key1, Secret: secret1, APIBase: f.url, Now: clock,
		OnTokenError: func(platform.TokenError) { tokenErrs.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	cl := c.(*Client)
	cl.unionTimeout = 200 * time.Millisecond
	// The token endpoint fails: login good, no unionid, OnTokenError told.
	f.fake.FailNext(fakebaidu.EndpointToken, fakebaidu.FailServer)
	id, err = c.Login(ctx, f.fake.MintCode(key1, "alice"))
	if err != nil || id.UnionID != "" || tokenErrs.Load() != 1 {
		t.Fatalf("token failure: %+v %v, %d token errors", id, err, tokenErrs.Load())
	}
	// A token the platform calls dead is dropped, and the call made again
	// with a fresh one.
	offset.Add(int64(2 * time.Second)) // past the failure's backoff
	if u, err := cl.UnionID(ctx, fakebaidu.OpenID(key1, "alice")); err != nil || u != fakebaidu.UnionID("alice") {
		t.Fatalf("unionid: %q %v", u, err)
	}
	before := f.fake.Count(fakebaidu.EndpointToken)
	f.fake.ExpireTokens()
	if u, err := cl.UnionID(ctx, fakebaidu.OpenID(key1, "alice")); err != nil || u != fakebaidu.UnionID("alice") {
		t.Fatalf("after the token died: %q %v", u, err)
	}
	if f.fake.Count(fakebaidu.EndpointToken) != before+1 {
		t.Fatal("a dead token was not replaced")
	}
	// A hanging getunionid is cut short; the login stands.
	f.fake.FailNext(fakebaidu.EndpointUnionID, fakebaidu.FailHang)
	id, err = c.Login(ctx, f.fake.MintCode(key1, "bob"))
	if err != nil || id.UnionID != "" {
		t.Fatalf("hanging getunionid: %+v %v", id, err)
	}
}
