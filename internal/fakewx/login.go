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
	s.Hit(EndpointJSCode2Session)
	fail := func(errcode int, msg string) { writeJSON(w, typeText, newError(errcode, msg)) }

	if r.Method != http.MethodGet {
		fail(43001, "require GET method")
		return
	}
	q := r.URL.Query()
	appid, code := q.Get("appid"), q.Get("js_code")
	if errcode, msg := s.checkCredentials(appid, q.Get("secret")); errcode != 0 {
		fail(errcode, msg)
		return
	}
	switch {
	case code == "":
		fail(41008, "missing code")
		return
	case q.Get("grant_type") != "authorization_code":
		fail(40002, "invalid grant_type")
		return
	}
	if s.expired(appid, code) {
		fail(40029, "invalid code")
		return
	}
	if !s.consume(s.usedLogin, appid, code) {
		fail(40163, "code been used")
		return
	}

	outcome, arg, goOn := s.Steer(w, r, code) // slow-<ms>-<user>: waits, then "ok"
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
	case "bad":
		fail(40029, "invalid code")
	case "risky":
		fail(40226, "high risk user")
	case "limit":
		fail(45011, "api minute-quota reach limit")
	case "busy":
		fail(-1, "system error")
	case "empty":
		fakekit.WriteRaw(w, http.StatusOK, typeText, "")
	case "trunc":
		fakekit.WriteRaw(w, http.StatusOK, typeText, `{"openid": "o`)
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
