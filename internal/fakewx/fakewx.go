// Package fakewx is a fake of the WeChat mini program server API
// (api.weixin.qq.com), and of WeChat's browser login (open.weixin.qq.com
// and its code exchange), for demos and black-box tests of an auth proxy.
//
// It serves the real paths (jscode2session, stable_token, the old
// /cgi-bin/token, getuserphonenumber, checksession) with the real quirks,
// as strict as WeChat: errors come with HTTP 200 and an errcode;
// jscode2session answers text/plain, and every other error answer of
// stable_token and getuserphonenumber comes as text/plain too (never
// trust Content-Type); codes are single use and die 5 minutes after they
// were handed out (MintCode); a login may replace the user's session_key
// or hand the same one out again; stable_token hands out the same token
// while it has more than TokenOverlap (5 minutes) left, a new one in its
// last 5 minutes (both valid meanwhile, so expires_in is never below
// 300), and force_refresh (20 a day, 30 s apart) kills the old one;
// /cgi-bin/token hands out a new token per call and the previous one dies
// 5 minutes later; a missing appid, secret or access_token answers 41002,
// 41004 or 41001.
//
// The codes a test sends steer the outcome, e.g. "ok-alice.1" logs user
// alice in, "same-alice.2" logs her in with her current session_key,
// "busy-1" answers -1, "hang-1" never answers, "phone-13800138000@alice" is
// a phone code that only alice's openid may redeem, "busyonce-13800138000"
// and "hangonce-13800138000" are phone codes that fail once (-1, no
// answer) and then succeed, as a retry meets them; the comments on the
// (unexported) handlers jscode2session and phoneNumber give the full
// grammar. stable_token is steered per app with SetTokenMode (45009 quota,
// 40164 IP not whitelisted, -1 busy, no answer). The fake's clock can be
// moved with Advance, to expire codes and tokens without waiting.
//
// It plays open.weixin.qq.com too, for the browser login of the apps of
// Config.WebApps (Official Accounts and website applications, WebApp):
// GET /connect/oauth2/authorize and GET /connect/qrconnect check their
// parameters as WeChat does (the app's kind, a redirect_uri on a
// registered domain, response_type=code, the kind's scopes, a state of
// letters and digits, the parameters in WeChat's order; the Official
// Account page only inside WeChat, a User-Agent with MicroMessenger), then
// send the browser back with a code, at once or after a confirm page a
// real browser can click (SetWebUser picks who confirms, and snapshot
// mode); GET /sns/oauth2/access_token trades the code (single use, 5
// minutes, only for the app it was minted for; oauthToken's comment has
// the grammar of steered codes). A user's unionid is the same in the mini
// programs and the browser apps (UnionID).
//
// Helper endpoints under /fake/ let a client in another language drive it:
// POST /fake/encrypt, GET /fake/stats, POST /fake/expire_token?appid=,
// POST /fake/reset_counts, POST /fake/token_mode?appid=&mode=,
// POST /fake/advance?by=<duration>, POST /fake/replace_session_key; for
// the browser login,
// POST /fake/web_user?appid=&user=<spec>&auto=1 (SetWebUser; user empty
// forgets), POST /fake/web_domains?appid=&domain=…&domain=… (SetWebDomains;
// none: the loopback defaults), POST /fake/web_code?appid=&user=&scope=
// (MintWebCode: {"code"}). A test without a browser confirms a page by
// POSTing its parameters with user=<spec> and page=authorize|qrconnect
// to /connect/confirm.
//
// /wxa/checksession tells whether a session_key is the user's current
// one; ReplaceSessionKey replaces it without a login, as WeChat's data
// pre-fetch does, and EncryptPhone then seals with the new key.
package fakewx

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// Endpoint names, as used by Count.
const (
	EndpointJSCode2Session   = "jscode2session"
	EndpointStableToken      = "stable_token"
	EndpointStableTokenForce = "stable_token_force"
	EndpointToken            = "token"
	EndpointPhoneNumber      = "getuserphonenumber"
)

var endpoints = []string{
	EndpointJSCode2Session, EndpointStableToken, EndpointStableTokenForce,
	EndpointToken, EndpointPhoneNumber,
}

// Bounds of the bookkeeping maps: a fake, but one that does not grow forever.
const (
	maxUsedCodes = 1 << 17
	maxTokens    = 1 << 14
)

// CodeTTL is how long a login or phone code lives after WeChat handed it
// out (see MintCode).
const CodeTTL = 5 * time.Minute

// Force refresh limits of stable_token: at most forceRefreshPerDay in any
// 24 hours, and forceRefreshSpacing apart.
const (
	forceRefreshPerDay  = 20
	forceRefreshSpacing = 30 * time.Second
)

// Config configures a Server.
type Config struct {
	// Apps maps appid to secret.
	Apps map[string]string
	// TokenTTL is the access_token lifetime; 0 means 7200s. Tests may
	// make it a few seconds.
	TokenTTL time.Duration
	// TokenOverlap is how long an access_token and its successor are both
	// valid: stable_token hands out a new token once the current one has
	// no more than this left (so expires_in is never below it), and a
	// /cgi-bin/token call leaves the previous token this long to live.
	// 0 means 5 minutes, as WeChat; it is capped at TokenTTL/2, so that a
	// short TokenTTL for tests works without setting it.
	TokenOverlap time.Duration
	// WebApps are the browser apps (Official Accounts and website
	// applications) by appid; see WebApp. They are not mini programs:
	// jscode2session and stable_token do not know them.
	WebApps map[string]WebApp
}

// Server is the fake WeChat API, an http.Handler. It is safe for
// concurrent use.
type Server struct {
	// Base: Now and Advance (the fake's clock: tokens, codes and
	// watermarks follow it), Close (every request held by a hang- or
	// slow- code answers a 503 gateway page at once; later ones answer at
	// once too), Count and ResetCounts (calls by endpoint name: see the
	// Endpoint constants; stable_token calls with force_refresh true are
	// counted in "stable_token" and in "stable_token_force").
	fakekit.Base
	apps      map[string]string // immutable after New
	ttl       time.Duration
	overlap   time.Duration
	errAnswer atomic.Uint64 // error answers of stable_token and getuserphonenumber

	mu         sync.Mutex
	keys       map[userRef]*sessionKeys
	nextKeys   map[userRef]string          // keys set with SetNextSessionKey
	usedLogin  *fakekit.FIFOMap[struct{}]  // appid "\x00" js_code
	usedPhone  *fakekit.FIFOMap[struct{}]  // appid "\x00" phone code
	triedPhone *fakekit.FIFOMap[struct{}]  // appid "\x00" busyonce- or hangonce- code that failed once
	tokens     *fakekit.FIFOMap[*token]    // every token issued (bounded)
	stable     map[string]*token           // appid -> current stable_token token
	legacy     map[string]*token           // appid -> current /cgi-bin/token token
	minted     *fakekit.FIFOMap[time.Time] // appid "\x00" code -> when it was handed out
	modes      map[string]TokenMode
	forced     map[string][]time.Time // appid -> force_refresh times of the last 24 hours

	web *webState // the browser login (web.go), with its own mutex

}

// userRef names a user of an app.
type userRef struct{ appid, openid string }

// sessionKeys are a user's session_keys as WeChat holds them.
type sessionKeys struct{ current, previous string }

// New returns a fake WeChat serving the apps of cfg.
func New(cfg Config) *Server {
	apps := make(map[string]string, len(cfg.Apps))
	for id, secret := range cfg.Apps {
		apps[id] = secret
	}
	ttl := cfg.TokenTTL
	if ttl <= 0 {
		ttl = 7200 * time.Second
	}
	overlap := cfg.TokenOverlap
	if overlap <= 0 {
		overlap = 5 * time.Minute
	}
	overlap = min(overlap, ttl/2)
	s := &Server{
		apps:       apps,
		ttl:        ttl,
		overlap:    overlap,
		keys:       make(map[userRef]*sessionKeys),
		nextKeys:   make(map[userRef]string),
		usedLogin:  fakekit.NewFIFOMap[struct{}](maxUsedCodes),
		usedPhone:  fakekit.NewFIFOMap[struct{}](maxUsedCodes),
		triedPhone: fakekit.NewFIFOMap[struct{}](maxUsedCodes),
		tokens:     fakekit.NewFIFOMap[*token](maxTokens),
		stable:     make(map[string]*token),
		legacy:     make(map[string]*token),
		minted:     fakekit.NewFIFOMap[time.Time](maxUsedCodes),
		modes:      make(map[string]TokenMode),
		forced:     make(map[string][]time.Time),
		web:        newWebState(cfg.WebApps),
	}
	s.Init()
	return s
}

// ServeHTTP routes a request to the fake endpoint of its path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/sns/jscode2session":
		s.jscode2session(w, r)
	case "/cgi-bin/stable_token":
		s.stableToken(w, r)
	case "/cgi-bin/token":
		s.legacyToken(w, r)
	case "/wxa/business/getuserphonenumber":
		s.phoneNumber(w, r)
	case "/wxa/checksession":
		s.checkSession(w, r)
	case "/wxa/msg_sec_check":
		s.msgSecCheck(w, r)
	case "/wxa/getwxacodeunlimit":
		s.wxaCodeUnlimited(w, r)
	case "/connect/oauth2/authorize":
		s.webAuthorize(w, r, OfficialAccount)
	case "/connect/qrconnect":
		s.webAuthorize(w, r, WebsiteApp)
	case "/connect/confirm":
		s.webConfirm(w, r)
	case "/sns/oauth2/access_token":
		s.oauthToken(w, r)
	case "/fake/web_user":
		s.fakeWebUser(w, r)
	case "/fake/web_domains":
		s.fakeWebDomains(w, r)
	case "/fake/web_code":
		s.fakeWebCode(w, r)
	case "/fake/encrypt":
		s.fakeEncrypt(w, r)
	case "/fake/stats":
		s.fakeStats(w, r)
	case "/fake/expire_token":
		s.fakeExpireToken(w, r)
	case "/fake/reset_counts":
		s.fakeResetCounts(w, r)
	case "/fake/token_mode":
		s.fakeTokenMode(w, r)
	case "/fake/advance":
		s.fakeAdvance(w, r)
	case "/fake/replace_session_key":
		s.fakeReplaceSessionKey(w, r)
	default:
		fakekit.WriteRaw(w, http.StatusNotFound, "text/plain; charset=utf-8", "404 page not found\n")
	}
}

// countsSnapshot returns a snapshot of every counter, zeros included.
func (s *Server) countsSnapshot() map[string]int {
	out := make(map[string]int, len(endpoints))
	for _, e := range endpoints {
		out[e] = s.Count(e)
	}
	return out
}

// SessionKeys returns the user's current session_key (base64 of 16 bytes)
// and the one before it, as WeChat holds them; "" where there is none.
func (s *Server) SessionKeys(appid, openid string) (current, previous string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[userRef{appid, openid}]; k != nil {
		return k.current, k.previous
	}
	return "", ""
}

// SetNextSessionKey makes the user's next successful login hand out key
// (base64 of 16 bytes) instead of a random one: for replaying a payload
// sealed with a known key, such as WeChat's published test vector.
func (s *Server) SetNextSessionKey(appid, openid, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextKeys[userRef{appid, openid}] = key
}

// takeSessionKey returns the key the user's login hands out: the one set
// with SetNextSessionKey (once), else a new random one.
func (s *Server) takeSessionKey(appid, openid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := userRef{appid, openid}
	if k, ok := s.nextKeys[ref]; ok {
		delete(s.nextKeys, ref)
		return k
	}
	return newSessionKey()
}

// rotateSessionKey makes key the user's current session_key; the current
// one becomes the previous one, unless key is the current one handed out
// again (then nothing changes, as with WeChat).
func (s *Server) rotateSessionKey(appid, openid, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := userRef{appid, openid}
	k := s.keys[ref]
	if k == nil {
		k = &sessionKeys{}
		s.keys[ref] = k
	}
	if k.current == key {
		return
	}
	k.previous, k.current = k.current, key
}

// currentSessionKey returns the user's current session_key, "" if none.
func (s *Server) currentSessionKey(appid, openid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[userRef{appid, openid}]; k != nil {
		return k.current
	}
	return ""
}

// MintCode records that WeChat handed out code (a login or phone code of
// appid) now: from CodeTTL on it answers 40029, as an expired code does. A
// code never minted counts as handed out the moment it is used.
func (s *Server) MintCode(appid, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.minted.Put(appid+"\x00"+code, s.Now())
}

// expired reports whether code was minted for appid CodeTTL ago or more.
func (s *Server) expired(appid, code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.minted.Get(appid + "\x00" + code)
	return ok && s.Now().Sub(at) >= CodeTTL
}

// errorType is the Content-Type of the next error answer of stable_token
// or getuserphonenumber: JSON and text/plain by turns, as the real API
// mixes them.
func (s *Server) errorType() string {
	if s.errAnswer.Add(1)%2 == 0 {
		return typeText
	}
	return typeJSON
}

// consume marks code used for appid in set; it reports false if it was used
// already.
func (s *Server) consume(set *fakekit.FIFOMap[struct{}], appid, code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := appid + "\x00" + code
	if _, used := set.Get(k); used {
		return false
	}
	set.Put(k, struct{}{})
	return true
}
