package fakeqq

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/platform"
)

const (
	app    = "1112214148"
	secret = "qq-secret"
	wxApp  = "wxbeside00000001"
)

type answer struct {
	status int
	ctype  string
	body   string
	m      map[string]any
}

func (a answer) errcode() int { n, _ := a.m["errcode"].(float64); return int(n) }
func (a answer) str(k string) string {
	s, _ := a.m[k].(string)
	return s
}

type fixture struct {
	t   *testing.T
	qq  *Server
	wx  *fakewx.Server
	url string
}

// newFixture serves the QQ fake beside the WeChat fake on one mux, as the
// Caddy-level tests mount them.
func newFixture(t *testing.T) *fixture {
	qq := New(App{ID: app, Secret: secret})
	wx := fakewx.New(fakewx.Config{Apps: map[string]string{wxApp: "wx-secret"}})
	mux := http.NewServeMux()
	qq.Register(mux)
	mux.Handle("/", Route(wx, qq))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	t.Cleanup(qq.Close)
	t.Cleanup(wx.Close)
	return &fixture{t: t, qq: qq, wx: wx, url: ts.URL}
}

func (f *fixture) do(method, path string, body any) answer {
	f.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
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

func (f *fixture) login(appid, sec, code string) answer {
	f.t.Helper()
	q := url.Values{"appid": {appid}, "secret": {sec}, "js_code": {code}, "grant_type": {"authorization_code"}}
	return f.do("GET", "/sns/jscode2session?"+q.Encode(), nil)
}

func wantErrcode(t *testing.T, a answer, code int) {
	t.Helper()
	if a.status != 200 || a.errcode() != code || a.str("errmsg") == "" {
		t.Fatalf("HTTP %d %s, want HTTP 200 errcode %d", a.status, a.body, code)
	}
}

func TestLoginAnswers(t *testing.T) {
	f := newFixture(t)
	a := f.login(app, secret, "ok-alice.1")
	if a.status != 200 || a.ctype != typeText || a.str("openid") != OpenID(app, "alice") || a.m["unionid"] != nil {
		t.Fatalf("login: %d %s %s", a.status, a.ctype, a.body)
	}
	if cur, _ := f.qq.SessionKeys(app, OpenID(app, "alice")); cur != a.str("session_key") || len(a.str("openid")) != 32 {
		t.Fatalf("keys: %q", cur)
	}
	// every other success carries errcode 0
	b := f.login(app, secret, "ok-alice.2")
	if (a.m["errcode"] == nil) == (b.m["errcode"] == nil) || b.errcode() != 0 {
		t.Fatalf("errcode 0 not by turns: %s / %s", a.body, b.body)
	}
	same := f.login(app, secret, "same-alice.3")
	if same.str("session_key") != b.str("session_key") {
		t.Fatal("same- changed the key")
	}
	if cur, prev := f.qq.SessionKeys(app, OpenID(app, "alice")); cur != b.str("session_key") || prev != a.str("session_key") {
		t.Fatal("same- pushed the previous key out")
	}

	wantErrcode(t, f.login(app, secret, "ok-alice.1"), 40029) // reused: QQ has no 40163
	wantErrcode(t, f.login(app, "wrong", "ok-bob"), -101222100)
	wantErrcode(t, f.login(app, "", "ok-bob"), -101222100)
	wantErrcode(t, f.login("999999", secret, "ok-bob"), -101222100)
	if a := f.login(app, "wrong", "ok-bob.9"); strings.Contains(a.body, "wrong") {
		t.Fatalf("secret echoed: %s", a.body)
	}
	q := url.Values{"appid": {app}, "secret": {secret}, "js_code": {"ok-bob"}, "grant_type": {"client_credential"}}
	wantErrcode(t, f.do("GET", "/sns/jscode2session?"+q.Encode(), nil), -101222100)
	q.Set("grant_type", "authorization_code")
	wantErrcode(t, f.do("POST", "/sns/jscode2session?"+q.Encode(), nil), -101222100)
	// only the query is read: the code in a body is no code
	wantErrcode(t, f.do("GET", "/sns/jscode2session?appid="+app+"&secret="+secret+"&grant_type=authorization_code", "js_code=ok-bob"), 40029)

	code := f.qq.MintCode(app, "carol")
	f.qq.Advance(CodeTTL - time.Second)
	if a := f.login(app, secret, code); a.str("openid") != OpenID(app, "carol") {
		t.Fatalf("fresh minted code: %s", a.body)
	}
	code = f.qq.MintCode(app, "carol")
	f.qq.Advance(CodeTTL)
	wantErrcode(t, f.login(app, secret, code), 40029)

	wantErrcode(t, f.login(app, secret, "busy-1"), -1)
	wantErrcode(t, f.login(app, secret, "limit-1"), 45011)
	wantErrcode(t, f.login(app, secret, "bad-1"), 40029)
	if a := f.login(app, secret, "http500-1"); a.status != 500 {
		t.Errorf("http500: %d", a.status)
	}
	if a := f.login(app, secret, "html-1"); a.status != 200 || a.ctype != typeHTML {
		t.Errorf("html: %d %s", a.status, a.ctype)
	}
	if a := f.login(app, secret, "nokey-dave"); a.str("openid") == "" || a.m["session_key"] != nil {
		t.Errorf("nokey: %s", a.body)
	}
	if n := f.qq.Count(EndpointLogin); n < 15 || f.wx.Count(fakewx.EndpointJSCode2Session) != 0 {
		t.Errorf("counts: qq %d, wechat %d", n, f.wx.Count(fakewx.EndpointJSCode2Session))
	}
}

func TestRouteBesideWeChat(t *testing.T) {
	f := newFixture(t)
	a := f.login(wxApp, "wx-secret", "ok-alice")
	if a.str("openid") != fakewx.OpenID(wxApp, "alice") || f.wx.Count(fakewx.EndpointJSCode2Session) != 1 || f.qq.Count(EndpointLogin) != 0 {
		t.Fatalf("a WeChat login went astray: %s", a.body)
	}
	if a := f.do("GET", "/fake/stats", nil); a.status != 200 {
		t.Fatalf("fakewx's controls: %d", a.status)
	}
	if a := f.do("GET", "/fake/qq/stats", nil); a.status != 200 || a.m[EndpointLogin] != float64(0) {
		t.Fatalf("qq stats: %s", a.body)
	}
}

func TestGetToken(t *testing.T) {
	f := newFixture(t)
	get := func(q url.Values) answer { return f.do("GET", "/api/getToken?"+q.Encode(), nil) }
	q := url.Values{"grant_type": {"client_credential"}, "appid": {app}, "secret": {secret}}
	a := get(q)
	if a.status != 200 || a.errcode() != 0 || a.str("errmsg") != "ok" || a.m["expires_in"] != float64(7200) || len(a.str("access_token")) < 32 {
		t.Fatalf("getToken: %s", a.body)
	}
	first := a.str("access_token")
	f.qq.Advance(time.Hour)
	second := get(q).str("access_token")
	if second == first {
		t.Fatal("a new fetch answered the same token")
	}
	if _, alive := f.qq.TokenApp(first); !alive {
		t.Fatal("the previous token died at once")
	}
	f.qq.Advance(TokenOverlap)
	if _, alive := f.qq.TokenApp(first); alive {
		t.Fatal("the previous token outlived the overlap")
	}
	if id, alive := f.qq.TokenApp(second); !alive || id != app {
		t.Fatal("the new token died")
	}

	bad := url.Values{"grant_type": {"authorization_code"}, "appid": {app}, "secret": {secret}}
	wantErrcode(t, get(bad), 40002)
	bad = url.Values{"grant_type": {"client_credential"}, "appid": {"999999"}, "secret": {secret}}
	wantErrcode(t, get(bad), 40013)
	bad = url.Values{"grant_type": {"client_credential"}, "appid": {app}, "secret": {"wrong"}}
	wantErrcode(t, get(bad), 40001)
	f.qq.Force(EndpointGetToken, ModeBusy)
	f.qq.Force(EndpointGetToken, ModeLimit)
	if a := f.login(app, secret, "ok-bob"); a.errcode() != 0 {
		t.Fatalf("a force of getToken forced a login: %s", a.body)
	}
	wantErrcode(t, get(q), -1)
	wantErrcode(t, get(q), 45011)
	if a := get(q); a.errcode() != 0 {
		t.Fatalf("Force lasted: %s", a.body)
	}
	if f.qq.Count(EndpointGetToken) != 8 {
		t.Errorf("count %d", f.qq.Count(EndpointGetToken))
	}
}

func TestControlsOverHTTP(t *testing.T) {
	f := newFixture(t)
	a := f.do("POST", "/fake/qq/code", map[string]string{"user": "alice"})
	code := a.str("code")
	if a.status != 200 || code == "" {
		t.Fatalf("mint: %s", a.body)
	}
	if f.do("POST", "/fake/qq/encrypt", map[string]string{"user": "alice", "phone": "13800138000"}).status != 404 {
		t.Fatal("sealing before a login")
	}
	login := f.login(app, secret, code)
	key := login.str("session_key")
	a = f.do("POST", "/fake/qq/encrypt", map[string]string{"app_id": app, "user": "alice", "phone": "13800138000"})
	plain, err := platform.OpenCBC(key, a.str("iv"), a.str("encryptedData"), 16, 16)
	if err != nil {
		t.Fatalf("seal: %s: %v", a.body, err)
	}
	var p phonePayload
	if json.Unmarshal(plain, &p) != nil || p.PurePhoneNumber != "13800138000" || p.CountryCode != "86" || p.Watermark.AppID != app {
		t.Fatalf("sealed %s", plain)
	}
	a = f.do("POST", "/fake/qq/encrypt", `{"user": "alice", "payload": {"nickName": "a"}}`)
	if plain, err := platform.OpenCBC(key, a.str("iv"), a.str("encryptedData"), 16, 16); err != nil || string(plain) != `{"nickName": "a"}` {
		t.Fatalf("payload: %s %v", plain, err)
	}

	if a := f.do("POST", "/fake/qq/force?endpoint=jscode2session&mode=limit", nil); a.status != 204 {
		t.Fatalf("force: %d", a.status)
	}
	wantErrcode(t, f.login(app, secret, "ok-bob"), 45011)
	if a := f.do("POST", "/fake/qq/advance?by=5m", nil); a.status != 204 {
		t.Fatalf("advance: %d", a.status)
	}
	if a := f.do("GET", "/fake/qq/stats", nil); a.m[EndpointLogin] != float64(2) {
		t.Fatalf("stats: %s", a.body)
	}
	if a := f.do("POST", "/fake/qq/reset_counts", nil); a.status != 204 || f.qq.Count(EndpointLogin) != 0 {
		t.Fatal("reset_counts")
	}
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/fake/qq/force?endpoint=jscode2session&mode=explode", nil, 400},
		{"POST", "/fake/qq/force?endpoint=checksession&mode=busy", nil, 400},
		{"POST", "/fake/qq/advance?by=soon", nil, 400},
		{"POST", "/fake/qq/code", map[string]string{"user": "a b"}, 400},
		{"POST", "/fake/qq/code", map[string]string{"app_id": "999999", "user": "a"}, 404},
		{"POST", "/fake/qq/encrypt", "nope", 400},
		{"POST", "/fake/qq/encrypt", map[string]string{"user": "alice"}, 400},
		{"GET", "/fake/qq/code", nil, 405},
		{"POST", "/fake/qq/stats", nil, 405},
		{"POST", "/fake/qq/nothing", nil, 404},
	} {
		if a := f.do(tc.method, tc.path, tc.body); a.status != tc.status || a.str("error") == "" {
			t.Errorf("%s %s: %d %s, want %d with an error", tc.method, tc.path, a.status, a.body, tc.status)
		}
	}
}

func TestHangReleasedByClose(t *testing.T) {
	qq := New(App{ID: app, Secret: secret})
	ts := httptest.NewServer(qq)
	defer ts.Close()
	done := make(chan int)
	go func() {
		resp, err := http.Get(ts.URL + "/sns/jscode2session?appid=" + app + "&secret=" + secret + "&js_code=hang-1&grant_type=authorization_code")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	// Once the request has arrived, Close releases it (or answers it at
	// once, if it comes before the wait).
	for qq.Count(EndpointLogin) == 0 {
		time.Sleep(time.Millisecond)
	}
	qq.Close()
	select {
	case st := <-done:
		if st != http.StatusServiceUnavailable {
			t.Fatalf("released hang: %d", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hanging request")
	}
}
