package fakedouyin

import (
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// jscode2session serves POST /api/apps/v2/jscode2session. The code steers
// the outcome:
//
//	ok-<user>[.n]         success, a new session_key; a unionid if App.UnionID
//	union-<user>[.n]      success with a unionid
//	same-<user>[.n]       success, the user's current session_key again
//	nokey-<user>[.n]      success without a session_key (a broken answer)
//	badid-<user>[.n]      success with an openid of the wrong shape
//	slow-<ms>-<user>[.n]  wait, then as ok-<user>
//	bad-…                 40018 bad code
//	busy-…                -1 system error
//	hang-, http500-, html-, empty-, trunc-…  broken answers (fakekit)
//	anything else         40018
//
// anonymous_code "anon-<user>[.n]" fills anonymous_openid; any other
// non-empty one answers 40019. Codes are single use (40018 again); a
// minted code (MintCode) LoginCodeTTL old answers 40018. Force(
// EndpointCode2Session, m) overrides the next answer (busy and limit
// both answer -1: Douyin documents no rate limit here).
func (s *Server) jscode2session(w http.ResponseWriter, r *http.Request) {
	fail := func(errNo int, tips string) {
		answer(w, loginAnswer{ErrNo: errNo, ErrTips: tips, LogID: s.logID()})
	}
	if busy := (errAnswer{-1, "system error"}); s.begin(w, r, EndpointCode2Session, fail, busy, busy) {
		return
	}
	var req struct {
		credentials
		Code          string `json:"code"`
		AnonymousCode string `json:"anonymous_code"`
	}
	app, ok := s.readApp(r, &req, &req.credentials, fail)
	switch {
	case !ok:
		return
	case req.Code == "" && req.AnonymousCode == "":
		fail(40014, "bad params")
		return
	}
	var data loginData
	if req.AnonymousCode != "" {
		outcome, arg := fakekit.ParseCode(req.AnonymousCode)
		user, ok := fakekit.User(arg)
		if outcome != "anon" || !ok || s.logins.Use(app.ID, "anon\x00"+req.AnonymousCode, s.Now()) != fakekit.CodeFresh {
			fail(40019, "bad anonymous_code")
			return
		}
		data.AnonymousOpenID = "a" + OpenID(app.ID, user)[1:]
	}
	if req.Code != "" && !s.loginCode(w, r, app, req.Code, &data, fail) {
		return
	}
	answer(w, loginAnswer{ErrTips: "success", LogID: s.logID(), Data: data})
}

// loginCode fills data from code, or answers itself and reports false.
func (s *Server) loginCode(w http.ResponseWriter, r *http.Request, app App, code string, data *loginData, fail func(int, string)) bool {
	if s.logins.Use(app.ID, code, s.Now()) != fakekit.CodeFresh {
		fail(40018, "bad code")
		return false
	}
	outcome, arg, goOn := s.Steer(w, r, code)
	if !goOn {
		return false
	}
	switch outcome {
	case "ok", "union", "same", "nokey", "badid":
	case "busy":
		fail(-1, "system error")
		return false
	default:
		if !s.Misbehave(w, r, fakekit.Mode(outcome)) {
			fail(40018, "bad code")
		}
		return false
	}
	user, ok := fakekit.User(arg)
	if !ok {
		fail(40018, "bad code")
		return false
	}
	data.OpenID = OpenID(app.ID, user)
	if outcome == "union" || app.UnionID {
		data.UnionID = UnionID(user)
	}
	data.SessionKey = s.keys.ForLogin(app.ID, user, outcome)
	if outcome == "badid" {
		data.OpenID = "bad id!"
	}
	return true
}
