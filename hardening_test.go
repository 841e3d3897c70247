package wechatauth_test

// The findings of a black-box probe, each through a real Caddy, over
// HTTP/1.1 and h2c where the protocol matters: identity in trailers, slow
// bodies, ids of the wrong shape from the platform, the gateway's
// redirects and a client's access_token spelled with ';', JSON with a key
// named twice, the admin API's echo.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/echoserver"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/reply"
)

// h2cGlobal is globalOptions with the server speaking h2c (HTTP/2 without
// TLS, by prior knowledge) beside HTTP/1.1.
var h2cGlobal = strings.Replace(globalOptions, "\tservers {\n", "\tservers {\n\t\tprotocols h1 h2c\n", 1)

// loadH2C runs the default sites under h2cGlobal.
func (e *env) loadH2C() {
	e.t.Helper()
	if h2cGlobal == globalOptions {
		e.t.Fatal("could not add protocols to the global options")
	}
	g := &gw{env: e}
	g.loadWith(h2cGlobal, defaultSites)
}

// h2cClient speaks HTTP/2 over plain TCP.
func h2cClient(t *testing.T) *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// rawChunked sends a chunked HTTP/1.1 request written by hand, with the
// given headers and trailer fields, and returns the answer.
func (e *env) rawChunked(target string, headers, trailers [][2]string, body string) answer {
	e.t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", e.port), 5*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n", target, e.port)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(&b, "\r\n%x\r\n%s\r\n0\r\n", len(body), body)
	for _, h := range trailers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		e.t.Fatalf("POST %s: %v", target, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, rb}
}

// checkNoSpoofedTrailer checks an upstream answer: no X-WX-* trailer
// field (any spelling), the benign trailer through, the identity headers
// wechat_auth's (or none).
func checkNoSpoofedTrailer(t *testing.T, what string, up echoserver.Answer, openid string) {
	t.Helper()
	for name, v := range up.Trailers {
		n := strings.ToUpper(strings.NewReplacer("_", "-", ".", "-").Replace(name))
		if strings.HasPrefix(n, "X-WX-") {
			t.Errorf("%s: the upstream got the trailer %s: %q", what, name, v)
		}
	}
	if got := up.Trailers.Get("X-Other"); got != "kept" {
		t.Errorf("%s: the benign trailer X-Other is %q, want kept (trailers: %v): the test sees no trailer at all", what, got, up.Trailers)
	}
	if got := up.Headers.Get("X-Wx-Openid"); got != openid {
		t.Errorf("%s: X-WX-OpenID %q, want %q", what, got, openid)
	}
	for name := range up.Headers {
		if strings.Contains(strings.ToLower(name), "spoof") {
			t.Errorf("%s: header %s reached the upstream", what, name)
		}
	}
	if tr := up.Headers.Values("Trailer"); strings.Contains(strings.ToUpper(strings.Join(tr, ",")), "WX") {
		t.Errorf("%s: the upstream's Trailer declaration still names an identity field: %q", what, tr)
	}
}

// spoofTrailers are the trailer fields a client sends to pass as another
// user, every spelling: declared, and one more undeclared.
var spoofTrailers = [][2]string{
	{"X-WX-OpenID", "o_spoofed"}, {"X_WX_UNIONID", "u_spoofed"}, {"x-wx-phone", "13800000000"},
	{"X-Other", "kept"}, {"X-Wx-Appid", "wxspoofed00000000"},
}

const spoofDeclared = "X-WX-OpenID, X_WX_UNIONID, x-wx-phone, X-Other"

func TestTrailersCannotCarryIdentity(t *testing.T) {
	e := newEnv(t, "")
	tok := e.login("", "ok-alice.1")
	alice := fakewx.OpenID(appA, "alice")
	cases := []struct {
		name, path string
		auth       bool
		openid     string
	}{
		{"require openid", "/api/x", true, alice},
		{"require none, with a token", "/open/x", true, alice},
		{"require none, anonymous", "/open/x", false, ""},
	}

	t.Run("HTTP/1.1", func(t *testing.T) {
		for _, c := range cases {
			hdr := [][2]string{{"Trailer", spoofDeclared}, {"Content-Type", "text/plain"}}
			if c.auth {
				hdr = append(hdr, [2]string{"Authorization", "Bearer " + tok})
			}
			a := e.rawChunked(c.path, hdr, spoofTrailers, "hello")
			checkNoSpoofedTrailer(t, c.name, a.upstream(t), c.openid)
		}
	})

	t.Run("h2c", func(t *testing.T) {
		e.loadH2C()
		client := h2cClient(t)
		for _, c := range cases {
			pr, pw := io.Pipe()
			req, _ := http.NewRequest("POST", e.base+c.path, pr)
			req.Trailer = http.Header{}
			for _, f := range spoofTrailers {
				req.Trailer[f[0]] = nil // declared: HTTP/2 keeps only those
			}
			if c.auth {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			go func() {
				_, _ = io.WriteString(pw, "hello")
				for _, f := range spoofTrailers {
					req.Trailer[f[0]] = []string{f[1]}
				}
				pw.Close()
			}()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.ProtoMajor != 2 {
				t.Fatalf("spoke %s, want HTTP/2", resp.Proto)
			}
			up, err := decodeUpstream(resp)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			checkNoSpoofedTrailer(t, c.name, up, c.openid)
		}
	})
}

// shortBodyTimeout shortens the body read timeout for one test.
func shortBodyTimeout(t *testing.T) time.Duration {
	const d = 300 * time.Millisecond
	old := reply.SetBodyTimeout(d)
	t.Cleanup(func() { reply.SetBodyTimeout(old) })
	return d
}

// slowBodyHTTP1 sends the headers of a POST with Content-Length 100 and a
// few bytes of body, and nothing more; it returns the answer, how long
// it took, and whether the server closed the connection after it.
func slowBodyHTTP1(t *testing.T, addr, path string) (answer, time.Duration, bool) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(8 * time.Second))
	start := time.Now()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"co", path, addr)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("POST %s with a slow body: no answer: %v", path, err)
	}
	took := time.Since(start)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Close { // ReadResponse takes "Connection: close" out of the header
		resp.Header.Set("Connection", "close")
	}
	// The connection must be closed: a read ends with EOF, not the deadline.
	_, err = br.ReadByte()
	closed := err == io.EOF || (err != nil && !isTimeout(err))
	return answer{resp.StatusCode, resp.Header, body}, took, closed
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestSlowBodyIs408(t *testing.T) {
	d := shortBodyTimeout(t)
	g := newGateway(t, appSite+gatewaySite)
	e := g.env
	check := func(t *testing.T, what string, a answer, took time.Duration) {
		t.Helper()
		if got := a.errorCode(t, http.StatusRequestTimeout); got != "body_timeout" {
			t.Errorf("%s: error %q, want body_timeout", what, got)
		}
		if took < d || took > d+3*time.Second {
			t.Errorf("%s: answered after %v, want about %v", what, took, d)
		}
	}

	t.Run("HTTP/1.1", func(t *testing.T) {
		// A body that arrives in time still logs in.
		e.login("", "ok-alice.1")
		// The slow bodies side by side (each waits out the body timeout).
		for _, c := range []struct{ addr, path string }{
			{fmt.Sprintf("127.0.0.1:%d", e.port), "/wx/login"},
			{fmt.Sprintf("127.0.0.1:%d", g.port), "/wxa/msg_sec_check"},
		} {
			t.Run(c.path, func(t *testing.T) {
				t.Parallel()
				a, took, closed := slowBodyHTTP1(t, c.addr, c.path)
				check(t, c.path, a, took)
				if !closed {
					t.Errorf("%s: the connection stayed open after 408", c.path)
				}
				if a.header.Get("Connection") != "close" {
					t.Errorf("%s: 408 without Connection: close", c.path)
				}
			})
		}
		// An answer written without reading the body (no token) is not
		// held by Go's server draining that body first.
		for _, path := range []string{"/wx/logout", "/wx/phone", "/api/upload"} {
			t.Run(path+" without a token", func(t *testing.T) {
				t.Parallel()
				a, took, closed := slowBodyHTTP1(t, fmt.Sprintf("127.0.0.1:%d", e.port), path)
				if a.status != http.StatusUnauthorized || took > d+3*time.Second || !closed {
					t.Errorf("%s without a token: %d after %v (closed %v), want 401 within about %v and closed", path, a.status, took, closed, d)
				}
			})
		}
	})

	t.Run("h2c", func(t *testing.T) {
		g.loadWith(h2cGlobal, appSite+gatewaySite)
		client := h2cClient(t)
		for _, target := range []string{e.base + "/wx/login", g.url + "/wxa/msg_sec_check"} {
			t.Run(strings.TrimPrefix(target, "http://"), func(t *testing.T) {
				t.Parallel() // side by side, as over HTTP/1.1
				pr, pw := io.Pipe()
				t.Cleanup(func() { pw.Close() })
				req, _ := http.NewRequest("POST", target, pr)
				req.ContentLength = 100
				go io.WriteString(pw, `{"co`)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.ProtoMajor != 2 {
					t.Fatalf("spoke %s, want HTTP/2", resp.Proto)
				}
				check(t, target, answer{resp.StatusCode, resp.Header, body}, time.Since(start))
			})
		}
	})
}

func TestBadIDFromWeChatIsRefused(t *testing.T) {
	e := newEnv(t, "")
	for variant, id := range fakewx.BadIDs {
		a := e.do("POST", "/wx/login", `{"code":"badid-`+variant+`"}`)
		if got := a.errorCode(t, http.StatusBadGateway); got != "wechat_bad_response" {
			t.Errorf("%s: %s, want wechat_bad_response", variant, got)
		}
		if id != "" && len(id) < 100 && strings.Contains(string(a.body), id) {
			t.Errorf("%s: the answer repeats the id: %s", variant, a.body)
		}
	}
	// logged, and nothing stored
	if !waitFor(func() bool { return strings.Count(e.logText(), "jscode2session") >= len(fakewx.BadIDs) }) {
		t.Errorf("the refused answers were not logged:\n%s", e.logText())
	}
	req, _ := http.NewRequest("GET", e.adminURL+"/wechat_auth/apps", nil)
	if list := e.send(req); !strings.Contains(string(list.body), `"sessions":0`) {
		t.Errorf("a session was stored: %s", list.body)
	}
	// and the app still works
	e.login("", "ok-alice.1")

	// The admin API applies the same rule, and does not echo a long id.
	admin := func(openid string) answer {
		req, _ := http.NewRequest("DELETE", e.adminURL+"/wechat_auth/apps/"+appA+"/users/"+url.PathEscape(openid), nil)
		return e.send(req)
	}
	long := strings.Repeat("A", 5000)
	for _, id := range []string{long, `o"quoted'`, "o\r\nX: y", "o.x", strings.Repeat("a", 65)} {
		a := admin(id)
		if a.status != http.StatusBadRequest {
			t.Errorf("DELETE %.20q: %d %s, want 400", id, a.status, a.body)
		}
		if len(a.body) > 400 {
			t.Errorf("DELETE %.20q: a %d-byte answer echoes the id", id, len(a.body))
		}
	}
	if a := admin(strings.Repeat("a", 64)); a.status != http.StatusOK {
		t.Errorf("a 64-character openid: %d %s, want 200", a.status, a.body)
	}
}

// waitFor polls cond for up to 5 seconds.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestDuplicateJSONKeyIsInvalid(t *testing.T) {
	e := newEnv(t, "")
	for _, body := range []string{
		`{"code":"bad-1","code":"ok-alice.1"}`,
		`{"code":"ok-alice.2","\u0063ode":"bad-2"}`,
	} {
		if got := e.do("POST", "/wx/login", body).errorCode(t, http.StatusBadRequest); got != "invalid_json" {
			t.Errorf("%s: %s, want invalid_json", body, got)
		}
	}
	tok := e.login("", "ok-bob.1")
	body := `{"encryptedData":"x","iv":"y","extra":{"a":1,"a":2}}`
	if got := e.do("POST", "/wx/phone", body, bearer(tok)...).errorCode(t, http.StatusBadRequest); got != "invalid_json" {
		t.Errorf("a nested duplicate key: %s, want invalid_json", got)
	}
}

// redirectStub is an api_base that answers /r/echo with a redirect to the
// URL it was called at (the app's access_token in it), and /r/path with
// one that holds the token in its path; the rest is the fake WeChat's.
func redirectStub(t *testing.T, fake http.Handler) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/r/echo":
			u := "http://" + r.Host + r.URL.RequestURI() + "#frag"
			w.Header().Set("Location", u)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusFound)
			io.WriteString(w, `<a href="`+u+`">Found</a>`)
		case "/r/path":
			w.Header().Set("Location", "/login/"+r.URL.Query().Get("access_token"))
			w.WriteHeader(http.StatusMovedPermanently)
		case "/r/query":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"query": r.URL.RawQuery})
		default: // the token
			fake.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestGatewayNeverHandsTheTokenBack(t *testing.T) {
	g := newGateway(t, appSite+gatewaySite)
	stub := redirectStub(t, g.wx)
	g.reload(appSite + g.fill(strings.Replace(gatewaySite, "{{template \"appACreds\" .}}",
		"app_id {{.AppA}}\n\t\tapp_secret {env.{{.SecretEnv}}}\n\t\tapi_base "+stub, 1)))
	token := func() string { return g.wx.AccessToken(appA) }

	noFollow := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(g.url + "/r/echo?a=1&access_token=forged")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a := answer{resp.StatusCode, resp.Header, body}
	loc := a.header.Get("Location")
	if a.status != http.StatusFound || loc == "" {
		t.Fatalf("redirect: %d %q %s\n%s", a.status, loc, a.body, g.logText())
	}
	if strings.Contains(loc, "access_token") || strings.Contains(loc, token()) {
		t.Errorf("the Location hands the token back: %s", loc)
	}
	if !strings.Contains(loc, "/r/echo?a=1") || !strings.HasSuffix(loc, "#frag") {
		t.Errorf("the Location lost more than the token: %s", loc)
	}
	if strings.Contains(string(a.body), token()) {
		t.Errorf("the redirect's body holds the token: %s", a.body)
	}

	if got := g.call("GET", "/r/path", "").errorCode(t, http.StatusBadGateway); got != "wechat_bad_response" {
		t.Errorf("a token in the Location's path: %s, want wechat_bad_response", got)
	}
	if !waitFor(func() bool { return strings.Contains(g.logText(), "redirected to a URL that holds the access_token") }) {
		t.Errorf("the refused redirect was not logged")
	}

	// A client's access_token, however spelled, never goes on.
	for _, q := range []string{
		"a=1;access_token=forged", "a=1&access%5Ftoken=forged", "a=1&ACCESS_TOKEN=forged",
		"a=1&access%255Ftoken=forged", ";access_token=forged;a=1",
	} {
		var got struct{ Query string }
		a := g.call("GET", "/r/query?"+q, "")
		if err := json.Unmarshal(a.body, &got); err != nil || a.status != 200 {
			t.Fatalf("%s: %d %s", q, a.status, a.body)
		}
		want := "a=1&access_token=" + url.QueryEscape(token())
		if got.Query != want {
			t.Errorf("%s: WeChat got %q, want %q", q, strings.ReplaceAll(got.Query, token(), "<app token>"), "a=1&access_token=<app token>")
		}
	}
}
