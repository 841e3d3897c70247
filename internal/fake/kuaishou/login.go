package fakekuaishou

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

type loginAnswer struct {
	Result     int    `json:"result"`
	ErrorMsg   string `json:"error_msg,omitempty"`
	SessionKey string `json:"session_key,omitempty"`
	OpenID     string `json:"open_id,omitempty"`
	UnionID    string `json:"union_id,omitempty"`
}

// params reads the request's form body and query alike; it reports false
// for a method other than POST (and GET where get is true).
func params(r *http.Request, get bool) (map[string]string, bool) {
	if r.Method != http.MethodPost && !(get && r.Method == http.MethodGet) {
		return nil, false
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if r.ParseForm() != nil {
		return nil, false
	}
	m := map[string]string{}
	for k := range r.Form {
		m[k] = r.Form.Get(k)
	}
	return m, true
}

// code2session serves POST /oauth2/mp/code2session. The js_code steers the
// outcome:
//
//	ok-<user>[.n]         success, a new session_key (union_id if App.UnionID)
//	union-<user>[.n]      success with a union_id
//	same-<user>[.n]       success, the user's current session_key again
//	nokey-<user>[.n]      success without a session_key (a broken answer)
//	badid-<user>[.n]      success with an open_id of the wrong shape
//	slow-<ms>-<user>[.n]  wait, then as ok-<user>
//	bad-…                 ResultBadCode
//	hang-, http500-, html-, empty-, trunc-…  broken answers (fakekit)
//	anything else         ResultBadCode
//
// Codes are single use; a minted one (MintCode) CodeTTL old is bad.
// Force(EndpointCode2Session, m) overrides the next answer; busy and limit
// (Kuaishou documents neither) answer an HTML gateway page.
func (s *Server) code2session(w http.ResponseWriter, r *http.Request) {
	s.Hit(EndpointCode2Session)
	fail := func(result int, msg string) { answer(w, loginAnswer{Result: result, ErrorMsg: msg}) }
	if s.forced(w, r, EndpointCode2Session) {
		return
	}
	p, ok := params(r, false)
	if !ok || p["app_id"] == "" || p["app_secret"] == "" || p["js_code"] == "" {
		fail(ResultBadParams, "参数不合法")
		return
	}
	app, known := s.apps[p["app_id"]]
	if !known || p["app_secret"] != app.Secret {
		fail(ResultBadAppOrKey, "app_id或app_secret不合法")
		return
	}
	code := p["js_code"]
	if s.logins.Use(app.ID, code, s.Now()) != fakekit.CodeFresh {
		fail(ResultBadCode, "js_code不合法或已过期")
		return
	}
	outcome, arg, goOn := s.Steer(w, r, code)
	if !goOn {
		return
	}
	user, valid := fakekit.User(arg)
	switch outcome {
	case "ok", "union", "same", "nokey", "badid":
		if !valid {
			outcome = "bad"
		}
	default:
		if s.Misbehave(w, r, fakekit.Mode(outcome)) {
			return
		}
		outcome = "bad"
	}
	if outcome == "bad" {
		fail(ResultBadCode, "js_code不合法或已过期")
		return
	}
	ans := loginAnswer{Result: ResultOK, OpenID: OpenID(app.ID, user)}
	if outcome == "union" || app.UnionID {
		ans.UnionID = UnionID(user)
	}
	ans.SessionKey = s.keys.ForLogin(app.ID, user, outcome)
	if outcome == "badid" {
		ans.OpenID = "bad id!"
	}
	answer(w, ans)
}

// accessToken serves /oauth2/access_token (POST form, or GET query):
// app_id, app_secret, grant_type=client_credentials. A new token per
// call; the older ones stay valid until their own expiry.
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	s.Hit(EndpointAccessToken)
	type ans struct {
		Result      int    `json:"result"`
		ErrorMsg    string `json:"error_msg,omitempty"`
		AccessToken string `json:"access_token,omitempty"`
		ExpiresIn   int64  `json:"expires_in,omitempty"`
		TokenType   string `json:"token_type,omitempty"`
	}
	if s.forced(w, r, EndpointAccessToken) {
		return
	}
	p, ok := params(r, true)
	if !ok || p["app_id"] == "" || p["app_secret"] == "" || p["grant_type"] != "client_credentials" {
		answer(w, ans{Result: ResultBadParams, ErrorMsg: "参数不合法"})
		return
	}
	if app, known := s.apps[p["app_id"]]; !known || p["app_secret"] != app.Secret {
		answer(w, ans{Result: ResultBadAppOrKey, ErrorMsg: "app_id或app_secret不合法"})
		return
	}
	tok := "ChFvYXV0aC5hY2Nlc3NUb2tlbh" + base64.RawURLEncoding.EncodeToString(fakekit.RandomBytes(36))
	now := s.Now()
	s.mu.Lock()
	if len(s.tokens) >= 1<<14 {
		for t, exp := range s.tokens {
			if !now.Before(exp) {
				delete(s.tokens, t)
			}
		}
	}
	s.tokens[tok] = now.Add(TokenTTL)
	s.mu.Unlock()
	answer(w, ans{Result: ResultOK, AccessToken: tok, ExpiresIn: int64(TokenTTL / time.Second), TokenType: "bearer"})
}

// forced answers a forced answer of endpoint, if one is queued.
func (s *Server) forced(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	m, ok := s.Forced(endpoint)
	if !ok {
		return false
	}
	if !s.Misbehave(w, r, m) {
		s.Misbehave(w, r, fakekit.ModeHTML) // busy, limit: no documented answer
	}
	return true
}

// answer writes a Kuaishou answer: always HTTP 200.
func answer(w http.ResponseWriter, v any) { fakekit.WriteJSON(w, http.StatusOK, v) }
