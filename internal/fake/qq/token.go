package fakeqq

import (
	"math"
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// tokenAnswer is getToken's success.
type tokenAnswer struct {
	Errcode     int    `json:"errcode"`
	Errmsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// getToken serves GET /api/getToken?grant_type=client_credential&appid=&secret=
// (see the package doc).
func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	fail, q, ok := s.get(w, r, EndpointGetToken, typeJSON, qqError{40002, "use GET"})
	if !ok {
		return
	}
	app, known := s.apps[q.Get("appid")]
	switch {
	case q.Get("grant_type") != "client_credential":
		fail(40002, "invalid grant_type")
		return
	case !known:
		fail(40013, "invalid appid")
		return
	case q.Get("secret") != app.Secret:
		fail(40001, "invalid secret")
		return
	}
	if s.forcedAnswer(w, r, EndpointGetToken, fail) {
		return
	}

	s.mu.Lock()
	now := s.Now()
	if old := s.current[app.ID]; old != nil && old.Expires.After(now.Add(TokenOverlap)) {
		old.Expires = now.Add(TokenOverlap)
	}
	for v, t := range s.tokens { // forget the dead ones
		if !t.Alive(now) {
			delete(s.tokens, v)
		}
	}
	value := newAccessToken()
	t := &fakekit.Token{App: app.ID, Expires: now.Add(TokenTTL)}
	s.tokens[value] = t
	s.current[app.ID] = t
	ans := tokenAnswer{Errmsg: "ok", AccessToken: value, ExpiresIn: int(math.Ceil(t.Expires.Sub(now).Seconds()))}
	s.mu.Unlock()
	writeJSON(w, typeJSON, ans)
}

// TokenApp returns the app an access_token belongs to, if it is alive now.
func (s *Server) TokenApp(value string) (appid string, alive bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	if !ok || !t.Alive(s.Now()) {
		return "", false
	}
	return t.App, true
}
