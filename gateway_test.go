package wechatauth_test

// The Open API gateway (wechat_api) through a real Caddy: a second site
// on its own loopback listener, as the README shows it, against the fake
// WeChat.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	wechatauth "github.com/wechat-auth/wechat_auth"
	"github.com/wechat-auth/wechat_auth/internal/echoserver"
	fakeworld "github.com/wechat-auth/wechat_auth/internal/fake/world"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// gatewaySite is the gateway as the README recommends it: on an internal
// listener, its access log filtered so that a client's access_token in
// the query is never written.
const gatewaySite = `
http://127.0.0.1:{{.GatewayPort}} {
	log {
		output file {{.AccessLog}}
		format filter {
			wrap json
			fields {
				request>uri query {
					delete access_token
					delete cloudbase_access_token
				}
			}
		}
	}
	wechat_api {
		{{template "appACreds" .}}
	}
}
`

// appSite is app A's public site, with metrics.
const appSite = `
http://127.0.0.1:{{.Port}} {
	handle /metrics {
		metrics
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
		}
		reverse_proxy {{.Upstream}}
	}
}
`

// gw is a test's world with a gateway in it.
type gw struct {
	*env
	url       string // the gateway site, http://127.0.0.1:port
	port      int
	accessLog string
}

// newGateway starts the env with sites, in which {{.GatewayPort}} and
// {{.AccessLog}} name the gateway's listener and access log.
func newGateway(t *testing.T, sites string) *gw {
	t.Helper()
	g := &gw{port: freePort(t), accessLog: filepath.Join(t.TempDir(), "access.log")}
	g.url = fmt.Sprintf("http://127.0.0.1:%d", g.port)
	g.env = newEnv(t, g.fill(sites))
	waitListening(t, strings.TrimPrefix(g.url, "http://"))
	t.Cleanup(g.checkAccessLog) // runs before the env's own checks
	return g
}

func (g *gw) fill(s string) string {
	return strings.NewReplacer("{{.GatewayPort}}", strconv.Itoa(g.port), "{{.AccessLog}}", g.accessLog).Replace(s)
}

// call sends a request to the gateway; hdr is name, value, ...
func (g *gw) call(method, path, body string, hdr ...string) answer {
	g.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, g.url+path, rd)
	if err != nil {
		g.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	a := g.send(req)
	g.secret(g.wx.AccessToken(appA), "an access_token")
	return a
}

// errcode is the errcode of a WeChat answer that came through.
func (a answer) errcode(t *testing.T) int {
	t.Helper()
	var m struct {
		Errcode *int `json:"errcode"`
	}
	if err := json.Unmarshal(a.body, &m); err != nil || m.Errcode == nil {
		t.Fatalf("not a WeChat answer: %d %q", a.status, a.body)
	}
	return *m.Errcode
}

// checkAccessLog: the gateway's access log shows its requests, but no
// access_token, whether the gateway's or one a client sent.
func (g *gw) checkAccessLog() {
	g.t.Helper()
	raw, err := os.ReadFile(g.accessLog)
	if err != nil {
		g.t.Errorf("reading the access log: %v", err)
		return
	}
	if !bytes.Contains(raw, []byte(`"uri":"/`)) {
		g.t.Errorf("the access log has no request: the grep proves nothing")
	}
	g.recordSessionKeys()
	g.mu.Lock()
	defer g.mu.Unlock()
	for value, what := range g.secrets {
		if bytes.Contains(raw, []byte(value)) {
			g.t.Errorf("the access log contains %s (%q)", what, value)
		}
	}
}

// A backend calls WeChat through the gateway with no token, or a forged
// one: the call reaches WeChat with the app's token, the query and body
// as sent, and WeChat's answer comes back as WeChat gave it.
func TestGatewayForwardsWithTheAppsToken(t *testing.T) {
	g := newGateway(t, appSite+gatewaySite)
	const forged = "forged-token-0123456789"
	g.secret(forged, "a client's access_token")

	a := g.call("POST", "/wxa/msg_sec_check?access_token="+forged+"&z=1&a=%20b&access_token=again",
		`{"content":"hello world","version":2,"scene":2,"openid":"oX"}`, "Content-Type", "application/json",
		"Authorization", "Bearer not-for-wechat", "Cookie", "c=1", "X-WX-OpenID", "oSpoof")
	if a.status != 200 || a.errcode(t) != 0 || !strings.Contains(string(a.body), `"suggest":"pass"`) {
		t.Fatalf("answer %d %s", a.status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json; encoding=utf-8" {
		t.Errorf("Content-Type %q, want WeChat's own", ct)
	}
	seen := g.wx.LastSeen(fakewx.EndpointMsgSecCheck)
	token := g.wx.AccessToken(appA)
	if want := "z=1&a=%20b&access_token=" + url.QueryEscape(token); seen.RawQuery != want {
		t.Errorf("WeChat got the query %q, want %q", seen.RawQuery, want)
	}
	if seen.Method != "POST" || seen.ContentType != "application/json" ||
		string(seen.Body) != `{"content":"hello world","version":2,"scene":2,"openid":"oX"}` {
		t.Errorf("WeChat got %+v", seen)
	}

	// WeChat's refusals come back as they are: status 200, errcode
	a = g.call("POST", "/wxa/msg_sec_check", `{"content":"a risky text"}`)
	if a.status != 200 || a.errcode(t) != 87014 {
		t.Errorf("risky: %d %s", a.status, a.body)
	}
	if got := g.wx.LastSeen(fakewx.EndpointMsgSecCheck).RawQuery; got != "access_token="+url.QueryEscape(token) {
		t.Errorf("no query: WeChat got %q", got)
	}

	// one token for the app: wechat_auth's phone call and the gateway's
	// share it, fetched once
	tok := g.login("", "ok-alice")
	if a := g.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...); a.status != 200 {
		t.Fatalf("phone: %d %s", a.status, a.body)
	}
	g.secret("13800138000", "a full phone number")
	if n := g.wx.Count(fakewx.EndpointStableToken); n != 1 {
		t.Errorf("%d stable_token fetches for one app, want 1", n)
	}
	if n := g.wx.Count(fakewx.EndpointToken); n != 0 {
		t.Errorf("the old /cgi-bin/token was called %d times", n)
	}
}

// A dead token (expired: 42001; killed by a force_refresh elsewhere:
// 40001) is dropped, another fetched, and the call repeated once with the
// same body; the client sees only the good answer.
func TestGatewayRetriesOnceOnADeadToken(t *testing.T) {
	g := newGateway(t, appSite+gatewaySite)
	scrape := func() string { return string(g.do("GET", "/metrics", "").body) }
	body := `{"content":"hello","version":2,"scene":1,"openid":"oX"}`
	if a := g.call("POST", "/wxa/msg_sec_check", body); a.errcode(t) != 0 {
		t.Fatalf("first call: %s", a.body)
	}
	before := scrape()
	first := g.wx.AccessToken(appA)

	resp, err := http.Post(g.wxURL+"/fake/expire_token?appid="+appA, "", nil)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("expire_token: %v %v", resp, err)
	}
	calls := g.wx.Count(fakewx.EndpointMsgSecCheck)
	if a := g.call("POST", "/wxa/msg_sec_check", body); a.status != 200 || a.errcode(t) != 0 {
		t.Fatalf("after expiry: %d %s", a.status, a.body)
	}
	if n := g.wx.Count(fakewx.EndpointMsgSecCheck) - calls; n != 2 {
		t.Errorf("%d calls reached WeChat, want 2 (the expired one, the retry)", n)
	}
	second := g.wx.AccessToken(appA)
	if second == first {
		t.Fatal("the fake kept the token")
	}
	if seen := g.wx.LastSeen(fakewx.EndpointMsgSecCheck); string(seen.Body) != body || !strings.Contains(seen.RawQuery, url.QueryEscape(second)) {
		t.Errorf("the retry sent %+v", seen)
	}

	// another server force-refreshes: our token is killed (40001)
	killer := fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":%q,"force_refresh":true}`, appA, secretA)
	if resp, err := http.Post(g.wxURL+"/cgi-bin/stable_token", "application/json", strings.NewReader(killer)); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	if a := g.call("POST", "/wxa/getwxacodeunlimit", `{"scene":"a=1"}`); a.status != 200 || a.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("after a force refresh elsewhere: %d %s", a.status, a.header.Get("Content-Type"))
	}

	after := scrape()
	delta := func(name string, labels ...string) float64 {
		return metricValue(after, name, labels...) - metricValue(before, name, labels...)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"caddy_wechat_api_retries_total", []string{"app_id", appA}, 2},
		{"caddy_wechat_api_token_refreshes_total", []string{"app_id", appA}, 2},
		{"caddy_wechat_api_calls_total", []string{"app_id", appA, "path", "/wxa/msg_sec_check", "errcode", "0"}, 1},
		{"caddy_wechat_api_calls_total", []string{"app_id", appA, "path", "/wxa/getwxacodeunlimit", "errcode", "none"}, 1},
		{"caddy_wechat_auth_access_token_fetches_total", []string{"app_id", appA, "outcome", "ok"}, 2},
	} {
		if got := delta(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v went up by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// A binary answer (a mini program code image) comes back byte for byte,
// with WeChat's Content-Type; so does a JSON error of the same API.
func TestGatewayBinaryAnswerIsUnchanged(t *testing.T) {
	g := newGateway(t, appSite+gatewaySite)
	for _, width := range []int{0, 1280} {
		a := g.call("POST", "/wxa/getwxacodeunlimit", fmt.Sprintf(`{"scene":"id=42","page":"pages/index/index","width":%d}`, width))
		want := fakewx.WxaCode(appA, "id=42", "pages/index/index", width)
		if a.status != 200 || a.header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(a.body, want) {
			t.Errorf("width %d: %d %q, %d bytes (want %d)", width, a.status, a.header.Get("Content-Type"), len(a.body), len(want))
		}
	}
	a := g.call("POST", "/wxa/getwxacodeunlimit", `{"scene":""}`)
	if a.status != 200 || a.errcode(t) != 40169 || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Errorf("error answer: %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
}

// Bodies are kept for the retry up to 10 MiB: one byte more is refused
// with 413 before anything reaches WeChat, with or without a length.
func TestGatewayBodyOver10MiBIs413(t *testing.T) {
	g := newGateway(t, appSite+gatewaySite)
	const limit = 10 << 20
	calls := g.wx.Count(fakewx.EndpointMsgSecCheck)

	if got := g.call("POST", "/wxa/msg_sec_check", strings.Repeat("x", limit+1)).errorCode(t, 413); got != "body_too_large" {
		t.Errorf("over the limit: %q", got)
	}
	req, _ := http.NewRequest("POST", g.url+"/wxa/msg_sec_check", io.MultiReader(strings.NewReader(strings.Repeat("y", limit)), strings.NewReader("!")))
	req.ContentLength = -1 // chunked: the gateway counts as it reads
	if got := g.send(req).errorCode(t, 413); got != "body_too_large" {
		t.Errorf("chunked, over the limit: %q", got)
	}
	if n := g.wx.Count(fakewx.EndpointMsgSecCheck); n != calls {
		t.Errorf("a refused body reached WeChat (%d calls)", n-calls)
	}
	// exactly the limit goes through (the fake finds it is no JSON)
	if a := g.call("POST", "/wxa/msg_sec_check", strings.Repeat("x", limit)); a.status != 200 || a.errcode(t) != 47001 {
		t.Errorf("at the limit: %d %s", a.status, a.body)
	}
}

// Only allow_from may call: by default loopback and the private ranges.
// The address is Caddy's client IP: a forwarded address counts only from
// a trusted proxy.
func TestGatewayAllowFrom(t *testing.T) {
	g := newGateway(t, gatewaySite+`
http://127.0.0.1:{{.Port}} {
	wechat_api {
		{{template "appACreds" .}}
		allow_from 10.0.0.0/8 192.168.0.0/16
	}
}
`)
	check := func(t *testing.T, a answer, allowed bool) {
		t.Helper()
		if !allowed {
			if got := a.errorCode(t, 403); got != "address_not_allowed" {
				t.Errorf("error %q", got)
			}
			return
		}
		if a.status != 200 || a.errcode(t) != 0 {
			t.Errorf("refused: %d %s", a.status, a.body)
		}
	}
	const body = `{"content":"hello"}`
	stats := func() int { return g.wx.Count(fakewx.EndpointMsgSecCheck) + g.wx.Count(fakewx.EndpointStableToken) }

	// the default: loopback is in; a forwarded address is ignored
	// without trusted_proxies
	check(t, g.call("POST", "/wxa/msg_sec_check", body), true)
	check(t, g.call("POST", "/wxa/msg_sec_check", body, "X-Forwarded-For", "203.0.113.9"), true)

	// a config without loopback refuses it, and nothing reaches WeChat
	before := stats()
	check(t, g.do("POST", "/wxa/msg_sec_check", body), false)
	check(t, g.do("GET", "/cgi-bin/get_api_domain_ip", "", "X-Forwarded-For", "10.1.2.3"), false)
	if n := stats() - before; n != 0 {
		t.Errorf("a refused request reached WeChat (%d calls)", n)
	}

	// behind a trusted proxy, the forwarded address is the client's
	g.loadWith(strings.Replace(globalOptions, "\tservers {\n", "\tservers {\n\t\ttrusted_proxies static 127.0.0.1/32\n", 1), gatewaySite+`
http://127.0.0.1:{{.Port}} {
	wechat_api {
		{{template "appACreds" .}}
		allow_from 10.0.0.0/8
	}
}
`)
	check(t, g.call("POST", "/wxa/msg_sec_check", body, "X-Forwarded-For", "203.0.113.9"), false)
	check(t, g.call("POST", "/wxa/msg_sec_check", body, "X-Forwarded-For", "10.9.8.7"), true)
	check(t, g.do("POST", "/wxa/msg_sec_check", body, "X-Forwarded-For", "10.9.8.7"), true)
	check(t, g.do("POST", "/wxa/msg_sec_check", body), false)
}

// reload runs other sites, and forgets the connections to the old ones
// (a reload closes them, and a POST is not retried on a stale one).
func (g *gw) reload(sites string) {
	g.t.Helper()
	g.load(sites) // settles, as every load does
}

// loadWith runs sites under other global options.
func (g *gw) loadWith(global, sites string) {
	g.t.Helper()
	var buf bytes.Buffer
	tpl := template.Must(template.New("caddyfile").Parse(global + g.fill(sites)))
	if err := tpl.Execute(&buf, g.vars()); err != nil {
		g.t.Fatal(err)
	}
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(buf.Bytes(), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		g.t.Fatalf("adapting: %v\n%s", err, buf.String())
	}
	g.run(cfg) // settles, as every load does
}

// A stub WeChat in front of the fake, for what the fake does not do: an
// API that always says the token is dead, one that echoes what it got,
// one that never answers, a large JSON answer.
func stubWeChat(t *testing.T, fake http.Handler) (string, *atomic.Int64) {
	t.Helper()
	dead := &atomic.Int64{}
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stub/dead":
			dead.Add(1)
			w.Header().Set("Content-Type", "text/plain") // like jscode2session: errors need not say JSON
			io.WriteString(w, `{"errcode":40001,"errmsg":"invalid credential"}`)
		case "/stub/echo":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Stub", "kept")
			w.Header().Set("Connection", "X-Hop")
			w.Header().Set("X-Hop", "dropped")
			w.WriteHeader(http.StatusAccepted)
			json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "query": r.URL.RawQuery, "body": string(b), "headers": r.Header})
		case "/stub/hang":
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		case "/stub/headers-only": // a JSON answer that never ends
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			io.WriteString(w, `{"errcode":`)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		case "/stub/bigjson":
			dead.Add(1)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"errcode":40001,"pad":"`+strings.Repeat("p", 100<<10)+`"}`)
		default:
			fake.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: frees a hanging handler
	return srv.URL, dead
}

func TestGatewayEdges(t *testing.T) {
	g := newGateway(t, appSite+gatewaySite)
	stub, dead := stubWeChat(t, g.wx)
	g.reload(appSite + g.fill(`
http://127.0.0.1:{{.GatewayPort}} {
	log {
		output file {{.AccessLog}}
		format filter {
			wrap json
			fields {
				request>uri query {
					delete access_token
				}
			}
		}
	}
	wechat_api {
		app_id {{.AppA}}
		app_secret {env.{{.SecretEnv}}}
		api_base `+stub+`
		timeout 300ms
	}
}`))

	t.Run("retried once, not more", func(t *testing.T) {
		dead.Store(0)
		a := g.call("POST", "/stub/dead", `{}`)
		if a.status != 200 || a.errcode(t) != 40001 || a.header.Get("Content-Type") != "text/plain" {
			t.Errorf("answer %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
		}
		if n := dead.Load(); n != 2 {
			t.Errorf("%d calls, want 2", n)
		}
	})
	t.Run("a large JSON answer is streamed, not looked into", func(t *testing.T) {
		dead.Store(0)
		a := g.call("GET", "/stub/bigjson", "")
		if a.status != 200 || len(a.body) < 100<<10 || dead.Load() != 1 {
			t.Errorf("answer %d, %d bytes, %d calls", a.status, len(a.body), dead.Load())
		}
	})
	t.Run("method, query, body and headers", func(t *testing.T) {
		for _, method := range []string{"GET", "PUT", "DELETE", "PATCH"} {
			body := ""
			if method != "GET" {
				body = "raw \x00 body"
			}
			a := g.call(method, "/stub/echo?b=2&a=1&access_token=x&cloudbase_access_token=y&c=%2F", body,
				"Content-Type", "application/octet-stream", "Authorization", "Bearer s", "Cookie", "k=v", "X-WX-OpenID", "o")
			if a.status != http.StatusAccepted || a.header.Get("X-Stub") != "kept" || a.header.Get("X-Hop") != "" {
				t.Fatalf("%s: %d %v", method, a.status, a.header)
			}
			var got struct {
				Method, Query, Body string
				Headers             http.Header
			}
			if err := json.Unmarshal(a.body, &got); err != nil {
				t.Fatal(err)
			}
			want := "b=2&a=1&c=%2F&access_token=" + url.QueryEscape(g.wx.AccessToken(appA))
			if got.Method != method || got.Query != want || got.Body != body {
				t.Errorf("%s: WeChat got %s %q %q", method, got.Method, got.Query, got.Body)
			}
			for _, h := range []string{"Authorization", "Cookie", "X-Wx-Openid", "X-Forwarded-For"} {
				if got.Headers.Get(h) != "" {
					t.Errorf("%s: %s went to WeChat", method, h)
				}
			}
			if body != "" && got.Headers.Get("Content-Type") != "application/octet-stream" {
				t.Errorf("%s: Content-Type not passed on: %v", method, got.Headers)
			}
		}
	})
	t.Run("no answer within the timeout", func(t *testing.T) {
		for _, path := range []string{"/stub/hang", "/stub/headers-only"} {
			if got := g.call("POST", path, "{}").errorCode(t, 504); got != "wechat_timeout" {
				t.Errorf("%s: %q", path, got)
			}
		}
	})
	t.Run("WeChat down", func(t *testing.T) {
		g.reload(appSite + g.fill(`
http://127.0.0.1:{{.GatewayPort}} {
	wechat_api {
		app_id {{.AppA}}
		app_secret {env.{{.SecretEnv}}}
		api_base http://127.0.0.1:1
	}
}`))
		if got := g.call("POST", "/wxa/msg_sec_check", "{}").errorCode(t, 502); got != "wechat_unreachable" {
			t.Errorf("%q", got)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		g.reload(appSite + g.fill(`
http://127.0.0.1:{{.GatewayPort}} {
	wechat_api {
		app_id {{.AppA}}
		app_secret not-the-secret
		api_base {{.WeChat}}
	}
}`))
		if got := g.call("POST", "/wxa/msg_sec_check", "{}").errorCode(t, 502); got != "wechat_config_error" {
			t.Errorf("%q", got)
		}
		if log := g.logText(); !strings.Contains(log, "WeChat refused the app's configuration") || !strings.Contains(log, `"errcode":40125`) {
			t.Errorf("no ERROR line about the credentials")
		}
	})
	g.reload(appSite + g.fill(gatewaySite)) // the cleanup reads an access log
	g.call("GET", "/wxa/msg_sec_check", "")
}

// Done means: a backend written for WeChat Cloud Hosting, which reads
// x-wx-openid and x-wx-appid and calls the open API service with no
// token, runs unchanged behind wechat_auth, calling the gateway instead.
func TestGatewayCloudHostingBackendRunsUnchanged(t *testing.T) {
	gwPort := freePort(t)
	gateway := fmt.Sprintf("127.0.0.1:%d", gwPort) // what the backend is told, like WX_API_BASE
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// the Cloud Hosting backend, unchanged
		openid, appid := r.Header.Get("x-wx-openid"), r.Header.Get("x-wx-appid")
		var in struct {
			Code string `json:"code"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || openid == "" {
			http.Error(w, "bad request", 400)
			return
		}
		body, _ := json.Marshal(map[string]string{"code": in.Code})
		resp, err := http.Post("http://"+gateway+"/wxa/business/getuserphonenumber", "application/json", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		var ans struct {
			Errcode   int    `json:"errcode"`
			Errmsg    string `json:"errmsg"`
			PhoneInfo struct {
				PurePhoneNumber string `json:"purePhoneNumber"`
			} `json:"phone_info"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || ans.Errcode != 0 {
			http.Error(w, fmt.Sprintf("WeChat said %d %s", ans.Errcode, ans.Errmsg), 502)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"openid": openid, "appid": appid, "phone": ans.PhoneInfo.PurePhoneNumber})
	}))
	defer backend.Close()

	g := &gw{port: gwPort, url: "http://" + gateway, accessLog: filepath.Join(t.TempDir(), "access.log")}
	g.env = newEnv(t, g.fill(`
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		{{template "appA" .}}
	}
	reverse_proxy `+strings.TrimPrefix(backend.URL, "http://")+`
}
`+gatewaySite))
	t.Cleanup(g.checkAccessLog)

	tok := g.login("", "ok-alice")
	a := g.do("POST", "/api/bind-phone", `{"code":"phone-13800138000"}`, bearer(tok)...)
	g.secret("13800138000", "a full phone number")
	g.secret(g.wx.AccessToken(appA), "an access_token")
	if a.status != 200 {
		t.Fatalf("the backend answered %d %s", a.status, a.body)
	}
	var got map[string]string
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatalf("%q", a.body)
	}
	if got["openid"] != fakewx.OpenID(appA, "alice") || got["appid"] != appA || got["phone"] != "13800138000" {
		t.Errorf("the backend answered %v", got)
	}
	// and without a session it is never reached
	if code := g.do("POST", "/api/bind-phone", `{"code":"phone-13800138000.2"}`).errorCode(t, 401); code != "unauthorized" {
		t.Errorf("%q", code)
	}
}

// The demo (go run ./cmd/demo): the repository's Caddyfile has a gateway
// on an internal listener, and the echo app's POST /api/check, a backend
// written for Cloud Hosting, checks a text through it for the logged-in
// user.
func TestGatewayInTheDemo(t *testing.T) {
	// the demo's Caddyfile also serves a Douyin and an Alipay app
	e, _ := newPlatformEnv(t, "")
	raw, err := os.ReadFile("Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	gwPort := freePort(t)
	up := httptest.NewServer(echoserver.WithContentCheck(echoserver.Handler(nil), fmt.Sprintf("http://127.0.0.1:%d", gwPort), nil))
	defer up.Close()
	t.Setenv("WX_DEMO_PORT", fmt.Sprint(e.port))
	t.Setenv("WX_DEMO_ADMIN", e.adminURL[len("http://"):])
	t.Setenv("WX_DEMO_GATEWAY_PORT", fmt.Sprint(gwPort))
	t.Setenv("WX_APP_ID", appA)
	t.Setenv("WX_APP_SECRET", secretA)
	t.Setenv("WX_OA_SECRET", secretOA)
	t.Setenv("WX_WEB_SECRET", secretWeb)
	t.Setenv("WX_API_BASE", e.wxURL)
	t.Setenv("WX_DEMO_KEYS", e.extra["Keys"])
	t.Setenv("WX_DOUYIN_SECRET", fakeworld.DemoDouyinSecret)
	t.Setenv("UPSTREAM", strings.TrimPrefix(up.URL, "http://"))
	e.loadCaddyfile(string(raw))
	e.client.CloseIdleConnections()

	tok := e.login("", "ok-alice")
	check := func(content string) echoserver.CheckAnswer {
		t.Helper()
		a := e.do("POST", "/api/check", fmt.Sprintf(`{"content":%q}`, content), bearer(tok)...)
		e.secret(e.wx.AccessToken(appA), "an access_token")
		var got echoserver.CheckAnswer
		if a.status != 200 || json.Unmarshal(a.body, &got) != nil {
			t.Fatalf("/api/check: %d %s", a.status, a.body)
		}
		if got.OpenID != fakewx.OpenID(appA, "alice") || got.AppID != appA {
			t.Errorf("the backend saw %+v", got)
		}
		return got
	}
	if got := check("hello"); got.Suggest != "pass" {
		t.Errorf("hello: %+v", got)
	}
	if got := check("a risky text"); got.Suggest != "risky" {
		t.Errorf("risky: %+v", got)
	}
	if n := e.wx.Count(fakewx.EndpointMsgSecCheck); n != 2 {
		t.Errorf("%d checks reached WeChat, want 2", n)
	}
}

// The README's allow list of APIs (Cloud Hosting's token permission list
// has no counterpart built in): matchers around the gateway.
func TestGatewayPathAllowListFromTheReadme(t *testing.T) {
	g := newGateway(t, appSite+`
http://127.0.0.1:{{.GatewayPort}} {
	log {
		output file {{.AccessLog}}
	}
	@openapi path /wxa/msg_sec_check /wxa/getwxacodeunlimit /wxa/business/getuserphonenumber
	handle @openapi {
		wechat_api {
			{{template "appACreds" .}}
		}
	}
	handle {
		respond "not an allowed WeChat API" 403
	}
}
`)
	if a := g.call("POST", "/wxa/msg_sec_check", `{"content":"hello"}`); a.status != 200 || a.errcode(t) != 0 {
		t.Errorf("allowed API: %d %s", a.status, a.body)
	}
	if a := g.call("POST", "/cgi-bin/message/subscribe/send", `{}`); a.status != 403 || string(a.body) != "not an allowed WeChat API" {
		t.Errorf("other API: %d %s", a.status, a.body)
	}
	if n := g.wx.Count(fakewx.EndpointStableToken); n != 1 {
		t.Errorf("%d token fetches", n)
	}
}

// The gateway holds the app's client (and token) while it is configured:
// the same one as wechat_auth's, kept across a reload, released with the
// last block that uses it.
func TestGatewaySharesTheAppClientAcrossReloads(t *testing.T) {
	g := newGateway(t, appSite+gatewaySite)
	// app A's store, and one client for wechat_auth and wechat_api
	if n := wechatauth.SharedStates(); n != 2 {
		t.Errorf("%d shared states, want 2 (a store, one client)", n)
	}
	if a := g.call("POST", "/wxa/msg_sec_check", `{"content":"hello"}`); a.errcode(t) != 0 {
		t.Fatal(string(a.body))
	}
	g.reloadViaAdmin(g.fill(appSite + gatewaySite))
	g.client.CloseIdleConnections()
	tok := g.login("", "ok-alice")
	if a := g.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...); a.status != 200 {
		t.Fatalf("phone: %d %s", a.status, a.body)
	}
	g.secret("13800138000", "a full phone number")
	if a := g.call("POST", "/wxa/msg_sec_check", `{"content":"hello"}`); a.errcode(t) != 0 {
		t.Fatal(string(a.body))
	}
	if n := g.wx.Count(fakewx.EndpointStableToken); n != 1 {
		t.Errorf("%d token fetches across a reload, want 1", n)
	}
	// the gateway alone still holds the client; nothing holds it after
	g.reload(g.fill(gatewaySite) + `
http://127.0.0.1:{{.Port}} {
	respond "no wechat_auth"
}`)
	if n := wechatauth.SharedStates(); n != 1 {
		t.Errorf("%d shared states with the gateway alone, want 1", n)
	}
	g.reload(g.fill(`
http://127.0.0.1:{{.Port}} {
	respond "nothing"
}
http://127.0.0.1:{{.GatewayPort}} {
	log {
		output file {{.AccessLog}}
	}
	respond "nothing"
}`))
	if n := wechatauth.SharedStates(); n != 0 {
		t.Errorf("%d shared states left without any block", n)
	}
}

// A bad value known only once placeholders are replaced is refused at
// load, naming the setting, the value and what is accepted; the running
// config goes on.
func TestGatewayConfigErrorsAtLoad(t *testing.T) {
	g := newGateway(t, appSite+gatewaySite)
	t.Setenv("WXGW_ALLOW", "10.0.0.0/8 intranet")
	t.Setenv("WXGW_EMPTY", "")
	t.Setenv("WXGW_BASE", "api.weixin.qq.com")
	for _, c := range []struct{ options, want string }{
		{`app_secret {env.{{.SecretEnv}}}
		allow_from {env.WXGW_ALLOW}`, `allow_from: "intranet" is not an IP address or CIDR range (such as 127.0.0.1, 10.0.0.0/8, fc00::/7 or private_ranges)`},
		{`app_secret {env.{{.SecretEnv}}}
		allow_from {env.WXGW_EMPTY}`, `allow_from: "{env.WXGW_EMPTY}" names no address`},
		{`app_secret {env.WXGW_EMPTY}`, "app_secret is required"},
		{`app_secret {env.{{.SecretEnv}}}
		api_base {env.WXGW_BASE}`, `api_base must be an http(s) URL without a query, such as https://api.weixin.qq.com; got "api.weixin.qq.com"`},
	} {
		cfg := g.adapt(appSite + g.fill(`
http://127.0.0.1:{{.GatewayPort}} {
	wechat_api {
		app_id {{.AppA}}
		`+c.options+`
	}
}`))
		err := caddy.Load(cfg, true)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	if a := g.call("POST", "/wxa/msg_sec_check", `{"content":"hello"}`); a.status != 200 || a.errcode(t) != 0 {
		t.Errorf("the running config stopped: %d %s", a.status, a.body)
	}
}
