package wechatauth_test

// Contract v2, "Hostile clients": a Connection header cannot take the
// identity headers away.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// rawKeepAlive sends a request written by hand, headers exactly as given
// and no Connection header of its own (e.raw adds "Connection: close":
// here the test's Connection lines are the only ones), and reads the
// answer.
func (e *env) rawKeepAlive(method, target string, headers [][2]string, body string) answer {
	e.t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", e.port), 5*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", method, target, e.port)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, rb}
}

func TestConnectionHeaderCannotStripIdentity(t *testing.T) {
	e := newEnv(t, "")
	tok := e.login("", "union-alice")
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...), "13800138000", "13800138000", "86")
	e.secret("13800138000", "a full phone number")
	openid, unionid := fakewx.OpenID(appA, "alice"), fakewx.UnionID("alice")
	auth := [2]string{"Authorization", "Bearer " + tok}

	cases := []struct {
		name, path string
		headers    [][2]string
		hop        bool // X-Hop-Test is named in Connection: it must not arrive
	}{
		{"keep-alive and the openid", "/api/a", [][2]string{{"Connection", "keep-alive, X-WX-OpenID"}}, false},
		{"every identity header", "/api/b", [][2]string{{"CONNECTION", "X-WX-OpenID, X-WX-UnionID, X-WX-Phone, X-WX-Phone-Country"}}, false},
		{"several lines, several spellings", "/api/c", [][2]string{
			{"Connection", "keep-alive"},
			{"connection", "x-wx-openid,X_WX_UNIONID"},
			{"Connection", " X.Wx.Phone-Country ,\tX-Hop-Test , x-wx-phone"},
			{"X-Hop-Test", "must not arrive"},
		}, true},
		{"other tokens kept", "/api/d", [][2]string{{"Connection", "X-Hop-Test, X-Wx-Openid"}, {"X-Hop-Test", "must not arrive"}}, true},
		{"only identity names: the header goes", "/api/e", [][2]string{{"Connection", "X-WX-OPENID"}, {"Connection", "x-wx-unionid"}}, false},
		{"require none", "/open/f", [][2]string{{"Connection", "keep-alive, X-WX-OpenID, x-wx-unionid"}}, false},
		{"require phone", "/phone/g", [][2]string{{"Connection", "X-Wx-Phone, x-wx-phone-country, X-WX-OpenID"}}, false},
		// Go's server closes the connection after the answer, and leaves
		// the header to the handlers.
		{"close", "/api/h", [][2]string{{"Connection", "close, X-WX-OpenID"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up := e.rawKeepAlive("GET", c.path, append(c.headers, auth), "").upstream(t)
			for name, want := range map[string]string{
				"X-WX-OpenID": openid, "X-WX-UnionID": unionid, "X-WX-Phone": "13800138000", "X-WX-Phone-Country": "86",
			} {
				if got := up.Headers.Get(name); got != want {
					t.Errorf("upstream got %s %q, want %q", name, got, want)
				}
			}
			if c.hop && up.Headers.Get("X-Hop-Test") != "" {
				t.Errorf("X-Hop-Test, named in Connection, reached the upstream: the other tokens were not kept")
			}
		})
	}

	// The endpoints take such a header in their stride.
	a := e.rawKeepAlive("POST", "/wx/login", [][2]string{{"Connection", "keep-alive, X-WX-OpenID"}, {"Content-Type", "application/json"}}, `{"code":"ok-bob"}`)
	if a.status != http.StatusOK {
		t.Fatalf("login with a Connection header: %d %s", a.status, a.body)
	}
	e.secret(a.json(t)["token"].(string), "a session token")
	e.recordSessionKeys()
}
