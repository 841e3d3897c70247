package wechatauth

// Fuzz targets for the request bodies of /wx/login and /wx/phone: whatever
// the body, the answer is a JSON error of a 4xx/5xx status the contract
// lists (or a success), never a 500 or a panic.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/appstate"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

const fuzzApp, fuzzSecret = "wxfuzzapp000000", "fuzz-secret"

// fuzzHandler is a provisioned-by-hand Handler against a fake WeChat.
func fuzzHandler(f *testing.F) *Handler {
	store, err := session.NewMemory(session.Limits{MaxSessions: 10000})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	return testHandler(f, store)
}

// testHandler is a Handler wired by hand to store and a fake WeChat.
func testHandler(f testing.TB, store session.Store) *Handler {
	wx := fakewx.New(fakewx.Config{Apps: map[string]string{fuzzApp: fuzzSecret}})
	srv := httptest.NewServer(wx)
	f.Cleanup(func() { wx.Close(); srv.Close() })
	p, _ := platform.Lookup("wechat")
	pc, err := p.New(platform.Config{AppID: fuzzApp, Secret: fuzzSecret, APIBase: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		f.Fatal(err)
	}
	a := &app{id: fuzzApp, platform: p, tag: tokenTag(fuzzApp), store: store,
		client: &appstate.Client{Client: pc, Platform: p, HTTPClient: srv.Client(), Throttled: &appstate.SampledLog{Every: time.Minute}}}
	return &Handler{
		Require: RequireOpenID, logger: zap.NewNop(), apps: []*app{a},
		sessionTTL: time.Hour, timeout: 300 * time.Millisecond,
	}
}

var allowed = map[int]bool{200: true, 400: true, 401: true, 403: true, 405: true, 413: true,
	429: true, 502: true, 503: true, 504: true}

func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if !allowed[rec.Code] {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("answer is not JSON: %q", rec.Body)
	}
	if rec.Code != 200 && (m["error"] == nil || m["message"] == nil) {
		t.Fatalf("error answer without error/message: %s", rec.Body)
	}
}

func FuzzLoginBody(f *testing.F) {
	h := fuzzHandler(f)
	for _, s := range []string{`{"code":"ok-alice"}`, `{"code":"bad-1"}`, `{"code":1}`, `{"code":"busy-x"}`,
		`{"code":"ok-a\u0000"}`, `{"code":"ok-a","code":"ok-b"}`, `[]`, `{`, `null`, ``, `{"code":"html-1"} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/wx/login", bytes.NewReader(body))
		a, e := h.login(rec, req)
		h.respond(rec, a, "login", e)
		checkAnswer(t, rec)
	})
}

func FuzzPhoneBody(f *testing.F) {
	h := fuzzHandler(f)
	token := storeSession(f, h.apps[0].store, session.Session{OpenID: "ofuzz"})
	for _, s := range []string{`{"code":"phone-13800138000"}`, `{"code":"bad-1"}`,
		`{"encryptedData":"AAAAAAAAAAAAAAAAAAAAAA==","iv":"AAAAAAAAAAAAAAAAAAAAAA=="}`,
		`{"encryptedData":"x","iv":"y"}`, `{"encryptedData":5}`, `{"iv":""}`, `{}`, `{"code":""}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/wx/phone", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		a, e := h.phone(rec, req)
		h.respond(rec, a, "phone", e)
		checkAnswer(t, rec)
	})
}
