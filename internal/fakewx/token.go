package fakewx

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"time"
)

// token is an access_token issued to an app.
type token struct {
	value   string
	appid   string
	expires time.Time
	killed  bool // replaced by force_refresh or by /cgi-bin/token
}

// alive reports whether t may be used at now.
func (t *token) alive(now time.Time) bool { return !t.killed && now.Before(t.expires) }

// tokenAnswer is the success answer of both token endpoints.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// maxBody caps the JSON bodies the fake reads.
const maxBody = 64 << 10

// readJSON decodes the request body into v; it reports false on any error.
func readJSON(r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	return err == nil && json.Unmarshal(b, v) == nil
}

// stableToken serves POST /cgi-bin/stable_token: without force_refresh the
// app's current token while it lives (expires_in = seconds left), a new one
// once it expired; with force_refresh a new one, and the old one is dead at
// once.
func (s *Server) stableToken(w http.ResponseWriter, r *http.Request) {
	s.count(EndpointStableToken)
	fail := func(errcode int, msg string) { writeJSON(w, typeJSON, newError(errcode, msg)) }

	if r.Method != http.MethodPost {
		fail(43002, "require POST method")
		return
	}
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if !readJSON(r, &req) {
		fail(47001, "data format error")
		return
	}
	if req.ForceRefresh {
		s.count(EndpointStableTokenForce)
	}
	secret, known := s.apps[req.AppID]
	switch {
	case !known:
		fail(40013, "invalid appid")
		return
	case req.Secret != secret:
		fail(40125, "invalid appsecret")
		return
	case req.GrantType != "client_credential":
		fail(40002, "invalid grant_type")
		return
	}

	s.mu.Lock()
	now := time.Now()
	cur := s.stable[req.AppID]
	if req.ForceRefresh || cur == nil || !cur.alive(now) {
		if req.ForceRefresh && cur != nil {
			cur.killed = true
		}
		cur = s.issueLocked(req.AppID, now)
		s.stable[req.AppID] = cur
	}
	ans := tokenAnswer{AccessToken: cur.value, ExpiresIn: secondsLeft(cur, now)}
	s.mu.Unlock()
	writeJSON(w, typeJSON, ans)
}

// legacyToken serves GET /cgi-bin/token, the old endpoint: a new token on
// every call, which kills the previous one it issued. (Like the real API,
// its tokens are apart from stable_token's: it does not touch those.)
func (s *Server) legacyToken(w http.ResponseWriter, r *http.Request) {
	s.count(EndpointToken)
	fail := func(errcode int, msg string) { writeJSON(w, typeJSON, newError(errcode, msg)) }

	if r.Method != http.MethodGet {
		fail(43001, "require GET method")
		return
	}
	q := r.URL.Query()
	appid := q.Get("appid")
	secret, known := s.apps[appid]
	switch {
	case !known:
		fail(40013, "invalid appid")
		return
	case q.Get("secret") != secret:
		fail(40125, "invalid appsecret")
		return
	case q.Get("grant_type") != "client_credential":
		fail(40002, "invalid grant_type")
		return
	}

	s.mu.Lock()
	now := time.Now()
	if old := s.legacy[appid]; old != nil {
		old.killed = true
	}
	t := s.issueLocked(appid, now)
	s.legacy[appid] = t
	ans := tokenAnswer{AccessToken: t.value, ExpiresIn: secondsLeft(t, now)}
	s.mu.Unlock()
	writeJSON(w, typeJSON, ans)
}

// issueLocked makes a new token for appid; s.mu must be held.
func (s *Server) issueLocked(appid string, now time.Time) *token {
	t := &token{value: newAccessToken(), appid: appid, expires: now.Add(s.ttl)}
	s.tokens.put(t.value, t)
	return t
}

// secondsLeft is t's remaining life in whole seconds, rounded up.
func secondsLeft(t *token, now time.Time) int {
	return int(math.Ceil(t.expires.Sub(now).Seconds()))
}

// checkToken looks an access_token up: it returns the app it belongs to, or
// the errcode and errmsg of a missing, unknown, killed (40001) or expired
// (42001) one.
func (s *Server) checkToken(value string) (appid string, errcode int, errmsg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens.get(value)
	switch {
	case value == "" || !ok || t.killed:
		return "", 40001, "invalid credential, access_token is invalid or not latest"
	case !t.alive(time.Now()):
		return "", 42001, "access_token expired"
	}
	return t.appid, 0, ""
}

// ExpireToken expires the app's current access_token now: calls using it get
// 42001, and the next stable_token call returns a new token. (It expires the
// current /cgi-bin/token token too, if any.)
func (s *Server) ExpireToken(appid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, t := range []*token{s.stable[appid], s.legacy[appid]} {
		if t != nil && t.expires.After(now) {
			t.expires = now
		}
	}
}

// AccessToken returns the app's current access_token from stable_token
// (falling back on the one from /cgi-bin/token), "" if none was issued.
func (s *Server) AccessToken(appid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.stable[appid]; t != nil {
		return t.value
	}
	if t := s.legacy[appid]; t != nil {
		return t.value
	}
	return ""
}
