package fakewx

import (
	"net/http"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// loginAnswer is jscode2session's success answer.
type loginAnswer struct {
	SessionKey string `json:"session_key,omitempty"`
	OpenID     string `json:"openid"`
	UnionID    string `json:"unionid,omitempty"`
}

// jscode2session serves GET /sns/jscode2session. Every answer is HTTP 200
// text/plain unless the code says otherwise. The js_code steers the outcome
// ("<outcome>-<args>", a user name may carry a ".nonce"):
//
//	ok-<user>[.n]         success, a new session_key, no unionid
//	same-<user>[.n]       success with the user's current session_key handed
//	                      out again (a new one if the user has none): a
//	                      repeated wx.login need not change the key
//	union-<user>[.n]      success with a unionid
//	nokey-<user>[.n]      an openid but no session_key (a broken answer)
//	slow-<ms>-<user>[.n]  wait ms milliseconds, then as ok-<user>
//	badid-<variant>[.n]   success with an openid of the wrong shape:
//	                      long (20,000 characters), dotdot ("../../admin"),
//	                      quote (with '"' and '\''), crlf (with CR LF and a
//	                      header after it), empty; union: a good openid
//	                      with a unionid of 100 characters
//	bad-…                 40029 invalid code
//	risky-…               40226 high risk user
//	limit-…               45011 minute quota
//	busy-…                -1 system error
//	hang-…                no answer until the client leaves or Close
//	http500-…             HTTP 500 HTML page
//	html-…                HTTP 200 HTML gateway page
//	empty-…               HTTP 200, empty body
//	trunc-…               HTTP 200, cut JSON
//	anything else         40029
//
// Every code is single use per appid (40163 the second time), except when
// the request itself is refused (41002, 41004, 40013, 40125, 41008, 40002).
// A code minted with MintCode CodeTTL (5 minutes) ago or more answers 40029.
func (s *Server) jscode2session(w http.ResponseWriter, r *http.Request) {
	fail, appid, code, ok := s.codeRequest(w, r, EndpointJSCode2Session, "js_code", s.appSecret)
	if !ok {
		return
	}
	outcome, arg, goOn := s.steerCode(w, r, code, s.spendLogin(appid, code), fail)
	if !goOn {
		return
	}
	switch outcome {
	case "ok", "union", "nokey", "same":
		s.login(w, appid, arg, outcome)
	case "badid":
		ans, ok := badIDAnswer(appid, stripNonce(arg))
		if !ok {
			fail(40029, "invalid code")
			return
		}
		ans.SessionKey = s.takeSessionKey(appid, ans.OpenID)
		writeJSON(w, typeText, ans)
	case "risky":
		fail(40226, "high risk user")
	default:
		s.failSteered(w, r, outcome, `{"openid": "o`, fail)
	}
}

// spendLogin uses up a js_code of appid: 0, or the errcode (40029:
// minted CodeTTL ago or more; 40163: used).
func (s *Server) spendLogin(appid, code string) int {
	switch {
	case s.expired(appid, code):
		return 40029
	case !s.consume(s.usedLogin, appid, code):
		return 40163
	}
	return 0
}

// steerCode answers the errcode of a code that could not be used (40029
// invalid, 40163 used), or steers a good one (fakekit.Base.Steer: a
// slow-<ms>-<user> code waits, then is "ok"); false when nothing more is
// to be answered.
func (s *Server) steerCode(w http.ResponseWriter, r *http.Request, code string, errcode int, fail func(int, string)) (outcome, arg string, goOn bool) {
	switch errcode {
	case 0:
		return s.Steer(w, r, code)
	case 40163:
		fail(40163, "code been used")
	default:
		fail(40029, "invalid code")
	}
	return "", "", false
}

// codeRequest begins a code exchange (jscode2session, the browser's
// /sns/oauth2/access_token): a GET with the app's credentials (secretOf
// the appid: its secret, and whether the fake knows it; 41002, 41004,
// 40013, 40125), the code in codeParam (41008) and grant_type
// authorization_code (40002). ok is false once it answered an error.
func (s *Server) codeRequest(w http.ResponseWriter, r *http.Request, endpoint, codeParam string, secretOf func(appid string) (string, bool)) (fail func(int, string), appid, code string, ok bool) {
	if fail, ok = s.call(w, r, endpoint, http.MethodGet, always(typeText)); !ok {
		return fail, "", "", false
	}
	q := r.URL.Query()
	appid, code = q.Get("appid"), q.Get(codeParam)
	want, known := secretOf(appid)
	errcode, msg := checkSecret(want, known, appid, q.Get("secret"))
	switch {
	case errcode != 0:
		fail(errcode, msg)
	case code == "":
		fail(41008, "missing code")
	case q.Get("grant_type") != "authorization_code":
		fail(40002, "invalid grant_type")
	default:
		return fail, appid, code, true
	}
	return fail, appid, code, false
}

// failSteered answers the error outcomes of a steered code exchange:
// limit (45011), busy (-1), empty (an empty body), trunc (the cut JSON
// trunc), hang, http500, html; bad and anything else 40029.
func (s *Server) failSteered(w http.ResponseWriter, r *http.Request, outcome, trunc string, fail func(int, string)) {
	switch outcome {
	case "limit":
		fail(45011, "api minute-quota reach limit")
	case "busy":
		fail(-1, "system error")
	case "empty":
		fakekit.WriteRaw(w, http.StatusOK, typeText, "")
	case "trunc":
		fakekit.WriteRaw(w, http.StatusOK, typeText, trunc)
	default:
		if !s.misbehave(w, r, outcome) {
			fail(40029, "invalid code")
		}
	}
}

// login answers a successful login of userSpec ("<user>[.nonce]"): kind ok
// or union rotate the user's session_key; same hands out the current one
// again; nokey answers without one.
func (s *Server) login(w http.ResponseWriter, appid, userSpec, kind string) {
	user := stripNonce(userSpec)
	if !validUser(user) {
		writeJSON(w, typeText, newError(40029, "invalid code"))
		return
	}
	ans := loginAnswer{OpenID: OpenID(appid, user)}
	switch kind {
	case "union":
		ans.UnionID = UnionID(user)
		fallthrough
	case "ok":
		ans.SessionKey = s.takeSessionKey(appid, ans.OpenID)
		s.rotateSessionKey(appid, ans.OpenID, ans.SessionKey)
	case "same":
		if ans.SessionKey = s.currentSessionKey(appid, ans.OpenID); ans.SessionKey == "" {
			ans.SessionKey = s.takeSessionKey(appid, ans.OpenID)
		}
		s.rotateSessionKey(appid, ans.OpenID, ans.SessionKey)
	}
	writeJSON(w, typeText, ans)
}

// BadIDs are the variants of a badid- code and the openid each answers
// with (union: a good openid, and a unionid of 100 characters).
var BadIDs = map[string]string{
	"long":   "o" + strings.Repeat("A", 20000),
	"dotdot": "../../admin",
	"quote":  `o"quoted'`,
	"crlf":   "oCRLF\r\nX-WX-Phone: 13800138000",
	"empty":  "",
	"union":  "",
}

// badIDAnswer is the answer of a badid-<variant> code.
func badIDAnswer(appid, variant string) (loginAnswer, bool) {
	id, ok := BadIDs[variant]
	if !ok {
		return loginAnswer{}, false
	}
	if variant == "union" {
		return loginAnswer{OpenID: OpenID(appid, "badunion"), UnionID: strings.Repeat("u", 100)}, true
	}
	return loginAnswer{OpenID: id}, true
}
