package wechatauth_test

// With a Redis store, a login's state and a handoff ticket are Redis's:
// a login started on one Caddy finishes on another, once, and a ticket
// of one is taken on the other, once.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

func TestWebStatesAndTicketsAcrossTwoCaddyProcesses(t *testing.T) {
	t.Parallel()
	e := newWorld(t, webOptions(t, false))
	rd := testredis.Start(t)
	sites := webSitesWith("redis " + rd.URL())
	one := startCaddyProcess(t, e, sites)
	two := startCaddyProcess(t, e, sites)
	e.wx.SetWebUser(appWeb, "alice", true)

	b := newBrowser(e, "Firefox")
	cb := b.toCallback(wantRedirect(t, b.do("GET", one.base+"/wx/web/login?next=%2Fx")))
	if !strings.HasPrefix(cb, one.base+"/wx/web/callback?") {
		t.Fatalf("callback %s, want one's", cb)
	}
	onTwo := two.base + strings.TrimPrefix(cb, one.base)
	a := b.do("GET", onTwo, "Accept", "application/json")
	if wantRedirect(t, a) != "/x" || sessionCookieOf(a) == "" {
		t.Fatalf("a login started on one, finished on two: %d %v", a.status, a.header)
	}
	if c := b.do("GET", cb, "Accept", "application/json").errorCode(t, http.StatusForbidden); c != "invalid_state" {
		t.Fatalf("the state again, on one: %s", c)
	}
	// the cookie session is in Redis: one knows it
	up := b.do("GET", one.base+"/api/me", "Accept", "application/json").upstream(t)
	if up.Headers.Get("X-Wx-Openid") != fakewx.OpenID(appWeb, "alice") {
		t.Fatalf("one got %v", up.Headers)
	}

	a = e.at(one, "POST", "/wx/login", `{"code":"ok-bob.2"}`)
	bt, _ := a.json(t)["token"].(string)
	e.secret(bt, "a session token")
	ticket, _ := e.at(one, "POST", "/wx/ticket", "", bearer(bt)...).json(t)["ticket"].(string)
	if ticket == "" {
		t.Fatal("no ticket")
	}
	e.secret(ticket, "a handoff ticket")
	wv := newBrowser(e, "MicroMessenger miniProgram")
	if h := wv.do("GET", two.base+"/wx/web/handoff?ticket="+ticket); h.status != http.StatusFound || sessionCookieOf(h) == "" {
		t.Fatalf("one's ticket on two: %d %s", h.status, h.body)
	}
	if c := e.at(one, "GET", "/wx/web/handoff?ticket="+ticket, "").errorCode(t, http.StatusUnauthorized); c != "invalid_ticket" {
		t.Fatalf("the ticket again, on one: %s", c)
	}
}
