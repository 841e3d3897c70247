package wechatauth_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

func TestLoginThenUpstreamGetsIdentity(t *testing.T) {
	e := newEnv(t, "")
	a := e.do("POST", "/wx/login", `{"code":"ok-alice"}`, "Content-Type", "application/json")
	if a.status != http.StatusOK {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	m := a.json(t)
	tok, _ := m["token"].(string)
	e.secret(tok, "a session token")
	e.recordSessionKeys()
	if exp, _ := m["expires_in"].(float64); exp != 7200 {
		t.Errorf("expires_in = %v, want 7200 (session_ttl 2h)", m["expires_in"])
	}
	if len(tok) < 22 {
		t.Errorf("token %q is too short for 128 bits", tok)
	}
	openid := fakewx.OpenID(appA, "alice")
	cur, _ := e.wx.SessionKeys(appA, openid)
	if strings.Contains(string(a.body), openid) || strings.Contains(string(a.body), cur) {
		t.Errorf("login answer leaks the openid or the session_key: %s", a.body)
	}
	if cc := a.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("login answer Cache-Control %q, want no-store", cc)
	}

	up := e.do("GET", "/api/orders?x=1", "", bearer(tok)...).upstream(t)
	if got := up.Headers.Get("X-WX-OpenID"); got != openid {
		t.Errorf("X-WX-OpenID = %q, want %q", got, openid)
	}
	if up.Headers.Get("Authorization") != "" {
		t.Errorf("the token was passed upstream")
	}
	for _, h := range []string{"X-WX-UnionID", "X-WX-Phone", "X-WX-Phone-Country"} {
		if v, ok := up.Headers[http.CanonicalHeaderKey(h)]; ok {
			t.Errorf("%s = %q sent for a user without it", h, v)
		}
	}
	if up.Path != "/api/orders" || up.Query != "x=1" {
		t.Errorf("upstream got %s?%s", up.Path, up.Query)
	}

	// a user whose app is bound to an open platform account
	tok2 := e.login("", "union-bob")
	up = e.do("GET", "/api", "", bearer(tok2)...).upstream(t)
	if got, want := up.Headers.Get("X-WX-UnionID"), fakewx.UnionID("bob"); got != want {
		t.Errorf("X-WX-UnionID = %q, want %q", got, want)
	}
	if got := up.Headers.Get("X-WX-OpenID"); got != fakewx.OpenID(appA, "bob") {
		t.Errorf("second user's openid = %q", got)
	}
	if !strings.Contains(e.logText(), `"msg":"login"`) {
		t.Errorf("no login line in the log")
	}
}

func TestLoginErrorsMapToContract(t *testing.T) {
	t.Parallel()
	e := newEnvOpts(t, "", envOptions{Process: true})
	e.login("", "ok-carol.used") // burn the code
	cases := []struct {
		code   string
		status int
		err    string
	}{
		{"bad-1", 401, "invalid_code"},
		{"ok-carol.used", 401, "code_used"},
		{"risky-1", 403, "risky_user"},
		{"limit-1", 429, "rate_limited"},
		{"busy-1", 503, "wechat_busy"},
		{"http500-1", 502, "wechat_bad_response"},
		{"html-1", 502, "wechat_bad_response"},
		{"empty-1", 502, "wechat_bad_response"},
		{"trunc-1", 502, "wechat_bad_response"},
		{"nokey-dave", 502, "wechat_bad_response"},
		{"slow-3000-dave", 504, "wechat_timeout"}, // timeout is 1s
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			a := e.do("POST", "/wx/login", fmt.Sprintf(`{"code":%q}`, c.code))
			if got := a.errorCode(t, c.status); got != c.err {
				t.Errorf("error %q, want %q", got, c.err)
			}
		})
	}
	// a slow answer within the timeout is fine
	e.login("", "slow-200-dave")

	log := e.logText()
	for _, want := range []string{`"errcode":40029`, `"errcode":40163`, `"errcode":-1`, `"kind":"timeout"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

func TestHungWeChatIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnvOpts(t, "", envOptions{Process: true})
	start := time.Now()
	a := e.do("POST", "/wx/login", `{"code":"hang-1"}`)
	if got := a.errorCode(t, http.StatusGatewayTimeout); got != "wechat_timeout" {
		t.Errorf("error %q", got)
	}
	// the configured timeout is 1s; allow generously for a loaded machine
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a hung WeChat held the client %v", d)
	}
}

func TestWeChatUnreachable(t *testing.T) {
	e := newEnv(t, "")
	closed := freePort(t)
	e.load(fmt.Sprintf(`
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		app_id {{.AppA}}
		app_secret x
		api_base http://127.0.0.1:%d
		timeout 2s
	}
	reverse_proxy {{.Upstream}}
}`, closed))
	a := e.do("POST", "/wx/login", `{"code":"ok-alice"}`)
	if got := a.errorCode(t, http.StatusBadGateway); got != "wechat_unreachable" {
		t.Errorf("error %q", got)
	}
}

func TestWrongSecretIsLoggedByAppIDNotSecret(t *testing.T) {
	e := newEnv(t, "")
	const wrong = "wrong-secret-never-to-be-logged"
	e.secret(wrong, "the wrong app_secret")
	e.load(`
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		app_id {{.AppA}}
		app_secret ` + wrong + `
		api_base {{.WeChat}}
	}
	reverse_proxy {{.Upstream}}
}`)
	a := e.do("POST", "/wx/login", `{"code":"ok-alice"}`)
	if got := a.errorCode(t, http.StatusBadGateway); got != "wechat_config_error" {
		t.Errorf("error %q", got)
	}
	found := false
	for _, line := range strings.Split(e.logText(), "\n") {
		if strings.Contains(line, `"level":"error"`) && strings.Contains(line, appA) && strings.Contains(line, "40125") {
			found = true
		}
	}
	if !found {
		t.Errorf("no ERROR line naming the app_id and errcode 40125")
	}
}

func TestLoginRefusesMalformedRequests(t *testing.T) {
	e := newEnv(t, "")
	cases := []struct {
		name, method, body string
		status             int
		err                string
	}{
		{"not json", "POST", `code=ok-alice`, 400, "invalid_json"},
		{"empty body", "POST", ``, 400, "invalid_json"},
		{"array", "POST", `["ok-alice"]`, 400, "invalid_json"},
		{"truncated", "POST", `{"code":"ok-al`, 400, "invalid_json"},
		{"trailing data", "POST", `{"code":"ok-alice"} {"code":"x"}`, 400, "invalid_json"},
		{"no code", "POST", `{}`, 400, "missing_code"},
		{"empty code", "POST", `{"code":""}`, 400, "missing_code"},
		{"number code", "POST", `{"code":12345}`, 400, "missing_code"},
		{"null code", "POST", `{"code":null}`, 400, "missing_code"},
		{"huge code", "POST", `{"code":"` + strings.Repeat("a", 600) + `"}`, 400, "missing_code"},
		{"over the limit", "POST", `{"code":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "body_too_large"},
		{"GET", "GET", ``, 405, "method_not_allowed"},
		{"PUT", "PUT", `{"code":"ok-alice"}`, 405, "method_not_allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.do(c.method, "/wx/login", c.body)
			if got := a.errorCode(t, c.status); got != c.err {
				t.Errorf("error %q, want %q", got, c.err)
			}
			if c.status == 405 && a.header.Get("Allow") != "POST" {
				t.Errorf("405 without Allow: POST")
			}
		})
	}
	if n := e.wx.Count(fakewx.EndpointJSCode2Session); n != 0 {
		t.Errorf("malformed requests reached WeChat %d times", n)
	}
}

func TestLogoutKillsTokenEverywhere(t *testing.T) {
	e := newEnv(t, "")
	tok := e.login("", "ok-alice")
	other := e.login("", "ok-alice.2") // the same user, another session
	e.do("GET", "/api", "", bearer(tok)...).upstream(t)

	if a := e.do("POST", "/wx/logout", "", bearer(tok)...); a.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", a.status, a.body)
	}
	for _, p := range []string{"/api", "/phone/x"} {
		if got := e.do("GET", p, "", bearer(tok)...).errorCode(t, 401); got != "invalid_token" {
			t.Errorf("%s after logout: %q", p, got)
		}
	}
	// on a require-none block the dead token is just anonymous
	up := e.do("GET", "/open/x", "", bearer(tok)...).upstream(t)
	if up.Headers.Get("X-WX-OpenID") != "" {
		t.Errorf("dead token still carries an identity on /open/")
	}
	if got := e.do("POST", "/wx/logout", "", bearer(tok)...).errorCode(t, 401); got != "invalid_token" {
		t.Errorf("second logout: %q", got)
	}
	if got := e.do("POST", "/wx/logout", "").errorCode(t, 401); got != "unauthorized" {
		t.Errorf("logout without token: %q", got)
	}
	if got := e.do("GET", "/wx/logout", "", bearer(other)...).errorCode(t, 405); got != "method_not_allowed" {
		t.Errorf("GET logout: %q", got)
	}
	// the user's other session lives on
	e.do("GET", "/api", "", bearer(other)...).upstream(t)
}

func TestBadTokensAreRefused(t *testing.T) {
	e := newEnv(t, "")
	good := e.login("", "ok-alice")
	cases := []struct {
		name string
		hdr  []string
		err  string
	}{
		{"none", nil, "unauthorized"},
		{"basic", []string{"Authorization", "Basic YWxpY2U6cHc="}, "unauthorized"},
		{"empty bearer", []string{"Authorization", "Bearer "}, "unauthorized"},
		{"junk", []string{"Authorization", "Bearer not-a-token"}, "invalid_token"},
		{"unknown", []string{"Authorization", "Bearer " + strings.Repeat("A", len(good))}, "invalid_token"},
		{"altered", []string{"Authorization", "Bearer " + flip(good)}, "invalid_token"},
		{"two headers", []string{"Authorization", "Bearer " + good, "Authorization", "Bearer " + good}, "invalid_token"},
		{"token in X-WX header", []string{"X-WX-Token", good}, "unauthorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.do("GET", "/api", "", c.hdr...)
			if got := a.errorCode(t, 401); got != c.err {
				t.Errorf("error %q, want %q", got, c.err)
			}
			if a.header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("WWW-Authenticate = %q", a.header.Get("WWW-Authenticate"))
			}
		})
	}
	// the scheme is case-insensitive
	e.do("GET", "/api", "", "Authorization", "bearer "+good).upstream(t)
}

func flip(tok string) string {
	b := []byte(tok)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestBlocksOfOneAppShareSessionsOtherAppsDoNot(t *testing.T) {
	e := newEnv(t, "")
	tokA := e.login("", "ok-alice")
	tokB := e.login("/b", "ok-alice")

	// app A's token works on every block of app A
	if got := e.do("GET", "/phone/x", "", bearer(tokA)...).errorCode(t, 403); got != "phone_required" {
		t.Errorf("/phone/ with A's token: %q", got)
	}
	up := e.do("GET", "/open/x", "", bearer(tokA)...).upstream(t)
	if up.Headers.Get("X-WX-OpenID") != fakewx.OpenID(appA, "alice") {
		t.Errorf("/open/ did not identify A's user")
	}
	// and never on app B's, and the other way round
	if got := e.do("GET", "/b/x", "", bearer(tokA)...).errorCode(t, 401); got != "invalid_token" {
		t.Errorf("app B took app A's token: %q", got)
	}
	if got := e.do("GET", "/api", "", bearer(tokB)...).errorCode(t, 401); got != "invalid_token" {
		t.Errorf("app A took app B's token: %q", got)
	}
	up = e.do("GET", "/b/x", "", bearer(tokB)...).upstream(t)
	if up.Headers.Get("X-WX-OpenID") != fakewx.OpenID(appB, "alice") {
		t.Errorf("app B's openid: %q", up.Headers.Get("X-WX-OpenID"))
	}
	// logging out on app B's block leaves A's session alone
	if a := e.do("POST", "/b/wx/logout", "", bearer(tokB)...); a.status != 204 {
		t.Fatalf("logout B: %d", a.status)
	}
	e.do("GET", "/api", "", bearer(tokA)...).upstream(t)
}

func TestConcurrentLoginsGetTheirOwnSessions(t *testing.T) {
	// 400 logins at once take longer than the default sites' 1 s WeChat
	// timeout on a loaded 2-core machine under -race: this test is about
	// sessions, not timeouts.
	e := newEnv(t, strings.ReplaceAll(defaultSites, "timeout 1s", "timeout 30s"))
	const n = 400
	type result struct {
		user, token, openid string
		err                 error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			user := fmt.Sprintf("user%d", i)
			r := &results[i]
			r.user = user
			tok, status, err := loginRaw(e, "ok-"+user)
			if err != nil || status != 200 {
				r.err = fmt.Errorf("login: %d %v", status, err)
				return
			}
			r.token = tok
			req, _ := http.NewRequest("GET", e.base+"/api/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := e.client.Do(req)
			if err != nil {
				r.err = err
				return
			}
			defer resp.Body.Close()
			up, err := decodeUpstream(resp)
			if err != nil {
				r.err = err
				return
			}
			r.openid = up.Headers.Get("X-WX-OpenID")
		}(i)
	}
	wg.Wait()
	tokens := map[string]bool{}
	for _, r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", r.user, r.err)
			continue
		}
		e.secret(r.token, "a session token")
		e.recordUserKeys(appA, r.user)
		if tokens[r.token] {
			t.Errorf("token issued twice")
		}
		tokens[r.token] = true
		if want := fakewx.OpenID(appA, r.user); r.openid != want {
			t.Errorf("%s got openid %q upstream, want %q", r.user, r.openid, want)
		}
	}
	if len(tokens) != n {
		t.Errorf("%d distinct tokens for %d logins", len(tokens), n)
	}
}
