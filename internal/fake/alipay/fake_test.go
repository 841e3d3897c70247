package fakealipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const appA = "2021000000000001"

func newTest(t *testing.T) (*Server, string) {
	s := New(App{ID: appA, PublicKey: PublicKeyPEM(TestKey(KeyApp1))})
	srv := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); srv.Close() })
	return s, srv.URL
}

func params(code string) url.Values {
	return url.Values{
		"app_id": {appA}, "method": {MethodOAuthToken}, "format": {"JSON"}, "charset": {"utf-8"},
		"sign_type": {"RSA2"}, "timestamp": {"2024-05-13 17:49:20"}, "version": {"1.0"},
		"grant_type": {"authorization_code"}, "code": {code},
	}
}

func signWith(k *rsa.PrivateKey, p url.Values) url.Values {
	sum := sha256.Sum256([]byte(signedString(p)))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	p.Set("sign", base64.StdEncoding.EncodeToString(sig))
	return p
}

// post sends p in the body, or the common parameters in the query (as
// the Java SDK does) when inQuery.
func post(t *testing.T, base string, p url.Values, inQuery bool) map[string]json.RawMessage {
	t.Helper()
	target, body := base+"/gateway.do", p.Encode()
	if inQuery {
		q, b := url.Values{}, url.Values{}
		for k, v := range p {
			if k == "code" || k == "grant_type" {
				b[k] = v
			} else {
				q[k] = v
			}
		}
		target, body = target+"?"+q.Encode(), b.Encode()
	}
	resp, err := http.Post(target, "application/x-www-form-urlencoded;charset=utf-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]json.RawMessage
	if resp.StatusCode != 200 || json.Unmarshal(raw, &m) != nil {
		t.Fatalf("HTTP %d %s", resp.StatusCode, raw)
	}
	return m
}

func subCode(m map[string]json.RawMessage, key string) string {
	var o struct {
		SubCode string `json:"sub_code"`
	}
	_ = json.Unmarshal(m[key], &o)
	return o.SubCode
}

const okKey = "alipay_system_oauth_token_response"

func TestGatewayChecks(t *testing.T) {
	s, base := newTest(t)
	app := TestKey(KeyApp1)
	// Success, params in the body and in the query; signed over the raw text.
	for _, inQuery := range []bool{false, true} {
		m := post(t, base, signWith(app, params(s.MintCode(appA, "alice"))), inQuery)
		var sig string
		_ = json.Unmarshal(m["sign"], &sig)
		if !verify(&s.key.PublicKey, string(m[okKey]), sig) || !strings.Contains(string(m[okKey]), UserID("alice")) {
			t.Fatalf("success answer %s", m)
		}
	}
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		key    string
		sub    string
	}{
		{"missing timestamp", func(p url.Values) { p.Del("timestamp") }, "error_response", "isv.missing-timestamp"},
		{"missing sign_type", func(p url.Values) { p.Del("sign_type") }, "error_response", "isv.missing-signature-type"},
		{"GBK", func(p url.Values) { p.Set("charset", "GBK") }, "error_response", "isv.invalid-charset"},
		{"RSA", func(p url.Values) { p.Set("sign_type", "RSA") }, "error_response", "isv.invalid-signature-type"},
		{"version", func(p url.Values) { p.Set("version", "2.0") }, "error_response", "isv.invalid-version"},
		{"timestamp form", func(p url.Values) { p.Set("timestamp", "2024-05-13T17:49:20Z") }, "error_response", "isv.invalid-timestamp"},
		{"unknown app", func(p url.Values) { p.Set("app_id", "2021000000000009") }, "error_response", "isv.invalid-app-id"},
		{"grant type", func(p url.Values) { p.Set("grant_type", "password") }, "error_response", "isv.grant-type-invalid"},
		{"used code", func(p url.Values) { p.Set("code", "ok-alice.used") }, "error_response", "isv.code-invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "used code" {
				post(t, base, signWith(app, params("ok-alice.used")), false)
			}
			p := params("ok-bob")
			tc.change(p)
			m := post(t, base, signWith(app, p), false)
			if got := subCode(m, tc.key); got != tc.sub {
				t.Fatalf("sub_code %q, want %q: %s", got, tc.sub, m)
			}
			if _, signed := m["sign"]; signed {
				t.Fatal("an error_response came signed")
			}
		})
	}
	// A request signed with another key, or changed after signing: 40002
	// isv.invalid-signature in the method key, signed, quoting the string.
	for _, p := range []url.Values{signWith(TestKey(KeyApp2), params("ok-carol")), func() url.Values {
		p := signWith(app, params("ok-carol"))
		p.Set("code", "ok-dave")
		return p
	}()} {
		m := post(t, base, p, false)
		var sig string
		_ = json.Unmarshal(m["sign"], &sig)
		if subCode(m, okKey) != "isv.invalid-signature" || !verify(&s.key.PublicKey, string(m[okKey]), sig) || !strings.Contains(string(m[okKey]), "sign_type=RSA2") {
			t.Fatalf("bad signature answer %s", m)
		}
	}
	// The refused code was not consumed.
	if m := post(t, base, signWith(app, params("ok-carol")), false); m[okKey] == nil || subCode(m, okKey) != "" {
		t.Fatalf("ok-carol after refusals: %s", m)
	}
	// An empty parameter is not part of the signed string.
	p := params("ok-erin")
	p.Set("app_auth_token", "")
	if m := post(t, base, signWith(app, p), false); subCode(m, okKey) != "" {
		t.Fatalf("an empty parameter: %s", m)
	}
	if s.Count(MethodOAuthToken) == 0 {
		t.Fatal("no count")
	}
}

func TestControls(t *testing.T) {
	s, base := newTest(t)
	call := func(method, path string) (int, map[string]string) {
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if st, m := call("POST", "/fake/alipay/mint?app_id="+appA+"&user=alice"); st != 200 || !strings.HasPrefix(m["code"], "ok-alice.") {
		t.Fatalf("mint: %d %v", st, m)
	}
	if st, _ := call("POST", "/fake/alipay/mint?app_id=1&user=alice"); st != 400 {
		t.Fatalf("mint for an unknown app: %d", st)
	}
	if st, _ := call("POST", "/fake/alipay/fail?next=busy"); st != 200 {
		t.Fatal("fail")
	}
	m := post(t, base, signWith(TestKey(KeyApp1), params("ok-alice")), false)
	if subCode(m, "error_response") != "isp.unknow-error" {
		t.Fatalf("forced busy: %s", m)
	}
	if st, m := call("POST", "/fake/alipay/phone?app_id="+appA+"&mobile=15000000000&variant=nosign"); st != 200 || strings.Contains(m["response"], `"sign"`) {
		t.Fatalf("phone: %d %v", st, m)
	}
	if st, m := call("GET", "/fake/alipay/keys?app_id="+appA); st != 200 || m["aes_key"] != s.AESKey(appA) || !strings.Contains(m["alipay_public_key"], "PUBLIC KEY") {
		t.Fatalf("keys: %d %v", st, m)
	}
	if st, _ := call("POST", "/fake/alipay/advance?by=4m"); st != 200 {
		t.Fatal("advance")
	}
	if st, _ := call("GET", "/gateway.do"); st != 405 {
		t.Fatal("GET /gateway.do answered")
	}
}
