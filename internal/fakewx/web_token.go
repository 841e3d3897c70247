package fakewx

import (
	"net/http"
)

// webTokenAnswer is /sns/oauth2/access_token's success answer, its fields
// in WeChat's order.
type webTokenAnswer struct {
	AccessToken    string `json:"access_token"`
	ExpiresIn      int    `json:"expires_in"`
	RefreshToken   string `json:"refresh_token"`
	OpenID         string `json:"openid"`
	Scope          string `json:"scope"`
	IsSnapshotUser int    `json:"is_snapshotuser,omitempty"`
	UnionID        string `json:"unionid,omitempty"`
}

// oauthToken serves GET /sns/oauth2/access_token, the browser login's
// code exchange, for the apps of Config.WebApps. Every answer is HTTP 200
// text/plain JSON unless the code says otherwise. A missing appid or
// secret answers 41002 or 41004, an appid that is not a browser app 40013,
// a wrong secret 40125, no code 41008, a grant_type other than
// authorization_code 40002 (the code stays usable after these).
//
// A code the pages handed out (or MintWebCode) is good once (40163 then),
// for CodeTTL (5 minutes; 40029 after), and only with the appid it was
// minted for: another app's code answers 40029, as WeChat answers a code
// it does not know for that app. Its scope is the one the page was asked
// for. Other codes steer the outcome as jscode2session's do, single use
// per appid, with the app's usual scope (snsapi_base, snsapi_login):
//
//	ok-<user>[.n]         success: openid OpenID(appid, user); unionid
//	                      UnionID(user) when the app is bound (WebApp.UnionID;
//	                      with snsapi_base only once the user granted
//	                      snsapi_userinfo to the app)
//	union-<user>[.n]      success with the unionid, bound or not
//	snapshot-<user>[.n]   WeChat's snapshot mode: is_snapshotuser 1, openid
//	                      SnapshotOpenID(appid), scope snsapi_base, no unionid
//	slow-<ms>-<user>[.n]  wait ms milliseconds, then as ok-<user>
//	bad-…                 40029 invalid code
//	limit-…               45011 frequency limit
//	busy-…                -1 system error
//	hang-…, http500-…, html-…, empty-…, trunc-…   as jscode2session's
//	anything else         40029
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	fail, appid, code, ok := s.codeRequest(w, r, EndpointOAuthToken, "code", func(appid string) (string, bool) {
		app, known := s.web.apps[appid]
		return app.Secret, known
	})
	if !ok {
		return
	}
	app := s.web.apps[appid]
	scope, errcode := s.web.redeem(s, appid, app.Kind, code)
	outcome, arg, goOn := s.steerCode(w, r, code, errcode, fail)
	if !goOn {
		return
	}
	switch outcome {
	case "ok", "union", "snapshot":
		s.webToken(w, appid, app, stripNonce(arg), outcome, scope)
	default:
		s.failSteered(w, r, outcome, `{"access_token": "`, fail)
	}
}

// redeem uses up code for appid: the code's scope, or the errcode
// (40029: another app's, or expired; 40163: used).
func (ws *webState) redeem(s *Server, appid string, kind WebKind, code string) (string, int) {
	now, steeredExpired := s.Now(), s.expired(appid, code)
	ws.mu.Lock()
	defer ws.mu.Unlock()
	scope := defaultScope(kind)
	if rec, minted := ws.codes.Get(code); minted {
		if rec.appid != appid || now.Sub(rec.at) >= CodeTTL {
			return "", 40029
		}
		scope = rec.scope
	} else if steeredExpired {
		return "", 40029
	}
	k := appid + "\x00" + code
	if _, used := ws.used.Get(k); used {
		return "", 40163
	}
	ws.used.Put(k, struct{}{})
	return scope, 0
}

// webToken answers a successful exchange for user.
func (s *Server) webToken(w http.ResponseWriter, appid string, app WebApp, user, outcome, scope string) {
	if !validUser(user) {
		writeJSON(w, typeText, newError(40029, "invalid code"))
		return
	}
	ans := webTokenAnswer{
		AccessToken: newAccessToken(), ExpiresIn: 7200, RefreshToken: newAccessToken(),
		OpenID: OpenID(appid, user), Scope: scope,
	}
	switch {
	case outcome == "snapshot":
		ans.OpenID, ans.Scope, ans.IsSnapshotUser = SnapshotOpenID(appid), scopeBase, 1
	case outcome == "union" || app.UnionID && (scope != scopeBase || s.web.hasGranted(appid, user)):
		ans.UnionID = UnionID(user)
	}
	writeJSON(w, typeText, ans)
}

func (ws *webState) hasGranted(appid, user string) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	_, ok := ws.granted.Get(appid + "\x00" + user)
	return ok
}
