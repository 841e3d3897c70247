package fakewx

import (
	"bytes"
	"context"
	"crypto/aes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

const (
	testApp    = "wxtest0000000001"
	testSecret = "s3cret"
	otherApp   = "wxtest0000000002"
)

// WeChat's published test vector (copied from official-vector.txt).
const (
	vecKey   = "tiihtNczf5v6AKRyjwEUhQ=="
	vecIV    = "r7BXXKkLb8qrSNn05n0qiA=="
	vecAppID = "wx4f4bc4dec97d474b"
	vecData  = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
)

// fixture is a fake behind an httptest server.
type fixture struct {
	t   *testing.T
	wx  *Server
	url string
}

func newFixture(t *testing.T, ttl time.Duration) *fixture {
	t.Helper()
	wx := New(Config{Apps: map[string]string{testApp: testSecret, otherApp: "other"}, TokenTTL: ttl})
	ts := httptest.NewServer(wx)
	t.Cleanup(ts.Close)
	t.Cleanup(wx.Close) // runs first: releases hanging requests
	return &fixture{t: t, wx: wx, url: ts.URL}
}

// answer is a decoded response.
type answer struct {
	status int
	ctype  string
	body   string
	m      map[string]any
}

func (a answer) errcode() int {
	if v, ok := a.m["errcode"].(float64); ok {
		return int(v)
	}
	return 0
}

func (a answer) str(k string) string { s, _ := a.m[k].(string); return s }

func (f *fixture) do(method, path string, body any) answer {
	f.t.Helper()
	var rd io.Reader
	if b, ok := body.(string); ok {
		rd = strings.NewReader(b)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.url+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: string(raw)}
	_ = json.Unmarshal(raw, &a.m)
	return a
}

func (f *fixture) login(appid, secret, code string) answer {
	f.t.Helper()
	q := url.Values{"appid": {appid}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	return f.do("GET", "/sns/jscode2session?"+q.Encode(), nil)
}

func (f *fixture) stableToken(force bool) answer {
	f.t.Helper()
	return f.do("POST", "/cgi-bin/stable_token", map[string]any{
		"grant_type": "client_credential", "appid": testApp, "secret": testSecret, "force_refresh": force})
}

func (f *fixture) phone(token, code string) answer {
	f.t.Helper()
	return f.do("POST", "/wxa/business/getuserphonenumber?access_token="+url.QueryEscape(token),
		map[string]string{"code": code})
}

func wantErrcode(t *testing.T, a answer, code int) {
	t.Helper()
	if a.status != 200 || a.errcode() != code {
		t.Fatalf("got HTTP %d %s, want HTTP 200 errcode %d", a.status, a.body, code)
	}
	if !strings.Contains(a.str("errmsg"), ", rid: ") {
		t.Errorf("errmsg %q lacks a rid", a.str("errmsg"))
	}
}

func TestIDs(t *testing.T) {
	a, b := OpenID(testApp, "alice"), OpenID(otherApp, "alice")
	if len(a) != 28 || a[0] != 'o' || a != OpenID(testApp, "alice") || a == b || a == OpenID(testApp, "bob") {
		t.Errorf("OpenID: %q, %q", a, b)
	}
	u := UnionID("alice")
	if len(u) != 28 || u[0] != 'u' || u != UnionID("alice") || u == UnionID("bob") {
		t.Errorf("UnionID: %q", u)
	}
}

func TestLoginSingleUse(t *testing.T) {
	f := newFixture(t, 0)
	a := f.login(testApp, testSecret, "ok-alice.1")
	if a.status != 200 || a.ctype != "text/plain" {
		t.Fatalf("HTTP %d Content-Type %q", a.status, a.ctype)
	}
	key, err := base64.StdEncoding.DecodeString(a.str("session_key"))
	if err != nil || len(key) != 16 {
		t.Fatalf("session_key %q", a.str("session_key"))
	}
	if a.str("openid") != OpenID(testApp, "alice") || a.m["unionid"] != nil || a.m["errcode"] != nil {
		t.Fatalf("answer %s", a.body)
	}
	// The same code again: 40163, still text/plain.
	again := f.login(testApp, testSecret, "ok-alice.1")
	wantErrcode(t, again, 40163)
	if again.ctype != "text/plain" {
		t.Errorf("Content-Type %q", again.ctype)
	}
	// Failed codes are consumed too.
	wantErrcode(t, f.login(testApp, testSecret, "busy-1"), -1)
	wantErrcode(t, f.login(testApp, testSecret, "busy-1"), 40163)
	// Codes are per app.
	if a := f.login(otherApp, "other", "ok-alice.1"); a.str("openid") != OpenID(otherApp, "alice") {
		t.Errorf("other app: %s", a.body)
	}
	if n := f.wx.Count(EndpointJSCode2Session); n != 5 {
		t.Errorf("Count = %d, want 5", n)
	}
	f.wx.ResetCounts()
	if n := f.wx.Count(EndpointJSCode2Session); n != 0 {
		t.Errorf("Count after reset = %d", n)
	}
}

func TestLoginRefusedRequestsKeepTheCode(t *testing.T) {
	f := newFixture(t, 0)
	wantErrcode(t, f.login("wxnope", testSecret, "ok-bob.1"), 40013)
	wantErrcode(t, f.login(testApp, "wrong", "ok-bob.1"), 40125)
	wantErrcode(t, f.login(testApp, testSecret, ""), 41008)
	wantErrcode(t, f.do("GET", "/sns/jscode2session?appid="+testApp+"&secret="+testSecret+"&js_code=ok-bob.1&grant_type=x", nil), 40002)
	if a := f.login(testApp, testSecret, "ok-bob.1"); a.str("session_key") == "" {
		t.Fatalf("code was consumed by a refused request: %s", a.body)
	}
}

func TestLoginOutcomes(t *testing.T) {
	f := newFixture(t, 0)
	for code, want := range map[string]int{
		"bad-x": 40029, "risky-x": 40226, "limit-x": 45011, "busy-x": -1,
		"what-x": 40029, "ok-bad!name": 40029, "slow-zz-bob": 40029, "plain": 40029,
	} {
		a := f.login(testApp, testSecret, code)
		if a.errcode() != want || a.ctype != "text/plain" {
			t.Errorf("%s: %s (%s), want %d", code, a.body, a.ctype, want)
		}
	}
	if a := f.login(testApp, testSecret, "union-carol.7"); a.str("unionid") != UnionID("carol") || a.str("session_key") == "" {
		t.Errorf("union: %s", a.body)
	}
	if a := f.login(testApp, testSecret, "nokey-dave"); a.str("openid") != OpenID(testApp, "dave") || a.m["session_key"] != nil {
		t.Errorf("nokey: %s", a.body)
	}
	for code, want := range map[string]answer{
		"http500-1": {status: 500, ctype: "text/html", body: page500},
		"html-1":    {status: 200, ctype: "text/html", body: pageGW},
		"empty-1":   {status: 200, ctype: "text/plain", body: ""},
		"trunc-1":   {status: 200, ctype: "text/plain", body: `{"openid": "o`},
	} {
		a := f.login(testApp, testSecret, code)
		if a.status != want.status || a.ctype != want.ctype || a.body != want.body {
			t.Errorf("%s: HTTP %d %q %q", code, a.status, a.ctype, a.body)
		}
	}
}

func TestSessionKeyRotation(t *testing.T) {
	f := newFixture(t, 0)
	openid := OpenID(testApp, "erin")
	if cur, prev := f.wx.SessionKeys(testApp, openid); cur != "" || prev != "" {
		t.Fatal("keys before any login")
	}
	k1 := f.login(testApp, testSecret, "ok-erin.1").str("session_key")
	if cur, prev := f.wx.SessionKeys(testApp, openid); cur != k1 || prev != "" {
		t.Fatalf("after 1 login: %q %q", cur, prev)
	}
	k2 := f.login(testApp, testSecret, "ok-erin.2").str("session_key")
	k3 := f.login(testApp, testSecret, "union-erin.3").str("session_key")
	if k1 == k2 || k2 == k3 {
		t.Fatal("session_key not renewed")
	}
	if cur, prev := f.wx.SessionKeys(testApp, openid); cur != k3 || prev != k2 {
		t.Fatalf("after 3 logins: %q %q, want %q %q", cur, prev, k3, k2)
	}
	// A failed or broken login leaves the keys alone; so does another app.
	f.login(testApp, testSecret, "nokey-erin.4")
	f.login(otherApp, "other", "ok-erin.5")
	if cur, _ := f.wx.SessionKeys(testApp, openid); cur != k3 {
		t.Fatal("keys changed by nokey or by another app")
	}
}

func TestSlowAndHang(t *testing.T) {
	f := newFixture(t, 0)
	start := time.Now()
	if a := f.login(testApp, testSecret, "slow-80-frank.1"); a.str("openid") != OpenID(testApp, "frank") {
		t.Fatalf("slow: %s", a.body)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("slow answered after %v", d)
	}

	// A client that gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.url+"/sns/jscode2session?appid="+testApp+
		"&secret="+testSecret+"&js_code=hang-1&grant_type=authorization_code", nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: err %v", err)
	}

	// Close releases a hanging request.
	done := make(chan answer)
	go func() {
		q := "/sns/jscode2session?appid=" + testApp + "&secret=" + testSecret + "&js_code=hang-2&grant_type=authorization_code"
		resp, err := http.Get(f.url + q)
		if err != nil {
			done <- answer{}
			return
		}
		resp.Body.Close()
		done <- answer{status: resp.StatusCode}
	}()
	time.Sleep(50 * time.Millisecond)
	f.wx.Close()
	select {
	case a := <-done:
		if a.status != 503 {
			t.Errorf("released hang: HTTP %d", a.status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hanging request")
	}
	// After Close, slow codes answer at once.
	if a := f.login(testApp, testSecret, "slow-60000-gina"); a.status != 503 {
		t.Errorf("slow after Close: HTTP %d", a.status)
	}
}

func TestStableToken(t *testing.T) {
	f := newFixture(t, 0)
	a := f.stableToken(false)
	tok := a.str("access_token")
	if len(tok) < 40 || a.m["expires_in"].(float64) != 7200 || !strings.HasPrefix(a.ctype, "application/json") {
		t.Fatalf("first token: %s (%s)", a.body, a.ctype)
	}
	if f.wx.AccessToken(testApp) != tok || f.wx.AccessToken(otherApp) != "" {
		t.Fatal("AccessToken")
	}
	if b := f.stableToken(false); b.str("access_token") != tok || b.m["expires_in"].(float64) > 7200 {
		t.Fatalf("second call: %s", b.body)
	}

	// force_refresh: a new token, the old one dead (40001).
	fresh := f.stableToken(true).str("access_token")
	if fresh == tok || fresh == "" {
		t.Fatal("force_refresh kept the token")
	}
	wantErrcode(t, f.phone(tok, "phone-13800138000.1"), 40001)
	if a := f.phone(fresh, "phone-13800138000.1"); a.errcode() != 0 {
		t.Fatalf("fresh token: %s (the code must survive a token error)", a.body)
	}
	if f.wx.Count(EndpointStableToken) != 3 || f.wx.Count(EndpointStableTokenForce) != 1 {
		t.Errorf("counts %v", f.wx.countsSnapshot())
	}

	// ExpireToken: 42001, then a new token.
	f.wx.ExpireToken(testApp)
	wantErrcode(t, f.phone(fresh, "phone-13800138000.2"), 42001)
	next := f.stableToken(false).str("access_token")
	if next == fresh || next != f.wx.AccessToken(testApp) {
		t.Fatal("no new token after ExpireToken")
	}
	wantErrcode(t, f.phone(fresh, "phone-13800138000.2"), 42001)
	wantErrcode(t, f.phone("", "phone-13800138000.2"), 41001)
	wantErrcode(t, f.phone("nonsense", "phone-13800138000.2"), 40001)

	// Refused requests.
	wantErrcode(t, f.do("POST", "/cgi-bin/stable_token", "{not json"), 47001)
	wantErrcode(t, f.do("POST", "/cgi-bin/stable_token", map[string]any{
		"grant_type": "client_credential", "appid": "wxnope", "secret": testSecret}), 40013)
	wantErrcode(t, f.do("POST", "/cgi-bin/stable_token", map[string]any{
		"grant_type": "client_credential", "appid": testApp, "secret": "wrong"}), 40125)
}

func TestStableTokenTTL(t *testing.T) {
	f := newFixture(t, 150*time.Millisecond)
	a := f.stableToken(false)
	tok := a.str("access_token")
	if a.m["expires_in"].(float64) != 1 {
		t.Errorf("expires_in %v, want 1 (rounded up)", a.m["expires_in"])
	}
	time.Sleep(200 * time.Millisecond)
	wantErrcode(t, f.phone(tok, "phone-13800138000"), 42001)
	if next := f.stableToken(false).str("access_token"); next == tok || next == "" {
		t.Fatal("expired token handed out again")
	}
}

func TestLegacyToken(t *testing.T) {
	f := newFixture(t, 0)
	stable := f.stableToken(false).str("access_token")
	get := func() string {
		return f.do("GET", "/cgi-bin/token?grant_type=client_credential&appid="+testApp+"&secret="+testSecret, nil).str("access_token")
	}
	t1, t2 := get(), get()
	if t1 == "" || t1 == t2 {
		t.Fatal("/cgi-bin/token must issue a new token each call")
	}
	// the previous token lives 5 more minutes, then dies
	if a := f.phone(t1, "phone-1.0"); a.errcode() != 0 {
		t.Fatalf("previous legacy token within its 5 minutes: %s", a.body)
	}
	f.wx.Advance(5 * time.Minute)
	wantErrcode(t, f.phone(t1, "phone-1.1"), 42001)
	if a := f.phone(t2, "phone-1.1"); a.errcode() != 0 {
		t.Fatalf("latest legacy token: %s", a.body)
	}
	if a := f.phone(stable, "phone-1.2"); a.errcode() != 0 {
		t.Fatalf("stable token killed by /cgi-bin/token: %s", a.body)
	}
	if f.wx.Count(EndpointToken) != 2 {
		t.Errorf("token count %d", f.wx.Count(EndpointToken))
	}
}

func TestPhoneNumber(t *testing.T) {
	f := newFixture(t, 0)
	tok := f.stableToken(false).str("access_token")
	info := func(a answer) map[string]any {
		t.Helper()
		if a.errcode() != 0 || a.str("errmsg") != "ok" {
			t.Fatalf("answer %s", a.body)
		}
		return a.m["phone_info"].(map[string]any)
	}

	p := info(f.phone(tok, "phone-13800138000"))
	if p["phoneNumber"] != "13800138000" || p["purePhoneNumber"] != "13800138000" || p["countryCode"] != "86" {
		t.Errorf("mainland: %v", p)
	}
	wm := p["watermark"].(map[string]any)
	if wm["appid"] != testApp || time.Since(time.Unix(int64(wm["timestamp"].(float64)), 0)) > time.Minute {
		t.Errorf("watermark %v", wm)
	}
	p = info(f.phone(tok, "phone-2025550123-1.x"))
	if p["phoneNumber"] != "+1 2025550123" || p["purePhoneNumber"] != "2025550123" || p["countryCode"] != "1" {
		t.Errorf("US: %v", p)
	}
	p = info(f.phone(tok, "phonenum-13800138000.2"))
	if p["countryCode"] != float64(86) {
		t.Errorf("numeric countryCode: %#v", p["countryCode"])
	}
	p = info(f.phone(tok, "slow-20-13900000000-44"))
	if p["phoneNumber"] != "+44 13900000000" {
		t.Errorf("slow: %v", p)
	}

	wantErrcode(t, f.phone(tok, "phone-13800138000"), 40029) // reused
	wantErrcode(t, f.phone(tok, "bad-1"), 40029)
	wantErrcode(t, f.phone(tok, "busy-1"), -1)
	wantErrcode(t, f.phone(tok, "limit-1"), 45011)
	wantErrcode(t, f.phone(tok, "phone-12ab"), 40029)
	wantErrcode(t, f.phone(tok, ""), 40029)
	wantErrcode(t, f.phone(tok, "nothing"), 40029)
	wantErrcode(t, f.do("POST", "/wxa/business/getuserphonenumber?access_token="+tok, "nope"), 47001)
	if a := f.phone(tok, "http500-1"); a.status != 500 {
		t.Errorf("http500: %d", a.status)
	}
	if a := f.phone(tok, "html-1"); a.status != 200 || a.ctype != "text/html" {
		t.Errorf("html: %d %s", a.status, a.ctype)
	}
	if n := f.wx.Count(EndpointPhoneNumber); n != 14 {
		t.Errorf("count %d", n)
	}
}

// cbcDecrypt is a small CBC decryption independent of crypto/cipher's modes,
// with the PKCS#7 check.
func cbcDecrypt(t *testing.T, keyB64, ivB64, dataB64 string) []byte {
	t.Helper()
	dec := func(s string) []byte {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	key, prev, data := dec(keyB64), dec(ivB64), dec(dataB64)
	block, err := aes.NewCipher(key)
	if err != nil || len(data)%16 != 0 || len(data) == 0 {
		t.Fatalf("bad input: %v, %d bytes", err, len(data))
	}
	out := make([]byte, len(data))
	for i := 0; i < len(data); i += 16 {
		block.Decrypt(out[i:i+16], data[i:i+16])
		for j := range 16 {
			out[i+j] ^= prev[j]
		}
		prev = data[i : i+16]
	}
	pad := int(out[len(out)-1])
	if pad < 1 || pad > 16 || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		t.Fatalf("bad padding %d", pad)
	}
	return out[:len(out)-pad]
}

func TestOfficialVector(t *testing.T) {
	plain := cbcDecrypt(t, vecKey, vecIV, vecData)
	var v struct {
		OpenID    string `json:"openId"`
		Watermark struct {
			AppID     string `json:"appid"`
			Timestamp int64  `json:"timestamp"`
		} `json:"watermark"`
	}
	if err := json.Unmarshal(plain, &v); err != nil {
		t.Fatalf("%v: %q", err, plain)
	}
	if v.OpenID != "oGZUI0egBJY1zhBYw2KhdUfwVJJE" || v.Watermark.AppID != vecAppID || v.Watermark.Timestamp != 1477314187 {
		t.Fatalf("decrypted %s", plain)
	}
	iv, _ := base64.StdEncoding.DecodeString(vecIV)
	data, ivOut, err := encryptWithIV(vecKey, iv, plain)
	if err != nil || data != vecData || ivOut != vecIV {
		t.Fatalf("encryptWithIV does not reproduce the vector: %v\n%s", err, data)
	}
}

func TestEncrypt(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 100} {
		plain := bytes.Repeat([]byte("x"), n)
		data, iv, err := Encrypt(vecKey, plain)
		if err != nil {
			t.Fatal(err)
		}
		if got := cbcDecrypt(t, vecKey, iv, data); !bytes.Equal(got, plain) {
			t.Errorf("%d bytes: round trip gave %q", n, got)
		}
	}
	if _, _, err := Encrypt("c2hvcnQ=", nil); err == nil {
		t.Error("a short key must fail")
	}
	if _, _, err := Encrypt("%%%", nil); err == nil {
		t.Error("a non-base64 key must fail")
	}
}

func TestEncryptPhone(t *testing.T) {
	f := newFixture(t, 0)
	openid := OpenID(testApp, "hana")
	if _, _, err := f.wx.EncryptPhone(testApp, openid, "13800138000", "86", testApp); !errors.Is(err, ErrNoSessionKey) {
		t.Fatalf("no login: err %v", err)
	}
	f.login(testApp, testSecret, "ok-hana.1")
	f.login(testApp, testSecret, "ok-hana.2")
	data, iv, err := f.wx.EncryptPhone(testApp, openid, "13800138000", "86", "wxsomeoneelse")
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := f.wx.SessionKeys(testApp, openid)
	var p map[string]any
	if err := json.Unmarshal(cbcDecrypt(t, cur, iv, data), &p); err != nil {
		t.Fatal(err)
	}
	wm := p["watermark"].(map[string]any)
	if p["phoneNumber"] != "13800138000" || p["purePhoneNumber"] != "13800138000" || p["countryCode"] != "86" || wm["appid"] != "wxsomeoneelse" {
		t.Errorf("payload %v", p)
	}
	// outside China phoneNumber carries the country code
	data, iv, _ = f.wx.EncryptPhone(testApp, openid, "2025550123", "1", testApp)
	p = nil
	if err := json.Unmarshal(cbcDecrypt(t, cur, iv, data), &p); err != nil || p["phoneNumber"] != "+1 2025550123" {
		t.Errorf("payload %v (%v)", p, err)
	}
	// the watermark follows the fake's clock
	f.wx.Advance(-time.Hour)
	data, iv, _ = f.wx.EncryptPhone(testApp, openid, "13800138000", "86", testApp)
	f.wx.Advance(time.Hour)
	p = nil
	_ = json.Unmarshal(cbcDecrypt(t, cur, iv, data), &p)
	ts := int64(p["watermark"].(map[string]any)["timestamp"].(float64))
	if age := time.Since(time.Unix(ts, 0)); age < 59*time.Minute || age > 61*time.Minute {
		t.Errorf("watermark an hour back is %v old", age)
	}
}

func TestFakeEndpoints(t *testing.T) {
	f := newFixture(t, 0)
	enc := map[string]string{"appid": testApp, "user": "ivan", "pure_phone_number": "13800138000"}
	if a := f.do("POST", "/fake/encrypt", enc); a.status != 404 || a.str("error") == "" {
		t.Fatalf("encrypt before login: %d %s", a.status, a.body)
	}
	f.login(testApp, testSecret, "ok-ivan.1")
	a := f.do("POST", "/fake/encrypt", enc)
	if a.status != 200 || a.str("encryptedData") == "" {
		t.Fatalf("encrypt: %d %s", a.status, a.body)
	}
	cur, _ := f.wx.SessionKeys(testApp, OpenID(testApp, "ivan"))
	var p phoneInfo
	if err := json.Unmarshal(cbcDecrypt(t, cur, a.str("iv"), a.str("encryptedData")), &p); err != nil ||
		p.CountryCode != "86" || p.Watermark.AppID != testApp {
		t.Fatalf("payload %+v %v", p, err)
	}
	if a := f.do("POST", "/fake/encrypt", "nope"); a.status != 400 {
		t.Errorf("bad body: %d", a.status)
	}

	tok := f.stableToken(false).str("access_token")
	if a := f.do("POST", "/fake/expire_token?appid="+testApp, nil); a.status != 204 {
		t.Fatalf("expire_token: %d", a.status)
	}
	wantErrcode(t, f.phone(tok, "phone-1"), 42001)
	if a := f.do("POST", "/fake/expire_token?appid=wxnope", nil); a.status != 404 {
		t.Errorf("expire unknown app: %d", a.status)
	}

	st := f.do("GET", "/fake/stats", nil)
	want := map[string]float64{"jscode2session": 1, "stable_token": 1, "stable_token_force": 0, "token": 0, "getuserphonenumber": 1}
	for k, v := range want {
		if st.m[k] != v {
			t.Errorf("stats %s = %v, want %v (%s)", k, st.m[k], v, st.body)
		}
	}
	if a := f.do("POST", "/fake/reset_counts", nil); a.status != 204 || f.wx.Count(EndpointJSCode2Session) != 0 {
		t.Errorf("reset_counts: %d", a.status)
	}
	if a := f.do("GET", "/fake/stats", "x"); a.status != 200 {
		t.Errorf("stats: %d", a.status)
	}
	if a := f.do("POST", "/fake/stats", nil); a.status != 405 {
		t.Errorf("POST stats: %d", a.status)
	}
	if a := f.do("GET", "/nowhere", nil); a.status != 404 || !strings.HasPrefix(a.ctype, "text/plain") {
		t.Errorf("unknown path: %d %s", a.status, a.ctype)
	}
}

func TestConcurrentCodeUse(t *testing.T) {
	f := newFixture(t, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, used := 0, 0
	for range 20 {
		wg.Go(func() {
			a := f.login(testApp, testSecret, "ok-judy.1")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case a.str("session_key") != "":
				wins++
			case a.errcode() == 40163:
				used++
			}
		})
	}
	wg.Wait()
	if wins != 1 || used != 19 {
		t.Fatalf("%d successes and %d 40163, want 1 and 19", wins, used)
	}
}

func TestFIFOMapBound(t *testing.T) {
	m := fakekit.NewFIFOMap[int](3)
	for i, k := range []string{"a", "b", "c", "a", "d", "e"} {
		m.Put(k, i)
	}
	if m.Len() != 3 {
		t.Fatalf("len %d", m.Len())
	}
	if _, ok := m.Get("a"); ok {
		t.Error("oldest key kept")
	}
	if v, ok := m.Get("e"); !ok || v != 5 {
		t.Error("newest key lost")
	}
}

func (f *fixture) stableTokenOf(appid, secret string, force bool) answer {
	f.t.Helper()
	return f.do("POST", "/cgi-bin/stable_token", map[string]any{
		"grant_type": "client_credential", "appid": appid, "secret": secret, "force_refresh": force})
}

func expiresIn(t *testing.T, a answer) time.Duration {
	t.Helper()
	v, ok := a.m["expires_in"].(float64)
	if !ok {
		t.Fatalf("no expires_in: %s", a.body)
	}
	return time.Duration(v) * time.Second
}

// In its last 5 minutes stable_token hands out a new token; the old one
// stays valid until it expires; expires_in is never 300 or less.
func TestStableTokenOverlap(t *testing.T) {
	f := newFixture(t, 0)
	t1 := f.stableToken(false).str("access_token")
	f.wx.Advance(7200*time.Second - 301*time.Second)
	a := f.stableToken(false)
	if a.str("access_token") != t1 || expiresIn(t, a) != 301*time.Second {
		t.Fatalf("with 301s left: %s", a.body)
	}
	f.wx.Advance(2 * time.Second)
	a = f.stableToken(false)
	t2 := a.str("access_token")
	if t2 == t1 || t2 == "" || expiresIn(t, a) != 7200*time.Second {
		t.Fatalf("with 299s left: %s, want a new token for 7200s", a.body)
	}
	if a := f.phone(t1, "phone-13800138000.1"); a.errcode() != 0 {
		t.Fatalf("the old token within its last 5 minutes: %s", a.body)
	}
	if a := f.stableToken(false); a.str("access_token") != t2 {
		t.Fatalf("the new token is handed out from then on: %s", a.body)
	}
	f.wx.Advance(300 * time.Second)
	wantErrcode(t, f.phone(t1, "phone-13800138000.2"), 42001)
	if a := f.phone(t2, "phone-13800138000.2"); a.errcode() != 0 {
		t.Fatalf("new token: %s", a.body)
	}
	// at any age, expires_in stays above 300
	for i := 0; i < 40; i++ {
		f.wx.Advance(197 * time.Second)
		if d := expiresIn(t, f.stableToken(false)); d <= 300*time.Second || d > 7200*time.Second {
			t.Fatalf("expires_in %v", d)
		}
	}
}

// The knob for tests: short lifetimes, the overlap scaled down with them.
func TestStableTokenShortLifetime(t *testing.T) {
	wx := New(Config{Apps: map[string]string{testApp: testSecret}, TokenTTL: 10 * time.Second, TokenOverlap: 2 * time.Second})
	ts := httptest.NewServer(wx)
	defer ts.Close()
	defer wx.Close()
	f := &fixture{t: t, wx: wx, url: ts.URL}
	a := f.stableToken(false)
	t1 := a.str("access_token")
	if expiresIn(t, a) != 10*time.Second {
		t.Fatalf("first: %s", a.body)
	}
	wx.Advance(7 * time.Second)
	if a := f.stableToken(false); a.str("access_token") != t1 || expiresIn(t, a) != 3*time.Second {
		t.Fatalf("3s left: %s", a.body)
	}
	wx.Advance(time.Second)
	if a := f.stableToken(false); a.str("access_token") == t1 || expiresIn(t, a) != 10*time.Second {
		t.Fatalf("2s left: %s", a.body)
	}
	// without TokenOverlap, it is capped at half the lifetime
	if s := New(Config{TokenTTL: 4 * time.Second}); s.overlap != 2*time.Second {
		t.Errorf("overlap %v", s.overlap)
	}
}

func TestForceRefreshLimits(t *testing.T) {
	f := newFixture(t, 0)
	old := f.stableToken(false).str("access_token")
	t1 := f.stableToken(true).str("access_token")
	if t1 == "" || t1 == old {
		t.Fatal("force_refresh gave no new token")
	}
	wantErrcode(t, f.phone(old, "phone-1.1"), 40001) // killed at once
	wantErrcode(t, f.stableToken(true), 45011)       // 30 s apart
	f.wx.Advance(29 * time.Second)
	wantErrcode(t, f.stableToken(true), 45011)
	if a := f.phone(t1, "phone-1.2"); a.errcode() != 0 {
		t.Fatalf("a refused force refresh killed the token: %s", a.body)
	}
	for i := 2; i <= 20; i++ {
		f.wx.Advance(31 * time.Second)
		if a := f.stableToken(true); a.str("access_token") == "" {
			t.Fatalf("force refresh %d of 20: %s", i, a.body)
		}
	}
	f.wx.Advance(31 * time.Second)
	wantErrcode(t, f.stableToken(true), 45009) // 21st within 24 hours
	if a := f.stableToken(false); a.str("access_token") == "" {
		t.Fatalf("without force_refresh: %s", a.body)
	}
	f.wx.Advance(24 * time.Hour)
	if a := f.stableToken(true); a.str("access_token") == "" {
		t.Fatalf("a day later: %s", a.body)
	}
	if a := f.stableTokenOf(otherApp, "other", true); a.str("access_token") == "" {
		t.Fatalf("limits are per app: %s", a.body)
	}
}

func TestTokenModes(t *testing.T) {
	f := newFixture(t, 0)
	tok := f.stableToken(false).str("access_token")
	f.wx.SetTokenMode(testApp, TokenQuota)
	wantErrcode(t, f.stableToken(false), 45009)
	wantErrcode(t, f.stableToken(true), 45009)
	if a := f.phone(tok, "phone-1.1"); a.errcode() != 0 {
		t.Fatalf("the token handed out before stays valid: %s", a.body)
	}
	if a := f.stableTokenOf(otherApp, "other", false); a.str("access_token") == "" {
		t.Fatalf("modes are per app: %s", a.body)
	}
	f.wx.SetTokenMode(testApp, TokenIPDenied)
	a := f.stableToken(false)
	wantErrcode(t, a, 40164)
	if !strings.Contains(a.str("errmsg"), "invalid ip 127.0.0.1") || !strings.Contains(a.str("errmsg"), "not in whitelist") {
		t.Errorf("40164 errmsg %q should name the caller's IP", a.str("errmsg"))
	}
	f.wx.SetTokenMode(testApp, TokenBusy)
	wantErrcode(t, f.stableToken(false), -1)
	f.wx.SetTokenMode(testApp, TokenHTML)
	if a := f.stableToken(false); a.status != 200 || a.ctype != "text/html" {
		t.Errorf("html: %d %s", a.status, a.ctype)
	}
	f.wx.SetTokenMode(testApp, TokenHang)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", f.url+"/cgi-bin/stable_token",
		strings.NewReader(`{"grant_type":"client_credential","appid":"`+testApp+`","secret":"`+testSecret+`"}`))
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: %v", err)
	}
	// over HTTP
	if a := f.do("POST", "/fake/token_mode?appid="+testApp+"&mode=ok", nil); a.status != 204 {
		t.Fatalf("token_mode ok: %d %s", a.status, a.body)
	}
	if a := f.stableToken(false); a.str("access_token") != tok {
		t.Fatalf("back to ok: %s", a.body)
	}
	if a := f.do("POST", "/fake/token_mode?appid="+testApp+"&mode=quota", nil); a.status != 204 {
		t.Fatalf("token_mode quota: %d", a.status)
	}
	wantErrcode(t, f.stableToken(false), 45009)
	if a := f.do("POST", "/fake/token_mode?appid="+testApp+"&mode=nonsense", nil); a.status != 400 {
		t.Errorf("bad mode: %d", a.status)
	}
	if a := f.do("POST", "/fake/token_mode?appid=wxnope&mode=ok", nil); a.status != 404 {
		t.Errorf("unknown app: %d", a.status)
	}
}

// Error answers of stable_token and getuserphonenumber come as JSON and as
// text/plain, by turns; successes as JSON.
func TestErrorAnswersComeAsTextToo(t *testing.T) {
	f := newFixture(t, 0)
	tok := f.stableToken(false).str("access_token")
	f.wx.SetTokenMode(testApp, TokenQuota)
	types := map[string]bool{}
	for i := 0; i < 2; i++ {
		a := f.stableToken(false)
		wantErrcode(t, a, 45009)
		types[a.ctype] = true
		b := f.phone(tok, "bad-"+string(rune('a'+i)))
		wantErrcode(t, b, 40029)
		types[b.ctype] = true
	}
	if !types["text/plain"] || !types[typeJSON] || len(types) != 2 {
		t.Errorf("error answers came as %v", types)
	}
	if a := f.phone(tok, "phone-13800138000"); !strings.HasPrefix(a.ctype, "application/json") {
		t.Errorf("success as %q", a.ctype)
	}
}

func TestMissingCredentials(t *testing.T) {
	f := newFixture(t, 0)
	wantErrcode(t, f.stableTokenOf("", testSecret, false), 41002)
	wantErrcode(t, f.stableTokenOf(testApp, "", false), 41004)
	wantErrcode(t, f.login("", testSecret, "ok-a.1"), 41002)
	wantErrcode(t, f.login(testApp, "", "ok-a.1"), 41004)
	wantErrcode(t, f.do("GET", "/cgi-bin/token?grant_type=client_credential&secret="+testSecret, nil), 41002)
	wantErrcode(t, f.do("GET", "/cgi-bin/token?grant_type=client_credential&appid="+testApp, nil), 41004)
	wantErrcode(t, f.do("POST", "/wxa/business/getuserphonenumber", map[string]string{"code": "phone-1"}), 41001)
	if a := f.login(testApp, testSecret, "ok-a.1"); a.str("session_key") == "" {
		t.Fatalf("the code was consumed by a refused request: %s", a.body)
	}
}

func TestCodesExpireAfterFiveMinutes(t *testing.T) {
	f := newFixture(t, 0)
	tok := f.stableToken(false).str("access_token")
	f.wx.MintCode(testApp, "ok-kim.1")
	f.wx.MintCode(testApp, "ok-kim.2")
	f.wx.MintCode(testApp, "phone-13800138000.1")
	f.wx.MintCode(testApp, "phone-13800138000.2")
	f.wx.Advance(CodeTTL - time.Second)
	if a := f.login(testApp, testSecret, "ok-kim.1"); a.str("session_key") == "" {
		t.Fatalf("a code 4:59 old: %s", a.body)
	}
	if a := f.phone(tok, "phone-13800138000.1"); a.errcode() != 0 {
		t.Fatalf("a phone code 4:59 old: %s", a.body)
	}
	f.wx.Advance(time.Second)
	wantErrcode(t, f.login(testApp, testSecret, "ok-kim.2"), 40029)
	wantErrcode(t, f.phone(tok, "phone-13800138000.2"), 40029)
	// a code never minted is as old as its use
	if a := f.login(testApp, testSecret, "ok-kim.3"); a.str("session_key") == "" {
		t.Fatalf("unminted code: %s", a.body)
	}
	// the clock over HTTP
	f.wx.MintCode(testApp, "ok-kim.4")
	if a := f.do("POST", "/fake/advance?by=5m", nil); a.status != 204 {
		t.Fatalf("advance: %d", a.status)
	}
	wantErrcode(t, f.login(testApp, testSecret, "ok-kim.4"), 40029)
	if a := f.do("POST", "/fake/advance?by=soon", nil); a.status != 400 {
		t.Errorf("bad duration: %d", a.status)
	}
}

// same-<user> hands out the current session_key again: nothing rotates.
func TestSameSessionKey(t *testing.T) {
	f := newFixture(t, 0)
	openid := OpenID(testApp, "lee")
	k1 := f.login(testApp, testSecret, "ok-lee.1").str("session_key")
	k2 := f.login(testApp, testSecret, "ok-lee.2").str("session_key")
	a := f.login(testApp, testSecret, "same-lee.3")
	if a.str("session_key") != k2 || a.str("openid") != openid {
		t.Fatalf("same-: %s, want key %s", a.body, k2)
	}
	if cur, prev := f.wx.SessionKeys(testApp, openid); cur != k2 || prev != k1 {
		t.Fatalf("after same-: %q %q, want %q %q", cur, prev, k2, k1)
	}
	wantErrcode(t, f.login(testApp, testSecret, "same-lee.3"), 40163)
	// a user without a key gets a new one
	if a := f.login(testApp, testSecret, "same-mo"); a.str("session_key") == "" {
		t.Fatalf("same- for a new user: %s", a.body)
	}
}

// A phone code minted for one user is refused with another's openid.
func TestPhoneCodeBoundToUser(t *testing.T) {
	f := newFixture(t, 0)
	tok := f.stableToken(false).str("access_token")
	phone := func(code, openid string) answer {
		return f.do("POST", "/wxa/business/getuserphonenumber?access_token="+tok,
			map[string]string{"code": code, "openid": openid})
	}
	alice, bob := OpenID(testApp, "alice"), OpenID(testApp, "bob")
	if a := phone("phone-13800138000.1@alice", alice); a.errcode() != 0 {
		t.Fatalf("own code: %s", a.body)
	}
	wantErrcode(t, phone("phone-13800138000.2@alice", bob), 40003)
	wantErrcode(t, phone("phone-13800138000.2@alice", alice), 40029) // consumed
	if a := phone("phone-13800138000.3@alice", ""); a.errcode() != 0 {
		t.Fatalf("without openid nothing is checked: %s", a.body)
	}
	if a := phone("phone-13800138000.4", bob); a.errcode() != 0 {
		t.Fatalf("a code without @user: %s", a.body)
	}
	if a := phone("phonenum-2025550123-1.5@bob", bob); a.errcode() != 0 || a.m["phone_info"].(map[string]any)["phoneNumber"] != "+1 2025550123" {
		t.Fatalf("phonenum with @user: %s", a.body)
	}
	wantErrcode(t, phone("busy-1@bob", bob), -1)
}
