package fakewx

import (
	"io"
	"math"
	"net"
	"net/http"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
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
func readJSON(r *http.Request, v any) bool { return decodeJSON(bodyOf(r), v) }

// bodyOf reads r's body, at most maxBody bytes (nil on an error).
func bodyOf(r *http.Request) []byte {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil
	}
	return b
}

// decodeBody decodes a request's JSON body into v, or answers 47001 with
// fail and reports false.
func decodeBody(body []byte, v any, fail func(int, string)) bool {
	if !decodeJSON(body, v) {
		fail(47001, "data format error")
		return false
	}
	return true
}

// TokenMode steers an app's stable_token answers (SetTokenMode).
type TokenMode string

// The stable_token modes.
const (
	TokenOK       TokenMode = ""      // tokens as described on stableToken
	TokenQuota    TokenMode = "quota" // 45009: the daily quota is spent
	TokenIPDenied TokenMode = "ip"    // 40164: the caller's IP is not in the app's whitelist
	TokenBusy     TokenMode = "busy"  // -1: system busy
	TokenHang     TokenMode = "hang"  // no answer until the client leaves or Close
	TokenHTML     TokenMode = "html"  // HTTP 200 HTML gateway page
)

// parseTokenMode accepts the names of the TokenMode constants ("ok" for
// TokenOK).
func parseTokenMode(name string) (TokenMode, bool) {
	switch m := TokenMode(name); m {
	case TokenQuota, TokenIPDenied, TokenBusy, TokenHang, TokenHTML:
		return m, true
	case "ok", TokenOK:
		return TokenOK, true
	}
	return TokenOK, false
}

// SetTokenMode makes every later stable_token call of appid answer as mode
// says, until set back to TokenOK. Tokens already handed out stay valid:
// WeChat honours them until they expire.
func (s *Server) SetTokenMode(appid string, mode TokenMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mode == TokenOK {
		delete(s.modes, appid)
		return
	}
	s.modes[appid] = mode
}

func (s *Server) tokenMode(appid string) TokenMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modes[appid]
}

// checkCredentials checks the appid and secret of a token request: the
// errcode and errmsg of a missing (41002, 41004) or wrong (40013, 40125)
// one, 0 when they are the app's.
func (s *Server) checkCredentials(appid, secret string) (int, string) {
	want, known := s.appSecret(appid)
	return checkSecret(want, known, appid, secret)
}

// appSecret is the secret of a mini program, and whether the fake knows it.
func (s *Server) appSecret(appid string) (string, bool) {
	secret, known := s.apps[appid]
	return secret, known
}

// checkSecret checks an appid and secret against the app's secret want
// (known: the appid is the fake's): as checkCredentials.
func checkSecret(want string, known bool, appid, secret string) (int, string) {
	switch {
	case appid == "":
		return 41002, "appid missing"
	case secret == "":
		return 41004, "appsecret missing"
	case !known:
		return 40013, "invalid appid"
	case secret != want:
		return 40125, "invalid appsecret"
	}
	return 0, ""
}

// stableToken serves POST /cgi-bin/stable_token. Without force_refresh it
// answers the app's current token while that has more than TokenOverlap
// (5 minutes) left, expires_in being the seconds left; then a new token,
// the old one staying valid until it expires. With force_refresh a new
// token, the old one dead at once; at most 20 force refreshes in 24 hours
// (then 45009) and 30 seconds apart (else 45011). The app's TokenMode may
// make it answer an error instead; every other error answer is
// text/plain.
func (s *Server) stableToken(w http.ResponseWriter, r *http.Request) {
	fail, ok := s.call(w, r, EndpointStableToken, http.MethodPost, s.errorType)
	if !ok {
		return
	}
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if !decodeBody(bodyOf(r), &req, fail) {
		return
	}
	if req.ForceRefresh {
		s.Hit(EndpointStableTokenForce)
	}
	if errcode, msg := s.checkCredentials(req.AppID, req.Secret); errcode != 0 {
		fail(errcode, msg)
		return
	}
	if req.GrantType != "client_credential" {
		fail(40002, "invalid grant_type")
		return
	}
	switch s.tokenMode(req.AppID) {
	case TokenQuota:
		fail(45009, "reach max api daily quota limit")
		return
	case TokenIPDenied:
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		fail(40164, "invalid ip "+ip+" ipv6 ::ffff:"+ip+", not in whitelist")
		return
	case TokenBusy:
		fail(-1, "system error")
		return
	case TokenHang:
		s.Misbehave(w, r, fakekit.ModeHang)
		return
	case TokenHTML:
		fakekit.WriteRaw(w, http.StatusOK, typeHTML, fakekit.PageGateway)
		return
	}

	s.mu.Lock()
	now := s.Now()
	cur := s.stable[req.AppID]
	if req.ForceRefresh {
		if errcode, msg := s.allowForceLocked(req.AppID, now); errcode != 0 {
			s.mu.Unlock()
			fail(errcode, msg)
			return
		}
		if cur != nil {
			cur.killed = true
		}
		cur = nil
	}
	if cur == nil || !cur.alive(now) || cur.expires.Sub(now) <= s.overlap {
		// A new token; an old one not killed lives on until it expires.
		cur = s.issueLocked(req.AppID, now)
		s.stable[req.AppID] = cur
	}
	ans := tokenAnswer{AccessToken: cur.value, ExpiresIn: secondsLeft(cur, now)}
	s.mu.Unlock()
	writeJSON(w, typeJSON, ans)
}

// allowForceLocked applies the force_refresh limits at now, recording the
// refresh if it is allowed; s.mu must be held.
func (s *Server) allowForceLocked(appid string, now time.Time) (int, string) {
	var recent []time.Time
	for _, t := range s.forced[appid] {
		if now.Sub(t) < 24*time.Hour {
			recent = append(recent, t)
		}
	}
	switch {
	case len(recent) >= forceRefreshPerDay:
		s.forced[appid] = recent
		return 45009, "reach max api daily quota limit"
	case len(recent) > 0 && now.Sub(recent[len(recent)-1]) < forceRefreshSpacing:
		s.forced[appid] = recent
		return 45011, "api minute-quota reach limit, must slower, retry next minute"
	}
	s.forced[appid] = append(recent, now)
	return 0, ""
}

// legacyToken serves GET /cgi-bin/token, the old endpoint: a new token on
// every call; the previous one it issued dies TokenOverlap (5 minutes)
// later. (Like the real API, its tokens are apart from stable_token's: it
// does not touch those.)
func (s *Server) legacyToken(w http.ResponseWriter, r *http.Request) {
	fail, ok := s.call(w, r, EndpointToken, http.MethodGet, always(typeJSON))
	if !ok {
		return
	}
	q := r.URL.Query()
	appid := q.Get("appid")
	if errcode, msg := s.checkCredentials(appid, q.Get("secret")); errcode != 0 {
		fail(errcode, msg)
		return
	}
	if q.Get("grant_type") != "client_credential" {
		fail(40002, "invalid grant_type")
		return
	}

	s.mu.Lock()
	now := s.Now()
	if old := s.legacy[appid]; old != nil && old.expires.After(now.Add(s.overlap)) {
		old.expires = now.Add(s.overlap)
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
	s.tokens.Put(t.value, t)
	return t
}

// secondsLeft is t's remaining life in whole seconds, rounded up.
func secondsLeft(t *token, now time.Time) int {
	return int(math.Ceil(t.expires.Sub(now).Seconds()))
}

// checkToken looks an access_token up: it returns the app it belongs to, or
// the errcode and errmsg of a missing (41001), unknown or killed (40001) or
// expired (42001) one.
func (s *Server) checkToken(value string) (appid string, errcode int, errmsg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens.Get(value)
	switch {
	case value == "":
		return "", 41001, "access_token missing"
	case !ok || t.killed:
		return "", 40001, "invalid credential, access_token is invalid or not latest"
	case !t.alive(s.Now()):
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
	now := s.Now()
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
