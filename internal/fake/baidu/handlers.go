package fakebaidu

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, e, desc string) {
	writeJSON(w, map[string]string{"error": e, "error_description": desc})
}

// params reads the form body and the query (Baidu takes either).
func params(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	return r.ParseForm() == nil
}

// misbehave answers the failures shared by codes and FailNext; false for
// an outcome it does not know.
func (s *Server) misbehave(w http.ResponseWriter, r *http.Request, outcome string) bool {
	return s.Misbehave(w, r, fakekit.Mode(outcome)) // hang, http500, html
}

// forced answers a FailNext failure, if one is due; server answers the
// FailServer failure in the endpoint's own way.
func (s *Server) forced(w http.ResponseWriter, r *http.Request, endpoint string, server func(Failure)) bool {
	switch f := s.takeFailure(endpoint); f {
	case "":
		return false
	case FailServer, FailDeadToken:
		server(f)
	default:
		s.misbehave(w, r, string(f))
	}
	return true
}

// login serves POST /oauth/jscode2sessionkey.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	s.Hit(EndpointLogin)
	if r.Method != http.MethodPost || !params(w, r) {
		oauthError(w, "invalid_request", "method or body not supported")
		return
	}
	if s.forced(w, r, EndpointLogin, func(Failure) { oauthError(w, "server_error", "internal error") }) {
		return
	}
	appKey, code := r.Form.Get("client_id"), r.Form.Get("code")
	a, ok := s.apps[appKey]
	if !ok {
		oauthError(w, "invalid_client", "unknown client id")
		return
	}
	if r.Form.Get("sk") != a.Secret {
		oauthError(w, "invalid_client", "Client authentication failed")
		return
	}
	if code == "" {
		oauthError(w, "invalid_request", "missing code")
		return
	}
	if s.codes.Use(appKey, code, s.Now()) != fakekit.CodeFresh { // used, expired, another app's
		oauthError(w, "invalid_grant", "invalid code")
		return
	}

	outcome, arg, goOn := s.Steer(w, r, code) // slow-<ms>-<user>: waits, then "ok"
	if !goOn {
		return
	}
	switch outcome {
	case "ok":
		s.loggedIn(w, appKey, arg)
	case "badid":
		writeJSON(w, map[string]string{"openid": BadOpenID, "session_key": newSessionKey()})
	default:
		if !s.misbehave(w, r, outcome) {
			oauthError(w, "invalid_grant", "invalid code")
		}
	}
}

func (s *Server) loggedIn(w http.ResponseWriter, appKey, userSpec string) {
	user, _, _ := strings.Cut(userSpec, ".")
	openid := OpenID(appKey, user)
	key := newSessionKey()
	s.mu.Lock()
	k := appKey + "\x00" + openid
	s.keys[k] = append([]string{key}, s.keys[k]...)
	s.users[k] = user
	if len(s.keys[k]) > 2 {
		s.keys[k] = s.keys[k][:2]
	}
	s.mu.Unlock()
	writeJSON(w, map[string]string{"openid": openid, "session_key": key})
}

// token serves GET or POST /oauth/2.0/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.Hit(EndpointToken)
	if !params(w, r) {
		oauthError(w, "invalid_request", "bad body")
		return
	}
	if s.forced(w, r, EndpointToken, func(Failure) { oauthError(w, "server_error", "internal error") }) {
		return
	}
	f := r.Form
	a, ok := s.apps[f.Get("client_id")]
	switch {
	case f.Get("grant_type") != "client_credentials":
		oauthError(w, "unsupported_grant_type", "The authorization grant type is not supported")
	case !ok:
		oauthError(w, "invalid_client", "unknown client id")
	case f.Get("client_secret") != a.Secret:
		oauthError(w, "invalid_client", "Client authentication failed")
	case f.Get("scope") != "smartapp_snsapi_base":
		oauthError(w, "invalid_scope", "scope is not smartapp_snsapi_base")
	default:
		now := s.Now()
		tok := newToken(now)
		s.mu.Lock()
		if len(s.tokens) >= maxTokens {
			clear(s.tokens)
		}
		s.tokens[tok] = fakekit.Token{App: a.Key, Expires: now.Add(TokenTTL)}
		s.mu.Unlock()
		writeJSON(w, map[string]any{
			"access_token": tok, "expires_in": int(TokenTTL / time.Second),
			"refresh_token": "25." + tok[3:], "scope": "smartapp_snsapi_base",
			"session_key": "", "session_secret": "",
		})
	}
}

// ExpireTokens kills every token handed out so far.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// getUnionID serves POST /rest/2.0/smartapp/getunionid?access_token=.
func (s *Server) getUnionID(w http.ResponseWriter, r *http.Request) {
	s.Hit(EndpointUnionID)
	rid := strconv.FormatInt(time.Now().UnixNano()%1e10, 10)
	fail := func(errno int, msg string) {
		writeJSON(w, map[string]any{"errno": errno, "errmsg": msg, "request_id": rid, "timestamp": time.Now().Unix()})
	}
	deadToken := func() {
		writeJSON(w, map[string]any{"error_code": 110, "error_msg": "Access token invalid or no longer valid"})
	}
	if r.Method != http.MethodPost || !params(w, r) {
		fail(1, "method not allowed")
		return
	}
	if s.forced(w, r, EndpointUnionID, func(f Failure) {
		if f == FailDeadToken {
			deadToken()
		} else {
			fail(1, "internal error")
		}
	}) {
		return
	}
	s.mu.Lock()
	t, ok := s.tokens[r.URL.Query().Get("access_token")]
	now := s.Now()
	s.mu.Unlock()
	if !ok || !t.Alive(now) {
		deadToken()
		return
	}
	openid := r.PostForm.Get("openid")
	a := s.apps[t.App]
	user, known := s.userOf(t.App, openid)
	if !known || a.NoUnionID {
		fail(1, "openid invalid")
		return
	}
	writeJSON(w, map[string]any{
		"data": map[string]string{"unionid": UnionID(user)}, "errmsg": "succ", "errno": 0,
		"request_id": rid, "timestamp": time.Now().Unix(),
	})
}

// userOf finds the user name behind an openid of an app that logged in.
func (s *Server) userOf(appKey, openid string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[appKey+"\x00"+openid]
	return u, ok
}

// BadOpenID is the openid a badid- code answers: not of an openid's shape.
const BadOpenID = "../../admin"
