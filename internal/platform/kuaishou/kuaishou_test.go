package kuaishou_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
	fakekuaishou "github.com/wechat-auth/wechat_auth/internal/fake/kuaishou"
	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/platform/kuaishou"
	"github.com/wechat-auth/wechat_auth/internal/platform/platformtest"
)

const (
	appID  = "ks707065143182458884"
	secret = "ks-secret-0123456789"
)

func newEnv(t *testing.T) (*fakekuaishou.Server, *httptest.Server) {
	t.Helper()
	fake := fakekuaishou.New(fakekuaishou.App{ID: appID, Secret: secret})
	return fake, platformtest.Serve(t, fake)
}

func newClient(t *testing.T, srv *httptest.Server, edit func(*platform.Config)) platform.Client {
	t.Helper()
	cfg := platform.Config{AppID: appID, Secret: secret, APIBase: srv.URL, HTTPClient: srv.Client()}
	if edit != nil {
		edit(&cfg)
	}
	return platformtest.NewClient(t, kuaishou.Name, cfg)
}

func wantKind(t *testing.T, err error, kind platform.Kind, code string) *platform.Error {
	t.Helper()
	return platformtest.WantKind(t, err, kind, code, secret)
}

func TestLogin(t *testing.T) {
	fake, srv := newEnv(t)
	c := newClient(t, srv, nil)
	id, err := c.Login(context.Background(), "ok-alice.1")
	if err != nil {
		t.Fatal(err)
	}
	if id.OpenID != fakekuaishou.OpenID(appID, "alice") || id.UnionID != "" || id.SessionKey != fake.SessionKey(appID, "alice") {
		t.Errorf("identity %+v", id)
	}
	id, err = c.Login(context.Background(), "union-alice.2")
	if err != nil || id.UnionID != fakekuaishou.UnionID("alice") {
		t.Errorf("union: %+v %v", id, err)
	}
	if n := fake.Count(fakekuaishou.EndpointAccessToken); n != 0 {
		t.Errorf("%d access_token fetches: login needs none", n)
	}
}

func TestLoginErrors(t *testing.T) {
	fake, srv := newEnv(t)
	c := newClient(t, srv, nil)
	ctx := context.Background()
	used := fake.MintCode(appID, "bob")
	if _, err := c.Login(ctx, used); err != nil {
		t.Fatal(err)
	}
	expired := fake.MintCode(appID, "bob")
	fake.Advance(fakekuaishou.CodeTTL)
	bad := "100200102"
	for _, tc := range []struct {
		name, code string
		kind       platform.Kind
		errc       string
	}{
		{"used", used, platform.KindInvalidCode, bad},
		{"expired", expired, platform.KindInvalidCode, bad},
		{"bad", "bad-1", platform.KindInvalidCode, bad},
		{"nonsense", "nonsense", platform.KindInvalidCode, bad},
		{"no key", "nokey-alice", platform.KindBadAnswer, ""},
		{"bad id", "badid-alice", platform.KindBadAnswer, ""},
		{"html", "html-1", platform.KindBadAnswer, ""},
		{"http500", "http500-1", platform.KindBadAnswer, ""},
		{"empty", "empty-1", platform.KindBadAnswer, ""},
		{"trunc", "trunc-1", platform.KindBadAnswer, ""},
		{"empty code", "", platform.KindInvalidCode, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Login(ctx, tc.code)
			pe := wantKind(t, err, tc.kind, tc.errc)
			if tc.kind == platform.KindInvalidCode && tc.errc != "" && pe.Msg == "" {
				t.Error("error_msg not kept")
			}
		})
	}

	_, err := newClient(t, srv, func(c *platform.Config) { c.Secret = "wrong" }).Login(ctx, "ok-alice")
	if pe := wantKind(t, err, platform.KindConfig, "100200101"); !strings.Contains(pe.Action, "app_secret") {
		t.Errorf("action %q", pe.Action)
	}

	timeout, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = c.Login(timeout, "hang-1")
	wantKind(t, err, platform.KindTimeout, "")

	fake.Force(fakekuaishou.EndpointCode2Session, fakekit.ModeHTTP500)
	_, err = c.Login(ctx, "ok-alice")
	wantKind(t, err, platform.KindBadAnswer, "")
}

// TestLoginResults maps result values the fake does not send, from a
// stub: 100200100 is a refusal, unknown values are the code's.
func TestLoginResults(t *testing.T) {
	for _, tc := range []struct {
		body string
		kind platform.Kind
	}{
		{`{"result":100200100,"error_msg":"bad params"}`, platform.KindRefused},
		{`{"result":100200101,"error_msg":"bad app"}`, platform.KindConfig},
		{`{"result":240001,"error":"invalid code"}`, platform.KindInvalidCode},
		{`{"open_id":"x","session_key":"AAAAAAAAAAAAAAAAAAAAAA=="}`, platform.KindBadAnswer},
		{`{"result":"1"}`, platform.KindBadAnswer},
		{`{"result":1,"open_id":"abc","session_key":"AAAA"}`, platform.KindBadAnswer},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
				r.PostFormValue("js_code") != "c" || r.PostFormValue("app_id") != appID {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(tc.body))
		}))
		_, err := newClient(t, srv, nil).Login(context.Background(), "c")
		pe := wantKind(t, err, tc.kind, "")
		if strings.Contains(tc.body, `"error"`) && pe.Msg != "invalid code" {
			t.Errorf("%s: Msg %q", tc.body, pe.Msg)
		}
		srv.Close()
	}
}

// The vector of NeverRetrun/kuaishou-mini-app tests/Encryptor/MobileDecryptTest.php.
const (
	vectorKey  = "z7CLMhoYKrPoolWP8SoNew=="
	vectorIV   = "0kga3zotUrMkCvociMF7YQ=="
	vectorData = "BhwmnJUlu+xsIiARqsoP35GBL4EBQr8cyEbTDUfcO5cvmCbmezs0XHlfq1bOtxkZqA3/RYQ5nNpS4o1StegPRw=="
)

func TestPhone(t *testing.T) {
	fake, srv := newEnv(t)
	c := newClient(t, srv, func(c *platform.Config) { c.PhoneMaxAge = time.Minute })
	ctx := context.Background()

	ph, err := c.Phone(ctx, platform.PhoneRequest{EncryptedData: vectorData, IV: vectorIV, Keys: []string{vectorKey}})
	if err != nil || ph.PurePhoneNumber != "19814733741" || ph.PhoneNumber != "19814733741" || ph.CountryCode != "86" {
		t.Fatalf("official vector: %+v %v", ph, err)
	}

	id1, err := c.Login(ctx, "ok-dave.1")
	if err != nil {
		t.Fatal(err)
	}
	data, iv, err := fake.SealPhone(appID, "dave", "13600136000", "")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.Login(ctx, "ok-dave.2")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{id2.SessionKey, id1.SessionKey}
	fake.Advance(time.Hour) // no timestamp: PhoneMaxAge cannot apply
	ph, err = c.Phone(ctx, platform.PhoneRequest{EncryptedData: data, IV: iv, Keys: keys})
	if err != nil || ph.PurePhoneNumber != "13600136000" || ph.CountryCode != "86" {
		t.Fatalf("%+v %v", ph, err)
	}
	intl, intlIV, _ := fake.SealPhone(appID, "dave", "5551234", "1")
	ph, err = c.Phone(ctx, platform.PhoneRequest{EncryptedData: intl, IV: intlIV, Keys: keys})
	if err != nil || ph.PurePhoneNumber != "5551234" || ph.CountryCode != "1" {
		t.Fatalf("%+v %v", ph, err)
	}
	plus, plusIV, _ := fake.SealPhone(appID, "dave", "+8613600136000", "")
	// Another base64 digit, so that the data stays well-formed.
	tampered := []byte(data)
	if tampered[2] == 'A' {
		tampered[2] = 'B'
	} else {
		tampered[2] = 'A'
	}
	for _, tc := range []struct {
		name string
		req  platform.PhoneRequest
		want error
	}{
		{"wrong key", platform.PhoneRequest{EncryptedData: data, IV: iv, Keys: []string{id2.SessionKey}}, platform.ErrUndecryptable},
		{"tampered", platform.PhoneRequest{EncryptedData: string(tampered), IV: iv, Keys: keys}, platform.ErrUndecryptable},
		{"not digits", platform.PhoneRequest{EncryptedData: plus, IV: plusIV, Keys: keys}, platform.ErrNoPhone},
		{"bad iv", platform.PhoneRequest{EncryptedData: data, IV: "", Keys: keys}, platform.ErrMalformed},
		{"code", platform.PhoneRequest{Code: "phone-1"}, platform.ErrNoPhoneFlow},
		{"nothing", platform.PhoneRequest{}, platform.ErrNoPhoneFlow},
	} {
		if _, err := c.Phone(ctx, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRegistration(t *testing.T) {
	p, ok := platform.Lookup(kuaishou.Name)
	if !ok || !p.NeedsSecret || len(p.Options) != 0 {
		t.Fatalf("%+v", p)
	}
	for id, ok := range map[string]bool{
		"ks707065143182458884": true,
		"ks123456":             true,
		"ks12345":              false,
		"KS707065143182458884": false,
		"ks70706514318245888a": false,
		"tt5daf2b12c2857910":   false,
	} {
		if p.AppID.MatchString(id) != ok {
			t.Errorf("%s: match %v", id, !ok)
		}
	}
	c, err := p.New(platform.Config{AppID: appID, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestRealHost(t *testing.T) {
	var rec platformtest.Recorder
	c := platformtest.NewClient(t, kuaishou.Name, platform.Config{AppID: appID, Secret: secret, HTTPClient: rec.Client()})
	_, err := c.Login(context.Background(), "x")
	wantKind(t, err, platform.KindUnreachable, "")
	if got := rec.Calls(); len(got) != 1 || got[0] != "POST https://open.kuaishou.com/oauth2/mp/code2session" {
		t.Errorf("called %v", got)
	}
}
