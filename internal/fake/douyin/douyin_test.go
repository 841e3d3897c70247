package fakedouyin_test

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	fakedouyin "github.com/wechat-auth/wechat_auth/internal/fake/douyin"
	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
	"github.com/wechat-auth/wechat_auth/internal/platform/platformtest"
)

const (
	appID  = "tt5daf2b12c2857910"
	secret = "dy-secret"
)

func start(t *testing.T) (*fakedouyin.Server, *httptest.Server) {
	t.Helper()
	fake := fakedouyin.New(fakedouyin.App{ID: appID, Secret: secret, PublicKey: &fakedouyin.TestPrivateKey().PublicKey})
	return fake, platformtest.Serve(t, fake)
}

// call sends method path with body (JSON when v is not a string) and
// headers, and decodes the answer, which must be HTTP 200 JSON.
func call(t *testing.T, srv *httptest.Server, method, path string, body any, header ...string) map[string]any {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d %s", method, path, resp.StatusCode, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %s", method, path, raw)
	}
	return m
}

func errNo(m map[string]any) int {
	n, _ := m["err_no"].(float64)
	return int(n)
}

func login(code string) map[string]string {
	return map[string]string{"appid": appID, "secret": secret, "code": code, "anonymous_code": ""}
}

func TestCode2Session(t *testing.T) {
	_, srv := start(t)
	const path = "/api/apps/v2/jscode2session"
	ok := call(t, srv, "POST", path, login("ok-alice"))
	data := ok["data"].(map[string]any)
	if errNo(ok) != 0 || data["openid"] != fakedouyin.OpenID(appID, "alice") || data["unionid"] != "" || data["anonymous_openid"] != "" {
		t.Errorf("%v", ok)
	}
	if _, err := base64.StdEncoding.DecodeString(data["session_key"].(string)); err != nil {
		t.Error(err)
	}
	q := url.Values{"appid": {appID}, "secret": {secret}, "code": {"ok-bob"}}.Encode()
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"reused", "POST", path, login("ok-alice"), 40018},
		{"GET as kode/miniapp sends", "GET", path + "?" + q, nil, 40014},
		{"form body", "POST", path, q, 40014},
		{"bad appid", "POST", path, map[string]string{"appid": "tt0000000000000000", "secret": secret, "code": "ok-x"}, 40015},
		{"bad secret", "POST", path, map[string]string{"appid": appID, "secret": "no", "code": "ok-x"}, 40017},
		{"no code", "POST", path, map[string]string{"appid": appID, "secret": secret}, 40014},
		{"bad anonymous", "POST", path, map[string]string{"appid": appID, "secret": secret, "anonymous_code": "zz"}, 40019},
		{"busy", "POST", path, login("busy-1"), -1},
	} {
		m := call(t, srv, tc.method, tc.path, tc.body)
		if errNo(m) != tc.want {
			t.Errorf("%s: %v, want err_no %d", tc.name, m, tc.want)
		}
		d, _ := m["data"].(map[string]any)
		if d == nil || d["openid"] != "" || d["session_key"] != "" {
			t.Errorf("%s: data %v, want empty strings", tc.name, m["data"])
		}
	}
	anon := call(t, srv, "POST", path, map[string]string{"appid": appID, "secret": secret, "anonymous_code": "anon-carol"})
	if d := anon["data"].(map[string]any); errNo(anon) != 0 || d["anonymous_openid"] == "" || d["openid"] != "" {
		t.Errorf("anonymous: %v", anon)
	}
}

func TestLoginRotatesSessionKey(t *testing.T) {
	fake, srv := start(t)
	const path = "/api/apps/v2/jscode2session"
	k1 := call(t, srv, "POST", path, login("ok-dan.1"))["data"].(map[string]any)["session_key"]
	k2 := call(t, srv, "POST", path, login("ok-dan.2"))["data"].(map[string]any)["session_key"]
	k3 := call(t, srv, "POST", path, login("same-dan.3"))["data"].(map[string]any)["session_key"]
	if k1 == k2 || k2 != k3 || k3 != fake.SessionKey(appID, "dan") {
		t.Errorf("keys %v %v %v", k1, k2, k3)
	}
}

func clientToken(t *testing.T, srv *httptest.Server) (string, map[string]any) {
	t.Helper()
	m := call(t, srv, "POST", "/oauth/client_token/", map[string]string{
		"client_key": appID, "client_secret": secret, "grant_type": "client_credential"})
	d := m["data"].(map[string]any)
	tok, _ := d["access_token"].(string)
	return tok, d
}

func TestClientTokenOverlap(t *testing.T) {
	fake, srv := start(t)
	t1, d := clientToken(t, srv)
	if !strings.HasPrefix(t1, "clt.") || d["expires_in"] != float64(7200) || d["error_code"] != float64(0) {
		t.Fatalf("%v", d)
	}
	t2, _ := clientToken(t, srv)
	if !fake.TokenValid(t1) || !fake.TokenValid(t2) {
		t.Fatal("the previous token must live on for its grace")
	}
	t3, _ := clientToken(t, srv)
	if fake.TokenValid(t1) || !fake.TokenValid(t2) || !fake.TokenValid(t3) {
		t.Fatal("only the newest two live")
	}
	fake.Advance(fakedouyin.TokenGrace)
	if fake.TokenValid(t2) || !fake.TokenValid(t3) {
		t.Fatal("the grace is 5 minutes")
	}
	m := call(t, srv, "POST", "/api/apps/v1/get_phonenumber_info/", map[string]string{"code": "phone-1"}, "access-token", t2)
	if errNo(m) != 28001008 {
		t.Errorf("expired token: %v", m)
	}
	for _, tok := range []string{"", "clt.nope"} {
		if m := call(t, srv, "POST", "/api/apps/v1/get_phonenumber_info/", map[string]string{"code": "phone-1"}, "access-token", tok); errNo(m) != 28001003 {
			t.Errorf("token %q: %v", tok, m)
		}
	}
	bad := call(t, srv, "POST", "/oauth/client_token/", map[string]string{"client_key": appID, "client_secret": "x", "grant_type": "client_credential"})
	if d := bad["data"].(map[string]any); d["error_code"] != float64(10013) {
		t.Errorf("bad secret: %v", bad)
	}
}

func TestClientTokenLimit(t *testing.T) {
	fake, srv := start(t)
	for i := 0; i < fakedouyin.ClientTokenLimit; i++ {
		if tok, d := clientToken(t, srv); tok == "" {
			t.Fatalf("call %d: %v", i+1, d)
		}
	}
	if _, d := clientToken(t, srv); d["error_code"] != float64(10020) {
		t.Fatalf("call 501: %v", d)
	}
	fake.Advance(fakedouyin.ClientTokenWindow)
	if tok, d := clientToken(t, srv); tok == "" {
		t.Fatalf("after the window: %v", d)
	}
}

func TestMiniToken(t *testing.T) {
	fake, srv := start(t)
	get := func() string {
		m := call(t, srv, "POST", "/api/apps/v2/token", map[string]string{"appid": appID, "secret": secret, "grant_type": "client_credential"})
		return m["data"].(map[string]any)["access_token"].(string)
	}
	t1 := get()
	t2 := get()
	if t1 == t2 || !fake.TokenValid(t1) {
		t.Fatal("a new token per call, the old one alive 5 more minutes")
	}
	fake.Advance(fakedouyin.TokenGrace)
	if fake.TokenValid(t1) || !fake.TokenValid(t2) {
		t.Fatal("the old token dies 5 minutes later")
	}
	m := call(t, srv, "POST", "/api/apps/v2/token", map[string]string{"appid": appID, "secret": secret, "grant_type": "x"})
	if errNo(m) != 40020 || m["data"].(map[string]any)["access_token"] != "" {
		t.Errorf("%v", m)
	}
	// A mini-app token is no client_token.
	if m := call(t, srv, "POST", "/api/apps/v1/get_phonenumber_info/", map[string]string{"code": "phone-1"}, "access-token", t2); errNo(m) != 28001003 {
		t.Errorf("mini-app token on the phone API: %v", m)
	}
}

func TestPhoneNumber(t *testing.T) {
	fake, srv := start(t)
	tok, _ := clientToken(t, srv)
	const path = "/api/apps/v1/get_phonenumber_info/"
	code := fake.MintPhoneCode(appID, "13800138000")
	m := call(t, srv, "POST", path, map[string]string{"code": code}, "access-token", tok)
	if errNo(m) != 0 {
		t.Fatalf("%v", m)
	}
	sealed, err := base64.StdEncoding.DecodeString(m["data"].(string))
	if err != nil || len(sealed) != 256 {
		t.Fatalf("data: %d bytes, %v", len(sealed), err)
	}
	plain, err := rsa.DecryptPKCS1v15(nil, fakedouyin.TestPrivateKey(), sealed)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		PurePhoneNumber, CountryCode string
		Watermark                    struct{ AppID string }
	}
	if json.Unmarshal(plain, &p) != nil || p.PurePhoneNumber != "13800138000" || p.CountryCode != "86" || p.Watermark.AppID != appID {
		t.Errorf("plaintext %s", plain)
	}
	if m := call(t, srv, "POST", path, map[string]string{"code": code}, "access-token", tok); errNo(m) != 28005187 {
		t.Errorf("reused: %v", m)
	}
	code = fake.MintPhoneCode(appID, "13800138000")
	fake.Advance(fakedouyin.PhoneCodeTTL)
	if m := call(t, srv, "POST", path, map[string]string{"code": code}, "access-token", tok); errNo(m) != 28005187 {
		t.Errorf("expired: %v", m)
	}
	if m := call(t, srv, "POST", path, `code=phone-1`, "access-token", tok); errNo(m) != 28001007 {
		t.Errorf("form body: %v", m)
	}
	m = call(t, srv, "POST", path, map[string]string{"code": "long-13800138000"}, "access-token", tok)
	if sealed, _ := base64.StdEncoding.DecodeString(m["data"].(string)); len(sealed) != 512 {
		t.Errorf("long: %d bytes, want two blocks", len(sealed))
	}
	fake.Force(fakedouyin.EndpointPhone, fakekit.ModeLimit)
	if m := call(t, srv, "POST", path, map[string]string{"code": "phone-1"}, "access-token", tok); errNo(m) != 28003018 || m["err_msg"] == "" || m["err_tips"] == "" {
		t.Errorf("forced limit: %v", m)
	}
}

func TestNoPublicKey(t *testing.T) {
	srv := platformtest.Serve(t, fakedouyin.New(fakedouyin.App{ID: appID, Secret: secret}))
	tok, _ := clientToken(t, srv)
	if m := call(t, srv, "POST", "/api/apps/v1/get_phonenumber_info/", map[string]string{"code": "phone-1"}, "access-token", tok); errNo(m) != 28001018 {
		t.Errorf("%v", m)
	}
}

func TestControls(t *testing.T) {
	fake, srv := start(t)
	post := func(path, body string) (int, map[string]any) {
		resp, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if st, m := post("/fake/douyin/encrypt", `{"user":"erin","phone":"13800138000"}`); st != http.StatusNotFound {
		t.Errorf("encrypt before a login: %d %v", st, m)
	}
	st, m := post("/fake/douyin/code", `{"user":"erin"}`)
	if st != http.StatusOK {
		t.Fatalf("%d %v", st, m)
	}
	if l := call(t, srv, "POST", "/api/apps/v2/jscode2session", login(m["code"].(string))); errNo(l) != 0 {
		t.Fatalf("%v", l)
	}
	if st, m := post("/fake/douyin/encrypt", `{"user":"erin","phone":"13800138000"}`); st != http.StatusOK || m["iv"] == "" {
		t.Errorf("encrypt: %d %v", st, m)
	}
	if st, _ := post("/fake/douyin/code", `{"app_id":"tt1111111111111111","user":"erin"}`); st != http.StatusNotFound {
		t.Errorf("unknown app: %d", st)
	}
	if st, _ := post("/fake/douyin/force?endpoint=jscode2session&mode=busy", ""); st != http.StatusNoContent {
		t.Errorf("force: %d", st)
	}
	if l := call(t, srv, "POST", "/api/apps/v2/jscode2session", login("ok-erin.9")); errNo(l) != -1 {
		t.Errorf("forced busy: %v", l)
	}
	if st, _ := post("/fake/douyin/force?endpoint=nope&mode=busy", ""); st != http.StatusBadRequest {
		t.Errorf("force, bad endpoint: %d", st)
	}
	code := fake.MintCode(appID, "erin")
	if st, _ := post("/fake/douyin/advance?by=3m", ""); st != http.StatusNoContent {
		t.Errorf("advance: %d", st)
	}
	if l := call(t, srv, "POST", "/api/apps/v2/jscode2session", login(code)); errNo(l) != 40018 {
		t.Errorf("expired after advance: %v", l)
	}
	resp, err := srv.Client().Get(srv.URL + "/fake/douyin/stats")
	if err != nil {
		t.Fatal(err)
	}
	var stats map[string]int
	_ = json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if stats[fakedouyin.EndpointCode2Session] != 3 {
		t.Errorf("stats %v", stats)
	}
}
