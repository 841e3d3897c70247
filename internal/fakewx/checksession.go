package fakewx

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// EndpointCheckSession is /wxa/checksession, for Count.
const EndpointCheckSession = "checksession"

func init() {
	endpoints = append(endpoints, EndpointCheckSession)
}

// checkSession serves GET /wxa/checksession?access_token=&openid=&signature=&sig_method=hmac_sha256.
// The token is checked as getuserphonenumber checks it (41001 without
// one, 40001, 42001); then the signature must be the lowercase hex of
// HMAC-SHA256 keyed with the user's current session_key (its base64 text)
// over the empty string: {"errcode": 0, "errmsg": "ok"} when it is, 87009
// "invalid signature" when it is not (a previous key, a key replaced with
// ReplaceSessionKey, a user who never logged in). A sig_method other than
// hmac_sha256 answers 87009 too. Error answers are JSON and text/plain by
// turns, like stable_token's.
func (s *Server) checkSession(w http.ResponseWriter, r *http.Request) {
	fail, ok := s.call(w, r, EndpointCheckSession, http.MethodGet, s.errorType)
	if !ok {
		return
	}
	q := r.URL.Query()
	appid, errcode, errmsg := s.checkToken(q.Get("access_token"))
	if errcode != 0 {
		fail(errcode, errmsg)
		return
	}
	key := s.currentSessionKey(appid, q.Get("openid"))
	if key == "" || q.Get("sig_method") != "hmac_sha256" || !hmac.Equal([]byte(q.Get("signature")), []byte(sessionSignature(key))) {
		fail(87009, "invalid signature")
		return
	}
	writeJSON(w, typeJSON, wxError{Errcode: 0, Errmsg: "ok"})
}

// sessionSignature is checksession's signature of a session_key.
func sessionSignature(key string) string {
	m := hmac.New(sha256.New, []byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

// ReplaceSessionKey replaces the user's session_key without a login, as
// WeChat does on its own (data pre-fetch, periodic updates): the current
// key becomes the previous one, checksession refuses it from now on
// (87009), and EncryptPhone (POST /fake/encrypt) seals with the new key,
// which no login has handed out yet (the next ok- or same- login does).
// It returns the new key, and ErrNoSessionKey for a user who never logged
// in.
func (s *Server) ReplaceSessionKey(appid, openid string) (string, error) {
	if s.currentSessionKey(appid, openid) == "" {
		return "", ErrNoSessionKey
	}
	key := newSessionKey()
	s.rotateSessionKey(appid, openid, key)
	return key, nil
}

// fakeReplaceSessionKey serves POST /fake/replace_session_key {"appid",
// "openid" or "user"}: ReplaceSessionKey, 204 (404 for a user who never
// logged in). appid may be left out when the fake serves a single app.
func (s *Server) fakeReplaceSessionKey(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	appid, openid, ok := s.readUserRequest(w, r, &req, &req)
	if !ok {
		return
	}
	if _, err := s.ReplaceSessionKey(appid, openid); err != nil {
		writeFakeError(w, http.StatusNotFound, "no session_key for this user: log in first")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
