package fakeqq

import (
	"net/http"
	"strconv"
	"strings"
	"time"
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
	s.count(EndpointLogin)
	fail := func(errcode int, msg string) { writeJSON(w, http.StatusOK, typeText, qqError{errcode, msg}) }
	if r.Method != http.MethodGet {
		fail(-101222100, "param error: use GET")
		return
	}
	q := r.URL.Query()
	appid, code := q.Get("appid"), q.Get("js_code")
	app, known := s.apps[appid]
	if !known || q.Get("secret") == "" || q.Get("secret") != app.Secret || q.Get("grant_type") != "authorization_code" {
		fail(-101222100, "param error")
		return
	}
	if s.forcedAnswer(w, r, EndpointLogin, fail) {
		return
	}
	if code == "" || !s.use(appid, code) {
		fail(40029, "invalid code")
		return
	}

	outcome, arg, _ := strings.Cut(code, "-")
	switch outcome {
	case "ok", "same", "nokey":
		s.answerLogin(w, app, arg, outcome)
	case "slow":
		msText, rest, _ := strings.Cut(arg, "-")
		ms, err := strconv.Atoi(msText)
		if err != nil || ms < 0 {
			fail(40029, "invalid code")
			return
		}
		if s.delay(w, r, time.Duration(ms)*time.Millisecond) {
			s.answerLogin(w, app, rest, "ok")
		}
	case "badid":
		writeJSON(w, http.StatusOK, typeText, loginAnswer{OpenID: BadOpenID, SessionKey: newSessionKey()})
	case "limit":
		fail(45011, "api minute-quota reach limit")
	case "busy":
		fail(-1, "system error")
	default:
		if !s.misbehave(w, r, Mode(outcome)) {
			fail(40029, "invalid code")
		}
	}
}

// use marks code used; it reports false for a code used already or
// minted CodeTTL ago or more.
func (s *Server) use(appid, code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := appid + "\x00" + code
	now := s.Now()
	if at, ok := s.minted[k]; ok && now.Sub(at) >= CodeTTL {
		return false
	}
	if _, used := s.used[k]; used {
		return false
	}
	forgetHalf(s.used)
	s.used[k] = now
	return true
}

// answerLogin answers the login of userSpec ("<user>[.nonce]").
func (s *Server) answerLogin(w http.ResponseWriter, app App, userSpec, kind string) {
	user, _, _ := strings.Cut(userSpec, ".")
	if !validUser(user) {
		writeJSON(w, http.StatusOK, typeText, qqError{40029, "invalid code"})
		return
	}
	openid := OpenID(app.ID, user)
	if !s.allowLogin(app.ID, openid) {
		writeJSON(w, http.StatusOK, typeText, qqError{45011, "api minute-quota reach limit"})
		return
	}
	ans := loginAnswer{OpenID: openid}
	if app.UnionID {
		ans.UnionID = UnionID(user)
	}
	switch kind {
	case "ok":
		ans.SessionKey = s.rotateKey(app.ID, openid, newSessionKey())
	case "same":
		ans.SessionKey = s.rotateKey(app.ID, openid, "")
	}
	if s.okFields.Add(1)%2 == 0 {
		zero := 0
		ans.Errcode, ans.Errmsg = &zero, "ok"
	}
	writeJSON(w, http.StatusOK, typeText, ans)
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

// rotateKey makes key the user's current session_key (the current one
// becomes the previous); key "" hands the current one out again (a new
// one if the user has none). It returns the key handed out.
func (s *Server) rotateKey(appid, openid, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[appid+"\x00"+openid]
	if k == nil {
		forgetHalf(s.keys)
		k = &keyPair{}
		s.keys[appid+"\x00"+openid] = k
	}
	if key == "" {
		if k.current != "" {
			return k.current
		}
		key = newSessionKey()
	}
	k.previous, k.current = k.current, key
	return key
}

// validUser reports whether name is a user name: [A-Za-z0-9_]+.
func validUser(name string) bool {
	for _, c := range name {
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return name != ""
}

// BadOpenID is the openid a badid- code answers: not of an openid's shape.
const BadOpenID = "../../admin"
