package wechatauth_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// phoneAnswer checks a 200 from /wx/phone.
func phoneAnswer(t *testing.T, a answer, number, pure, cc string) {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("phone: %d %s", a.status, a.body)
	}
	m := a.json(t)
	if m["phone_number"] != number || m["pure_phone_number"] != pure || m["country_code"] != cc {
		t.Errorf("phone answer %s, want %s / %s / %s", a.body, number, pure, cc)
	}
}

func TestPhoneByCodeBindsThePhone(t *testing.T) {
	e := newEnv(t, "")
	e.secret("13800138000", "a full phone number")
	e.secret("2025550123", "a full phone number")
	tok := e.login("", "ok-alice")
	if got := e.do("GET", "/phone/x", "", bearer(tok)...).errorCode(t, 403); got != "phone_required" {
		t.Fatalf("before binding: %q", got)
	}

	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...),
		"13800138000", "13800138000", "86")
	for _, p := range []string{"/phone/x", "/api/x", "/open/x"} {
		up := e.do("GET", p, "", bearer(tok)...).upstream(t)
		if up.Headers.Get("X-WX-Phone") != "13800138000" || up.Headers.Get("X-WX-Phone-Country") != "86" {
			t.Errorf("%s: phone headers %q %q", p, up.Headers.Get("X-WX-Phone"), up.Headers.Get("X-WX-Phone-Country"))
		}
		if up.Headers.Get("X-WX-OpenID") != fakewx.OpenID(appA, "alice") {
			t.Errorf("%s: openid lost", p)
		}
	}
	// the phone belongs to the user: their next login starts with it
	other := e.login("", "ok-alice.2")
	if up := e.do("GET", "/phone/x", "", bearer(other)...).upstream(t); up.Headers.Get("X-WX-Phone") != "13800138000" {
		t.Errorf("another session of the user lacks the phone: %v", up.Headers)
	}

	// an international number, countryCode as a JSON number
	tok2 := e.login("", "ok-bob")
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phonenum-2025550123-1"}`, bearer(tok2)...),
		"+1 2025550123", "2025550123", "1")
	up := e.do("GET", "/phone/x", "", bearer(tok2)...).upstream(t)
	if up.Headers.Get("X-WX-Phone") != "2025550123" || up.Headers.Get("X-WX-Phone-Country") != "1" {
		t.Errorf("international phone headers %v", up.Headers)
	}
	log := e.logText()
	if !strings.Contains(log, "138****8000") || !strings.Contains(log, "202***0123") {
		t.Errorf("the log lacks the masked phones")
	}
	if n := e.wx.Count(fakewx.EndpointToken); n != 0 {
		t.Errorf("the old /cgi-bin/token was called %d times", n)
	}
}

func TestPhoneErrors(t *testing.T) {
	t.Parallel()
	e := newEnvOpts(t, "", envOptions{Process: true})
	tok := e.login("", "ok-alice")
	auth := bearer(tok)
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13900139000.used"}`, auth...), "13900139000", "13900139000", "86")
	e.secret("13900139000", "a full phone number")
	cases := []struct {
		name, method, body string
		hdr                []string
		status             int
		err                string
	}{
		{"no token", "POST", `{"code":"phone-1"}`, nil, 401, "unauthorized"},
		{"bad token", "POST", `{"code":"phone-1"}`, bearer(flip(tok)), 401, "invalid_token"},
		{"GET", "GET", ``, auth, 405, "method_not_allowed"},
		{"not json", "POST", `code=1`, auth, 400, "invalid_json"},
		{"code not a string", "POST", `{"code":5}`, auth, 400, "missing_phone_data"},
		{"nothing", "POST", `{}`, auth, 400, "missing_phone_data"},
		{"iv without data", "POST", `{"iv":"AAAAAAAAAAAAAAAAAAAAAA=="}`, auth, 400, "missing_phone_data"},
		{"too large", "POST", `{"encryptedData":"` + strings.Repeat("A", 70<<10) + `","iv":"x"}`, auth, 413, "body_too_large"},
		{"bad code", "POST", `{"code":"bad-1"}`, auth, 400, "invalid_phone_code"},
		{"reused code", "POST", `{"code":"phone-13900139000.used"}`, auth, 400, "invalid_phone_code"},
		{"busy", "POST", `{"code":"busy-1"}`, auth, 503, "wechat_busy"},
		{"rate limit", "POST", `{"code":"limit-1"}`, auth, 429, "rate_limited"},
		{"slow", "POST", `{"code":"slow-3000-13800138000"}`, auth, 504, "wechat_timeout"},
		{"hang", "POST", `{"code":"hang-1"}`, auth, 504, "wechat_timeout"},
		{"http 500", "POST", `{"code":"http500-1"}`, auth, 502, "wechat_bad_response"},
		{"html", "POST", `{"code":"html-1"}`, auth, 502, "wechat_bad_response"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.do(c.method, "/wx/phone", c.body, c.hdr...)
			if got := a.errorCode(t, c.status); got != c.err {
				t.Errorf("error %q, want %q", got, c.err)
			}
		})
	}
	// none of that bound anything new, nor broke the session
	up := e.do("GET", "/phone/x", "", auth...).upstream(t)
	if up.Headers.Get("X-WX-Phone") != "13900139000" {
		t.Errorf("phone after failures: %q", up.Headers.Get("X-WX-Phone"))
	}
}

func TestAccessTokenIsCachedAndSingleFlight(t *testing.T) {
	// The default sites with a 10 s WeChat timeout: 40 calls at once on a
	// loaded machine can take longer than their 1 s, and what is tested
	// here is how many token fetches they cost, not the timeout.
	e := newEnv(t, strings.ReplaceAll(defaultSites, "timeout 1s", "timeout 10s"))
	tok := e.login("", "ok-alice")
	e.wx.ResetCounts()
	for i := 0; i < 10; i++ {
		phoneAnswer(t, e.do("POST", "/wx/phone", fmt.Sprintf(`{"code":"phone-1380013800%d.%d"}`, i, i), bearer(tok)...),
			fmt.Sprintf("1380013800%d", i), fmt.Sprintf("1380013800%d", i), "86")
		e.secret(fmt.Sprintf("1380013800%d", i), "a full phone number")
	}
	if n := e.wx.Count(fakewx.EndpointStableToken); n != 1 {
		t.Errorf("10 phone calls cost %d token fetches, want 1", n)
	}

	// the token dies; 40 concurrent calls find out together
	e.wx.ExpireToken(appA)
	e.wx.ResetCounts()
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, _ := http.NewRequest("POST", e.base+"/wx/phone", strings.NewReader(fmt.Sprintf(`{"code":"phone-139%08d"}`, i)))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := e.client.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Sprintf("status %d", resp.StatusCode)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("phone call after the token died: %s", err)
	}
	for i := 0; i < n; i++ {
		e.secret(fmt.Sprintf("139%08d", i), "a full phone number")
	}
	if got := e.wx.Count(fakewx.EndpointStableToken); got < 1 || got > 3 {
		t.Errorf("40 calls on a dead token cost %d token fetches, want 1 to 3", got)
	}
	if got := e.wx.Count(fakewx.EndpointStableTokenForce); got != 0 {
		t.Errorf("%d force refreshes: they would kill the token of every other server", got)
	}
	if got := e.wx.Count(fakewx.EndpointToken); got != 0 {
		t.Errorf("the old /cgi-bin/token was called %d times", got)
	}
}

func TestAccessTokenRefusedForBadSecret(t *testing.T) {
	const wrong = "not-the-secret-of-app-a"
	e := newEnv(t, `
http://127.0.0.1:{{.Port}} {
	handle_path /bad/* {
		wechat_auth {
			app_id {{.AppA}}
			app_secret `+wrong+`
			api_base {{.WeChat}}
			session_ttl 2h
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
		}
		reverse_proxy {{.Upstream}}
	}
}`)
	e.secret(wrong, "the wrong app_secret")
	tok := e.login("", "ok-alice") // the blocks share the app's sessions
	a := e.do("POST", "/bad/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...)
	if got := a.errorCode(t, http.StatusBadGateway); got != "wechat_config_error" {
		t.Errorf("error %q", got)
	}
	if !strings.Contains(e.logText(), `"errcode":40125`) {
		t.Errorf("the log does not say WeChat refused the secret")
	}
}

// legacy flow ---------------------------------------------------------------

func encrypted(t *testing.T, e *env, user, pure, cc, watermark string) string {
	t.Helper()
	data, iv, err := e.wx.EncryptPhone(appA, fakewx.OpenID(appA, user), pure, cc, watermark)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`{"encryptedData":%q,"iv":%q}`, data, iv)
}

func TestPhoneByDecryption(t *testing.T) {
	e := newEnv(t, "")
	e.secret("13800138000", "a full phone number")
	e.secret("447700900123", "a full phone number")
	tok := e.login("", "ok-alice")
	phoneAnswer(t, e.do("POST", "/wx/phone", encrypted(t, e, "alice", "13800138000", "86", appA), bearer(tok)...),
		"13800138000", "13800138000", "86")
	up := e.do("GET", "/phone/x", "", bearer(tok)...).upstream(t)
	if up.Headers.Get("X-WX-Phone") != "13800138000" || up.Headers.Get("X-WX-Phone-Country") != "86" {
		t.Errorf("phone headers %v", up.Headers)
	}
	tokB := e.login("", "ok-bob")
	phoneAnswer(t, e.do("POST", "/wx/phone", encrypted(t, e, "bob", "447700900123", "44", appA), bearer(tokB)...),
		"+44 447700900123", "447700900123", "44")
	if n := e.wx.Count(fakewx.EndpointStableToken); n != 0 {
		t.Errorf("decryption fetched an access_token %d times", n)
	}
}

func TestDecryptionUsesTheUsersNewestThenPreviousKey(t *testing.T) {
	e := newEnv(t, "")
	e.secret("13800138000", "a full phone number")
	tok1 := e.login("", "ok-alice.1")

	// the client pressed the button (data sealed with key 1), then logged
	// in again (key 2) before uploading with its old token
	sealed1 := encrypted(t, e, "alice", "13800138000", "86", appA)
	tok2 := e.login("", "ok-alice.2")
	phoneAnswer(t, e.do("POST", "/wx/phone", sealed1, bearer(tok1)...), "13800138000", "13800138000", "86")

	// data sealed with the newest key works from the older session too:
	// WeChat keeps one key per user, not per login
	sealed2 := encrypted(t, e, "alice", "13800138000", "86", appA)
	phoneAnswer(t, e.do("POST", "/wx/phone", sealed2, bearer(tok1)...), "13800138000", "13800138000", "86")
	phoneAnswer(t, e.do("POST", "/wx/phone", sealed2, bearer(tok2)...), "13800138000", "13800138000", "86")

	// two logins later, key 1 is gone
	e.login("", "ok-alice.3")
	if got := e.do("POST", "/wx/phone", sealed1, bearer(tok2)...).errorCode(t, 400); got != "undecryptable_data" {
		t.Errorf("data of a key two logins old: %q", got)
	}
}

func TestDecryptionRefusesBadPayloads(t *testing.T) {
	e := newEnv(t, "")
	tok := e.login("", "ok-alice")
	auth := bearer(tok)
	openid := fakewx.OpenID(appA, "alice")
	key, _ := e.wx.SessionKeys(appA, openid)

	data, iv, err := e.wx.EncryptPhone(appA, openid, "13800138000", "86", appA)
	if err != nil {
		t.Fatal(err)
	}
	e.secret("13800138000", "a full phone number")
	raw, _ := base64.StdEncoding.DecodeString(data)
	tamper := func(i int) string {
		b := append([]byte{}, raw...)
		b[i] ^= 0x41
		return base64.StdEncoding.EncodeToString(b)
	}
	ivRaw, _ := base64.StdEncoding.DecodeString(iv)
	wrongIV := append([]byte{}, ivRaw...)
	wrongIV[0] ^= 0xff
	userInfo, uiIV, _ := fakewx.Encrypt(key, []byte(`{"openId":"`+openid+`","nickName":"Secret Nick","watermark":{"appid":"`+appA+`","timestamp":1}}`))
	notJSON, njIV, _ := fakewx.Encrypt(key, []byte(`this is not json at all`))
	foreign := encrypted(t, e, "alice", "13800138000", "86", "wxsomeoneelse00")

	body := func(d, i string) string { return fmt.Sprintf(`{"encryptedData":%q,"iv":%q}`, d, i) }
	cases := []struct {
		name, body string
		status     int
		err        string
	}{
		{"tampered last block", body(tamper(len(raw)-1), iv), 400, "undecryptable_data"},
		{"tampered first block", body(tamper(3), iv), 400, "undecryptable_data"},
		{"wrong iv", body(data, base64.StdEncoding.EncodeToString(wrongIV)), 400, "undecryptable_data"},
		{"short iv", body(data, base64.StdEncoding.EncodeToString(ivRaw[:8])), 400, "malformed_encrypted_data"},
		{"iv not base64", body(data, "!!notbase64!!"), 400, "malformed_encrypted_data"},
		{"data not base64", body("@@@@", iv), 400, "malformed_encrypted_data"},
		{"data not whole blocks", body(base64.StdEncoding.EncodeToString(raw[:len(raw)-5]), iv), 400, "malformed_encrypted_data"},
		{"not json inside", body(notJSON, njIV), 400, "undecryptable_data"},
		{"user info, no phone", body(userInfo, uiIV), 400, "no_phone_number"},
		{"another app's watermark", foreign, 403, "watermark_mismatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.do("POST", "/wx/phone", c.body, auth...)
			if got := a.errorCode(t, c.status); got != c.err {
				t.Errorf("error %q, want %q", got, c.err)
			}
			if strings.Contains(string(a.body), "Secret Nick") || strings.Contains(string(a.body), openid) {
				t.Errorf("error echoes decrypted data: %s", a.body)
			}
		})
	}
	if got := e.do("GET", "/phone/x", "", auth...).errorCode(t, 403); got != "phone_required" {
		t.Errorf("a refused payload bound a phone: %q", got)
	}
	if strings.Contains(e.logText(), "Secret Nick") {
		t.Errorf("decrypted user data in the log")
	}
}

// WeChat's published vector decrypts to user info without a phone: with
// the vector's session_key, /wx/phone must refuse it, echoing nothing.
func TestOfficialVectorIsRefusedAsNoPhone(t *testing.T) {
	const (
		key  = "tiihtNczf5v6AKRyjwEUhQ=="
		iv   = "r7BXXKkLb8qrSNn05n0qiA=="
		data = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
	)
	e := newEnv(t, `
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		app_id `+appVector+`
		app_secret `+secretVector+`
		api_base {{.WeChat}}
	}
	reverse_proxy {{.Upstream}}
}`)
	e.wx.SetNextSessionKey(appVector, fakewx.OpenID(appVector, "vector"), key)
	e.secret(key, "the vector's session_key")
	tok := e.login("", "ok-vector")
	a := e.do("POST", "/wx/phone", fmt.Sprintf(`{"encryptedData":%q,"iv":%q}`, data, iv), bearer(tok)...)
	if got := a.errorCode(t, 400); got != "no_phone_number" {
		t.Errorf("error %q, want no_phone_number", got)
	}
	for _, leak := range []string{"oGZUI0egBJY1zhBYw2KhdUfwVJJE", "Band", "Guangzhou", "1477314187"} {
		if strings.Contains(string(a.body), leak) {
			t.Errorf("the answer echoes decrypted data %q: %s", leak, a.body)
		}
	}
}
