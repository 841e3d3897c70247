package fakebaidu

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const (
	keyA, secretA = "4fecoAqgCIUtzIyA4FAPgoyrc4oUc25c", "secretA"
)

func newTest(t *testing.T) (*Server, string) {
	s := New(App{Key: keyA, Secret: secretA})
	srv := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); srv.Close() })
	return s, srv.URL
}

func do(t *testing.T, method, target string, form url.Values) map[string]any {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, target, body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&m) != nil {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	return m
}

func TestLoginEndpoint(t *testing.T) {
	s, base := newTest(t)
	form := func(code string) url.Values { return url.Values{"code": {code}, "client_id": {keyA}, "sk": {secretA}} }
	// Form body, then query string.
	m := do(t, "POST", base+"/oauth/jscode2sessionkey", form(s.MintCode(keyA, "alice")))
	k, _ := base64.StdEncoding.DecodeString(m["session_key"].(string))
	if m["openid"] != OpenID(keyA, "alice") || len(k) != 24 || len(m["session_key"].(string)) != 32 {
		t.Fatalf("login: %v", m)
	}
	m = do(t, "POST", base+"/oauth/jscode2sessionkey?"+form(s.MintCode(keyA, "alice")).Encode(), nil)
	if m["openid"] != OpenID(keyA, "alice") || len(s.SessionKeys(keyA, OpenID(keyA, "alice"))) != 2 {
		t.Fatalf("login by query: %v", m)
	}
	used := s.MintCode(keyA, "bob")
	do(t, "POST", base+"/oauth/jscode2sessionkey", form(used))
	late := s.MintCode(keyA, "bob")
	s.Advance(CodeTTL)
	for _, tc := range []struct {
		f    url.Values
		want string
	}{
		{form(used), "invalid_grant"},
		{form(late), "invalid_grant"},
		{form("bad-1"), "invalid_grant"},
		{url.Values{"code": {"ok-x"}, "client_id": {keyA}, "sk": {"wrong"}}, "invalid_client"},
		{url.Values{"code": {"ok-x"}, "client_id": {"nobody"}, "sk": {secretA}}, "invalid_client"},
	} {
		if m := do(t, "POST", base+"/oauth/jscode2sessionkey", tc.f); m["error"] != tc.want || m["error_description"] == "" {
			t.Errorf("%v: %v, want %s", tc.f, m, tc.want)
		}
	}
	// The wrong-secret request did not use up its code.
	if m := do(t, "POST", base+"/oauth/jscode2sessionkey", form("ok-x")); m["openid"] == nil {
		t.Fatalf("ok-x after a refused request: %v", m)
	}
	if m := do(t, "GET", base+"/oauth/jscode2sessionkey?"+form("ok-y").Encode(), nil); m["error"] == nil {
		t.Fatal("GET login answered")
	}
}

func TestTokenAndUnionID(t *testing.T) {
	s, base := newTest(t)
	tokenForm := url.Values{"grant_type": {"client_credentials"}, "client_id": {keyA}, "client_secret": {secretA}, "scope": {"smartapp_snsapi_base"}}
	// GET with the query, as the doc's URL shows.
	m := do(t, "GET", base+"/oauth/2.0/token?"+tokenForm.Encode(), nil)
	tok, _ := m["access_token"].(string)
	if !strings.HasPrefix(tok, "24.") || m["expires_in"] != float64(2592000) {
		t.Fatalf("token: %v", m)
	}
	bad := url.Values{"grant_type": {"client_credentials"}, "client_id": {keyA}, "client_secret": {"x"}, "scope": {"smartapp_snsapi_base"}}
	if m := do(t, "POST", base+"/oauth/2.0/token", bad); m["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %v", m)
	}
	do(t, "POST", base+"/oauth/jscode2sessionkey", url.Values{"code": {"ok-alice"}, "client_id": {keyA}, "sk": {secretA}})
	union := func(token, openid string) map[string]any {
		return do(t, "POST", base+"/rest/2.0/smartapp/getunionid?access_token="+url.QueryEscape(token), url.Values{"openid": {openid}})
	}
	m = union(tok, OpenID(keyA, "alice"))
	if m["errno"] != float64(0) || m["errmsg"] != "succ" || m["request_id"] == nil || m["data"].(map[string]any)["unionid"] != UnionID("alice") {
		t.Fatalf("getunionid: %v", m)
	}
	if m := union(tok, "unknown"); m["errno"] != float64(1) {
		t.Fatalf("unknown openid: %v", m)
	}
	s.Advance(TokenTTL)
	if m := union(tok, OpenID(keyA, "alice")); m["error_code"] != float64(110) {
		t.Fatalf("expired token: %v", m)
	}
	s.FailNext(EndpointUnionID, FailServer)
	if m := union(tok, OpenID(keyA, "alice")); m["errno"] != float64(1) {
		t.Fatalf("forced failure: %v", m)
	}
}

func TestSealAndControls(t *testing.T) {
	s, base := newTest(t)
	if _, _, err := s.SealPhone(keyA, "alice", "15000000000", ""); err == nil {
		t.Fatal("sealed for a user who never logged in")
	}
	m := do(t, "POST", base+"/fake/baidu/mint?app_key="+keyA+"&user=alice", nil)
	do(t, "POST", base+"/oauth/jscode2sessionkey", url.Values{"code": {m["code"].(string)}, "client_id": {keyA}, "sk": {secretA}})
	m = do(t, "POST", base+"/fake/baidu/seal?app_key="+keyA+"&user=alice&mobile=15000000000", nil)
	raw, _ := base64.StdEncoding.DecodeString(m["encryptedData"].(string))
	if len(raw)%32 != 0 || m["iv"] == nil {
		t.Fatalf("seal: %v", m)
	}
	if m := do(t, "GET", base+"/fake/baidu/stats", nil); m[EndpointLogin] != float64(1) {
		t.Fatalf("stats: %v", m)
	}
	do(t, "POST", base+"/fake/baidu/fail?endpoint=token&next=server_error", nil)
	if m := do(t, "GET", base+"/oauth/2.0/token", nil); m["error"] != "server_error" {
		t.Fatalf("forced: %v", m)
	}
}
