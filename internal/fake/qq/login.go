package fakeqq

import (
	"net/http"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// loginAnswer is jscode2session's success; Errcode and Errmsg are set
// every other time (QQ's answers are seen with and without them).
type loginAnswer struct {
	Errcode    *int   `json:"errcode,omitempty"`
	Errmsg     string `json:"errmsg,omitempty"`
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key,omitempty"`
	UnionID    string `json:"unionid,omitempty"`
}

// login serves GET /sns/jscode2session (see the package doc).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	fail, q, ok := s.get(w, r, EndpointLogin, typeText, qqError{-101222100, "param error: use GET"})
	if !ok {
		return
	}
	appid, code := q.Get("appid"), q.Get("js_code")
	app, known := s.apps[appid]
	if !known || q.Get("secret") == "" || q.Get("secret") != app.Secret || q.Get("grant_type") != "authorization_code" {
		fail(-101222100, "param error")
		return
	}
	if s.forcedAnswer(w, r, EndpointLogin, fail) {
		return
	}
	if code == "" || s.codes.Use(appid, code, s.Now()) != fakekit.CodeFresh { // used, or minted CodeTTL ago
		fail(40029, "invalid code")
		return
	}

	outcome, arg, goOn := s.Steer(w, r, code) // slow-<ms>-<user>: waits, then "ok"
	if !goOn {
		return
	}
	switch outcome {
	case "ok", "same", "nokey":
		s.answerLogin(w, app, arg, outcome)
	case "badid":
		writeJSON(w, typeText, loginAnswer{OpenID: BadOpenID, SessionKey: fakekit.NewSessionKey()})
	case "limit":
		fail(45011, "api minute-quota reach limit")
	case "busy":
		fail(-1, "system error")
	default:
		if !s.Misbehave(w, r, fakekit.Mode(outcome)) {
			fail(40029, "invalid code")
		}
	}
}

// answerLogin answers the login of userSpec ("<user>[.nonce]").
func (s *Server) answerLogin(w http.ResponseWriter, app App, userSpec, kind string) {
	user, valid := fakekit.User(userSpec)
	if !valid {
		writeJSON(w, typeText, qqError{40029, "invalid code"})
		return
	}
	openid := OpenID(app.ID, user)
	if !s.allowLogin(app.ID, openid) {
		writeJSON(w, typeText, qqError{45011, "api minute-quota reach limit"})
		return
	}
	ans := loginAnswer{OpenID: openid}
	if app.UnionID {
		ans.UnionID = UnionID(user)
	}
	ans.SessionKey = s.keys.ForLogin(app.ID, openid, kind)
	if s.okFields.Add(1)%2 == 0 {
		zero := 0
		ans.Errcode, ans.Errmsg = &zero, "ok"
	}
	writeJSON(w, typeText, ans)
}

// allowLogin records a login of the user, refusing it past
// LoginsPerMinute in the last minute.
func (s *Server) allowLogin(appid, openid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := appid + "\x00" + openid
	now := s.Now()
	recent := s.logins[k][:0]
	for _, t := range s.logins[k] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= LoginsPerMinute {
		s.logins[k] = recent
		return false
	}
	forgetHalf(s.logins)
	s.logins[k] = append(recent, now)
	return true
}

// BadOpenID is the openid a badid- code answers: not of an openid's shape.
const BadOpenID = "../../admin"
