package wechatauth_test

// Browser sessions are sessions like the others, in every store: the
// admin API's revocation, assertion on, idle_timeout, the handoff's
// phone; the states and tickets in Redis with a Redis store.

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	wechatauth "github.com/wechat-auth/wechat_auth"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

func TestWebSessionsInEveryStore(t *testing.T) {
	t.Parallel()
	storeKinds(t, func(t *testing.T, store string) {
		t.Parallel() // beside the other store kind: each has its own Caddy process
		e := newEnvOpts(t, webSitesWith(store+"\n\t\t\tassertion on\n\t\t\tidle_timeout 1200ms"), webOptions(t, true))
		e.secret("13800138000", "a full phone number")
		e.wx.SetWebUser(appWeb, "alice", true)
		b := newBrowser(e, "Firefox")
		wantRedirect(t, b.login("/"))

		// assertion on: the JWT says the platform
		up := b.do("GET", "/api/me", "Accept", "application/json").upstream(t)
		jwt := strings.Split(up.Headers.Get("X-Wx-Assertion"), ".")
		if len(jwt) != 3 {
			t.Fatalf("no assertion: %v", up.Headers)
		}
		claims, _ := base64.RawURLEncoding.DecodeString(jwt[1])
		if !strings.Contains(string(claims), `"platform":"wechat_web"`) || !strings.Contains(string(claims), fakewx.OpenID(appWeb, "alice")) {
			t.Fatalf("assertion claims %s", claims)
		}

		// the admin API ends the browser user's sessions
		req, _ := http.NewRequest("DELETE", e.adminURL+"/wechat_auth/apps/"+appWeb+"/users/"+fakewx.OpenID(appWeb, "alice"), nil)
		if a := e.send(req); a.status != 200 || !strings.Contains(string(a.body), `"revoked":1`) {
			t.Fatalf("admin revoke: %d %s", a.status, a.body)
		}
		if c := b.do("GET", "/api/me", "Accept", "application/json").errorCode(t, 401); c != "invalid_token" {
			t.Fatalf("after the admin's revoke: %s", c)
		}

		// a handoff session carries the mini program user's phone
		tok := e.login("", "ok-carol")
		if a := e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...); a.status != 200 {
			t.Fatalf("phone: %d %s", a.status, a.body)
		}
		ticket, _ := e.do("POST", "/wx/ticket", "", bearer(tok)...).json(t)["ticket"].(string)
		e.secret(ticket, "a handoff ticket")
		wv := newBrowser(e, "MicroMessenger miniProgram")
		wantRedirect(t, wv.do("GET", "/wx/web/handoff?ticket="+ticket))
		up = wv.do("GET", "/api/me", "Accept", "application/json").upstream(t)
		if up.Headers.Get("X-Wx-Phone") != "13800138000" || up.Headers.Get("X-Wx-Openid") != fakewx.OpenID(appA, "carol") {
			t.Fatalf("handoff session headers %v", up.Headers)
		}
		// the mini program's session is untouched by the handoff (its
		// session_key too: the phone flows still work)
		e.do("GET", "/api/me", "", bearer(tok)...).upstream(t)

		// idle_timeout ends an unused browser session
		wantRedirect(t, b.login("/"))
		b.do("GET", "/api/me", "Accept", "application/json").upstream(t)
		time.Sleep(2500 * time.Millisecond) // past 1.5 × idle_timeout
		if c := b.do("GET", "/api/me", "Accept", "application/json").errorCode(t, 401); c != "invalid_token" {
			t.Fatalf("an idle browser session: %s", c)
		}
	})
}

// An expired state is refused before any call to WeChat, and an expired
// ticket is invalid_ticket, in every store (the lifetimes shortened to
// 150 ms; the records expire in the store itself).
func TestWebStateAndTicketExpire(t *testing.T) {
	defer wechatauth.SetWebTTLs(150*time.Millisecond, 150*time.Millisecond)()
	storeKinds(t, func(t *testing.T, store string) {
		e := newWebEnvWith(t, store)
		e.wx.SetWebUser(appWeb, "alice", true)
		b := newBrowser(e, "Firefox")
		cb := b.toCallback(b.startLogin("/"))
		tok := e.login("", "ok-dave")
		ticket, _ := e.do("POST", "/wx/ticket", "", bearer(tok)...).json(t)["ticket"].(string)
		e.secret(ticket, "a handoff ticket")
		before := e.wx.Count(fakewx.EndpointOAuthToken)
		time.Sleep(300 * time.Millisecond) // twice their lifetime
		if c := b.do("GET", cb, "Accept", "application/json").errorCode(t, http.StatusForbidden); c != "invalid_state" {
			t.Fatalf("an expired state: %s", c)
		}
		if n := e.wx.Count(fakewx.EndpointOAuthToken) - before; n != 0 {
			t.Fatalf("an expired state reached WeChat (%d calls)", n)
		}
		if c := e.do("GET", "/wx/web/handoff?ticket="+ticket, "").errorCode(t, http.StatusUnauthorized); c != "invalid_ticket" {
			t.Fatalf("an expired ticket: %s", c)
		}
	})
}
