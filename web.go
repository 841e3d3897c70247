package wechatauth

// WeChat in the browser: GET /wx/web/login sends the browser to the
// authorize page of the block's wechat_oa app (inside WeChat) or
// wechat_web app (anywhere else), GET /wx/web/callback trades the code it
// returns with and sets the wx_session cookie. The state of a login is a
// one-time record of the app's store, bound to the browser by the
// wx_state cookie, and taken before any call to WeChat.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/weblogin"
)

// onceState is the kind of a login's state record.
const onceState = "web_state"

// webTTLs are how long a login's state and a handoff ticket live (the
// tests shorten them, SetWebTTLs in export_test.go; atomic, as Caddy's
// goroutines read them).
var webTTLs atomic.Pointer[[2]time.Duration]

func init() { webTTLs.Store(&[2]time.Duration{weblogin.DefaultStateTTL, 60 * time.Second}) }

func stateTTL() time.Duration  { return webTTLs.Load()[0] }
func ticketTTL() time.Duration { return webTTLs.Load()[1] }

// browserApps are the block's apps that log in in a browser.
func (h *Handler) browserApps() []*app {
	var list []*app
	for _, a := range h.apps {
		if a.platform.WebLogin {
			list = append(list, a)
		}
	}
	return list
}

// browserApp is the app a browser logs in with: the wechat_oa app inside
// WeChat (a User-Agent with MicroMessenger), the wechat_web app anywhere
// else; the block's other browser app when it has only one of them.
func (h *Handler) browserApp(r *http.Request) *app {
	want := "wechat_web"
	if strings.Contains(r.UserAgent(), "MicroMessenger") {
		want = "wechat_oa"
	}
	apps := h.browserApps()
	for _, a := range apps {
		if a.platform.Name == want {
			return a
		}
	}
	if len(apps) > 0 {
		return apps[0]
	}
	return nil
}

// secure reports whether r came over HTTPS (the cookies are Secure then).
func secure(r *http.Request) bool { return r.TLS != nil }

// callbackURL is the redirect_uri of a login started by r.
func callbackURL(r *http.Request) string {
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/wx/web/callback"
}

// webLogin answers GET /wx/web/login?next=: 302 to the authorize page.
func (h *Handler) webLogin(w http.ResponseWriter, r *http.Request) (*app, *reply.Error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, reply.MethodNotAllowed
	}
	a := h.browserApp(r)
	if a == nil {
		return nil, reply.NoBrowserApp
	}
	auth, ok := a.client.Client.(platform.Authorizer)
	if !ok {
		return a, reply.NoBrowserApp
	}
	browser, known := weblogin.BrowserID(r)
	if !known {
		browser = weblogin.NewState()
	}
	state := weblogin.NewState()
	rec := weblogin.Login{Browser: browser, App: a.id, Next: weblogin.SafeNext(r.URL.Query().Get("next"))}
	if err := onceOf(a.store).PutOnce(r.Context(), onceState, state, rec.Encode(), stateTTL()); err != nil {
		h.logger.Error("web login: state not stored", zap.String("app_id", a.id), zap.Error(err))
		return a, reply.StoreFailure(err)
	}
	http.SetCookie(w, weblogin.StateCookie(browser, secure(r), weblogin.DefaultStateTTL))
	redirect(w, auth.AuthorizeURL(callbackURL(r), state))
	return a, nil
}

// redirect answers 302 to location, never cached.
func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusFound)
}

// takeState takes a login's state: from the store of the browser app it
// was made for, and only for the browser that started it. A state
// refused for another browser is used up all the same.
func (h *Handler) takeState(ctx context.Context, r *http.Request, state string) (weblogin.Login, *reply.Error) {
	if !weblogin.ValidState(state) {
		return weblogin.Login{}, reply.InvalidState
	}
	for _, a := range h.browserApps() {
		raw, err := onceOf(a.store).TakeOnce(ctx, onceState, state)
		if errors.Is(err, session.ErrNotFound) {
			continue
		}
		if err != nil {
			h.logger.Error("web login: state not read", zap.String("app_id", a.id), zap.Error(err))
			return weblogin.Login{}, reply.StoreFailure(err)
		}
		l, ok := weblogin.DecodeLogin(raw)
		if !ok || l.App != a.id || !l.From(r) {
			return weblogin.Login{}, reply.InvalidState
		}
		return l, nil
	}
	return weblogin.Login{}, reply.InvalidState
}

// webCallback answers GET /wx/web/callback?code=&state=: the state is
// checked (taken) before any call to WeChat; then the code is traded, the
// session stored, the cookie set, and the browser sent to next.
func (h *Handler) webCallback(w http.ResponseWriter, r *http.Request) (*app, *reply.Error) {
	if r.Method != http.MethodGet {
		return nil, reply.MethodNotAllowed
	}
	q := r.URL.Query()
	l, e := h.takeState(r.Context(), r, q.Get("state"))
	if e != nil {
		return nil, e
	}
	a := h.app(l.App)
	if a == nil || !a.platform.WebLogin {
		return nil, reply.InvalidState
	}
	return a, h.limitFailures(a, w, r, "web_callback", func() *reply.Error {
		code, e := stringField(q.Get("code"), reply.MissingCode, maxCodeLen)
		if e != nil {
			return e // the user refused: WeChat sends the browser back without a code
		}
		ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
		defer cancel()
		id, err := a.client.Login(ctx, code)
		if err != nil {
			e := reply.WebLoginFailure(err)
			if e == reply.SnapshotUser {
				h.logger.Info("web login refused: snapshot user", zap.String("app_id", a.id))
			} else {
				h.logPlatformFailure(a, "web login failed", err, e)
			}
			return e
		}
		return h.startCookieSession(w, r, a, session.Session{OpenID: id.OpenID, UnionID: id.UnionID}, l.Next)
	})
}

// startCookieSession stores a session of s in the app's store (a login
// without a session_key: the user's keys stay), sets the wx_session
// cookie and sends the browser to next.
func (h *Handler) startCookieSession(w http.ResponseWriter, r *http.Request, a *app, s session.Session, next string) *reply.Error {
	token := a.tagged(a.store.NewToken(s.OpenID))
	got, err := a.store.Login(r.Context(), token, session.Session{OpenID: s.OpenID, UnionID: s.UnionID}, "")
	if err != nil {
		h.logger.Error("web login: session not stored", zap.String("app_id", a.id), zap.String("openid", s.OpenID), zap.Error(err))
		return reply.StoreFailure(err)
	}
	h.logger.Info("web login", zap.String("app_id", a.id), zap.String("platform", a.platform.Name),
		zap.String("openid", s.OpenID), zap.Bool("unionid", s.UnionID != ""), zap.Bool("phone_bound", got.Phone != ""))
	http.SetCookie(w, weblogin.SessionCookie(token, secure(r), 0))
	if _, ok := weblogin.BrowserID(r); ok {
		http.SetCookie(w, weblogin.ClearStateCookie(secure(r))) // a login, if any, is over
	}
	redirect(w, weblogin.SafeNext(next))
	return nil
}

// navigationLogin sends a browser navigation without a session, in a
// block with a browser app, to the login: true when it did.
func (h *Handler) navigationLogin(w http.ResponseWriter, r *http.Request) bool {
	if !weblogin.IsNavigation(r) || len(h.browserApps()) == 0 {
		return false
	}
	redirect(w, "/wx/web/login?next="+url.QueryEscape(r.URL.RequestURI()))
	return true
}
