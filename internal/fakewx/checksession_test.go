package fakewx

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// signature is checksession's signature, computed here apart from the
// fake's own.
func signature(key string) string {
	m := hmac.New(sha256.New, []byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

func (f *fixture) checkSession(token, openid, sig string) answer {
	f.t.Helper()
	q := url.Values{"access_token": {token}, "openid": {openid}, "signature": {sig}, "sig_method": {"hmac_sha256"}}
	return f.do("GET", "/wxa/checksession?"+q.Encode(), nil)
}

func TestCheckSessionAndReplacedKey(t *testing.T) {
	f := newFixture(t, 0)
	alice := OpenID(testApp, "alice")
	tok := f.stableToken(false).str("access_token")
	if a := f.login(testApp, testSecret, "ok-alice.1"); a.errcode() != 0 {
		t.Fatalf("login: %s", a.body)
	}
	first, _ := f.wx.SessionKeys(testApp, alice)

	if a := f.checkSession(tok, alice, signature(first)); a.status != 200 || a.errcode() != 0 || a.str("errmsg") != "ok" {
		t.Fatalf("current key: %s", a.body)
	}
	wantErrcode(t, f.checkSession(tok, alice, signature("AAAAAAAAAAAAAAAAAAAAAA==")), 87009)
	wantErrcode(t, f.checkSession(tok, OpenID(testApp, "nobody"), signature(first)), 87009)
	wantErrcode(t, f.checkSession("", alice, signature(first)), 41001)
	wantErrcode(t, f.checkSession("nope", alice, signature(first)), 40001)
	q := url.Values{"access_token": {tok}, "openid": {alice}, "signature": {signature(first)}, "sig_method": {"md5"}}
	wantErrcode(t, f.do("GET", "/wxa/checksession?"+q.Encode(), nil), 87009)
	wantErrcode(t, f.do("POST", "/wxa/checksession?"+q.Encode(), nil), 43001)
	// Error answers come as text/plain too.
	types := map[string]bool{}
	for range 2 {
		types[f.checkSession(tok, alice, "00").ctype] = true
	}
	if !types[typeText] {
		t.Errorf("checksession errors never text/plain: %v", types)
	}

	// Replaced without a login: the old key is refused, the new one is
	// current, sealed data uses it, the previous key is the old one.
	if _, err := f.wx.ReplaceSessionKey(testApp, OpenID(testApp, "nobody")); err != ErrNoSessionKey {
		t.Fatalf("replace for a user without a key: %v", err)
	}
	logins := f.wx.Count(EndpointJSCode2Session)
	next, err := f.wx.ReplaceSessionKey(testApp, alice)
	if err != nil || next == first {
		t.Fatalf("replace: %q %v", next, err)
	}
	if cur, prev := f.wx.SessionKeys(testApp, alice); cur != next || prev != first {
		t.Fatalf("keys after replace: %q %q", cur, prev)
	}
	if f.wx.Count(EndpointJSCode2Session) != logins {
		t.Fatal("replace made a login")
	}
	wantErrcode(t, f.checkSession(tok, alice, signature(first)), 87009)
	if a := f.checkSession(tok, alice, signature(next)); a.errcode() != 0 {
		t.Fatalf("new key: %s", a.body)
	}
	data, iv, err := f.wx.EncryptPhone(testApp, alice, "13800138000", "86", testApp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decryptWith(next, iv, data); err != nil {
		t.Fatalf("sealed data does not open with the new key: %v", err)
	}
	if _, err := decryptWith(first, iv, data); err == nil {
		t.Fatal("sealed data opens with the old key")
	}

	// Over HTTP.
	if a := f.do("POST", "/fake/replace_session_key", map[string]string{"appid": testApp, "user": "alice"}); a.status != http.StatusNoContent {
		t.Fatalf("/fake/replace_session_key: %d %s", a.status, a.body)
	}
	if cur, prev := f.wx.SessionKeys(testApp, alice); cur == next || prev != next {
		t.Fatal("/fake/replace_session_key did not replace the key")
	}
	for body, status := range map[string]int{
		`{"appid":"` + testApp + `","user":"nobody"}`: 404,
		`{"appid":"` + testApp + `"}`:                 400,
		`{"user":"alice"}`:                            400, // two apps: appid needed
		`nope`:                                        400,
	} {
		if a := f.do("POST", "/fake/replace_session_key", body); a.status != status {
			t.Errorf("%s: %d %s, want %d", body, a.status, a.body, status)
		}
	}
	if a := f.do("GET", "/fake/replace_session_key", nil); a.status != 405 {
		t.Errorf("GET: %d", a.status)
	}
}

// decryptWith opens data sealed in WeChat's scheme; bytes that are not
// JSON (a wrong key with padding good by chance) are an error too.
func decryptWith(key, iv, data string) ([]byte, error) {
	plain, err := platform.OpenCBC(key, iv, data, 16, 16)
	if err == nil && !json.Valid(plain) {
		err = platform.ErrUndecryptable
	}
	return plain, err
}

func TestPhoneCodesThatFailOnce(t *testing.T) {
	f := newFixture(t, 0)
	tok := f.stableToken(false).str("access_token")

	wantErrcode(t, f.phone(tok, "busyonce-13800138000.1"), -1)
	if a := f.phone(tok, "busyonce-13800138000.1"); a.errcode() != 0 || a.m["phone_info"] == nil {
		t.Fatalf("busyonce, second try: %s", a.body)
	}
	wantErrcode(t, f.phone(tok, "busyonce-13800138000.1"), 40029) // used once it succeeded

	// hangonce: the first call gets no answer.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", f.url+"/wxa/business/getuserphonenumber?access_token="+tok,
		strings.NewReader(`{"code": "hangonce-13900000000.2"}`))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("hangonce answered the first time: HTTP %d", resp.StatusCode)
	}
	if a := f.phone(tok, "hangonce-13900000000.2"); a.errcode() != 0 || a.m["phone_info"].(map[string]any)["purePhoneNumber"] != "13900000000" {
		t.Fatalf("hangonce, second try: %s", a.body)
	}
	wantErrcode(t, f.phone(tok, "hangonce-13900000000.2"), 40029)

	// busy- and limit- fail every time, without using the code up.
	wantErrcode(t, f.phone(tok, "busy-2"), -1)
	wantErrcode(t, f.phone(tok, "busy-2"), -1)
	wantErrcode(t, f.phone(tok, "limit-2"), 45011)
	wantErrcode(t, f.phone(tok, "limit-2"), 45011)
	wantErrcode(t, f.phone(tok, "foreign-1"), 40013)
	wantErrcode(t, f.phone(tok, "foreign-1"), 40029)
}
