package fakekuaishou_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	fakekuaishou "github.com/wechat-auth/wechat_auth/internal/fake/kuaishou"
	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/platform/platformtest"
)

const (
	appID  = "ks707065143182458884"
	secret = "ks-secret"
)

func start(t *testing.T) (*fakekuaishou.Server, *httptest.Server) {
	t.Helper()
	fake := fakekuaishou.New(fakekuaishou.App{ID: appID, Secret: secret})
	return fake, platformtest.Serve(t, fake)
}

// send makes a request with the form in the body (POST) or the query.
func send(t *testing.T, srv *httptest.Server, method, path string, form url.Values, inQuery bool) map[string]any {
	t.Helper()
	target, body := srv.URL+path, ""
	if inQuery {
		target += "?" + form.Encode()
	} else {
		body = form.Encode()
	}
	req, _ := http.NewRequest(method, target, strings.NewReader(body))
	if !inQuery {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &m) != nil {
		t.Fatalf("HTTP %d %s", resp.StatusCode, raw)
	}
	return m
}

func result(m map[string]any) int { n, _ := m["result"].(float64); return int(n) }

func login(code string) url.Values {
	return url.Values{"app_id": {appID}, "app_secret": {secret}, "js_code": {code}}
}

func TestCode2Session(t *testing.T) {
	fake, srv := start(t)
	const path = "/oauth2/mp/code2session"
	m := send(t, srv, "POST", path, login("ok-alice.1"), false)
	if result(m) != 1 || m["open_id"] != fakekuaishou.OpenID(appID, "alice") || m["session_key"] != fake.SessionKey(appID, "alice") {
		t.Fatalf("%v", m)
	}
	if m := send(t, srv, "POST", path, login("ok-alice.2"), true); result(m) != 1 {
		t.Fatalf("query: %v", m)
	}
	expired := fake.MintCode(appID, "bob")
	fake.Advance(fakekuaishou.CodeTTL)
	for _, tc := range []struct {
		name   string
		method string
		form   url.Values
		want   int
	}{
		{"reused", "POST", login("ok-alice.1"), fakekuaishou.ResultBadCode},
		{"expired", "POST", login(expired), fakekuaishou.ResultBadCode},
		{"bad", "POST", login("bad-1"), fakekuaishou.ResultBadCode},
		{"wrong secret", "POST", url.Values{"app_id": {appID}, "app_secret": {"x"}, "js_code": {"ok-a"}}, fakekuaishou.ResultBadAppOrKey},
		{"unknown app", "POST", url.Values{"app_id": {"ks1234567"}, "app_secret": {"x"}, "js_code": {"ok-a"}}, fakekuaishou.ResultBadAppOrKey},
		{"missing code", "POST", url.Values{"app_id": {appID}, "app_secret": {secret}}, fakekuaishou.ResultBadParams},
		{"GET", "GET", login("ok-carol"), fakekuaishou.ResultBadParams},
	} {
		m := send(t, srv, tc.method, path, tc.form, tc.method == "GET")
		if result(m) != tc.want || m["error_msg"] == "" || m["open_id"] != nil {
			t.Errorf("%s: %v, want result %d", tc.name, m, tc.want)
		}
	}
}

func TestAccessToken(t *testing.T) {
	fake, srv := start(t)
	form := url.Values{"app_id": {appID}, "app_secret": {secret}, "grant_type": {"client_credentials"}}
	a := send(t, srv, "POST", "/oauth2/access_token", form, false)
	b := send(t, srv, "GET", "/oauth2/access_token", form, true)
	ta, tb := a["access_token"].(string), b["access_token"].(string)
	if result(a) != 1 || a["token_type"] != "bearer" || a["expires_in"] != float64(172800) || ta == tb {
		t.Fatalf("%v %v", a, b)
	}
	if !fake.TokenValid(ta) || !fake.TokenValid(tb) {
		t.Fatal("a new token leaves the older one valid")
	}
	fake.Advance(fakekuaishou.TokenTTL)
	if fake.TokenValid(ta) || fake.TokenValid(tb) {
		t.Fatal("48 h tokens")
	}
	form.Set("grant_type", "client_credential")
	if m := send(t, srv, "POST", "/oauth2/access_token", form, false); result(m) != fakekuaishou.ResultBadParams {
		t.Errorf("singular grant_type: %v", m)
	}
}

func TestSealPhone(t *testing.T) {
	fake, srv := start(t)
	if _, _, err := fake.SealPhone(appID, "dave", "13600136000", ""); err == nil {
		t.Fatal("sealed before a login")
	}
	send(t, srv, "POST", "/oauth2/mp/code2session", login("ok-dave"), false)
	data, iv, err := fake.SealPhone(appID, "dave", "13600136000", "")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := platform.OpenCBC(fake.SessionKey(appID, "dave"), iv, data, 16, 16)
	if err != nil || string(plain) != `{"countryCode":"86","phoneNumber":"13600136000"}` {
		t.Fatalf("%s %v", plain, err)
	}
	resp, err := srv.Client().Post(srv.URL+"/fake/kuaishou/encrypt", "application/json",
		strings.NewReader(`{"user":"dave","phone":"13600136000"}`))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if _, err := base64.StdEncoding.DecodeString(m["encryptedData"]); resp.StatusCode != http.StatusOK || err != nil {
		t.Errorf("control: %d %v", resp.StatusCode, m)
	}
}
