// Package fakeqq is a fake of the QQ mini program server API
// (api.q.qq.com) for tests and demos: GET /sns/jscode2session (login) and
// GET /api/getToken (the app's access_token), as strict as QQ documents
// them, and test controls in Go (MintCode, Force, SealPhone, Seal,
// Advance, Count) and over HTTP under /fake/qq/ (see control), named as
// in the other platforms' fakes.
//
// Login: every answer is HTTP 200 (text/plain, as WeChat's clone
// answers); only the query is read; grant_type must be
// authorization_code. Codes are single use and die CodeTTL (5 minutes,
// assumed as QQ does not say) after MintCode; a reused or expired code
// answers 40029 (QQ documents no "code used" errcode). A wrong or unknown
// appid or secret answers -101222100, never echoing the secret. More than
// LoginsPerMinute logins of one user in a minute answer 45011. A login
// hands out a session_key (base64 of 16 bytes) kept per user as WeChat
// keeps it: newest and previous. unionid only for an App with UnionID.
// Successes carry "errcode": 0, "errmsg": "ok" every other time, so that
// a client must accept both forms.
//
// The code steers the outcome, as with the WeChat fake (fakewx):
//
//	ok-<user>[.n]         success, a new session_key
//	same-<user>[.n]       success with the user's current session_key again
//	nokey-<user>[.n]      an openid but no session_key (a broken answer)
//	slow-<ms>-<user>[.n]  wait ms milliseconds, then as ok-<user>
//	badid-…               success with the openid BadOpenID
//	bad-…                 40029
//	limit-…               45011
//	busy-…                -1
//	hang-…                no answer until the client leaves or Close
//	http500-…             HTTP 500 HTML page
//	html-…                HTTP 200 HTML gateway page
//	empty-…, trunc-…      HTTP 200, an empty body or cut JSON
//	anything else         40029
//
// getToken: {"errcode": 0, "errmsg": "ok", "access_token", "expires_in":
// 7200}; each fetch hands out a new token and leaves the previous one
// TokenOverlap (5 minutes) to live; 40002 for a grant_type other than
// client_credential, 40013 for an unknown appid, 40001 for a wrong
// secret.
//
// QQ's login path is WeChat's too (/sns/jscode2session): to serve both
// fakes on one address, mount Route(wechatFake, qqFake), which sends a
// login whose appid is all digits (a QQ app id) and QQ's own paths to the
// QQ fake and everything else on.
package fakeqq

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// Endpoint names, for Count.
const (
	EndpointLogin    = "jscode2session"
	EndpointGetToken = "getToken"
)

// Lifetimes and limits of the fake, as QQ documents or as assumed.
const (
	CodeTTL         = 5 * time.Minute
	TokenTTL        = 7200 * time.Second
	TokenOverlap    = 5 * time.Minute
	LoginsPerMinute = 100
	// maxRemembered bounds the bookkeeping of used codes and tokens: past
	// it the oldest half is forgotten (a fake, not a store).
	maxRemembered = 1 << 16
)

// App is one QQ mini program the fake serves.
type App struct {
	ID, Secret string
	// UnionID: the app is bound to a QQ open platform account, so logins
	// carry a unionid.
	UnionID bool
}

// Server is the fake QQ API, an http.Handler. It is safe for concurrent
// use.
type Server struct {
	// Base: Now and Advance (the fake's clock: codes, tokens and rate
	// limits age at once, and later watermarks carry the moved time),
	// Close (every request held by a hang- or slow- code answers a 503
	// gateway page; later ones answer at once), Count and ResetCounts
	// (by endpoint: "jscode2session", "getToken"), Force (the next call
	// of an endpoint, any app, answers a Mode; forced answers queue up).
	fakekit.Base
	apps     map[string]App      // immutable after New
	okFields atomic.Uint64       // login successes, to add errcode 0 every other time
	codes    *fakekit.Codes      // login codes, per app
	keys     fakekit.SessionKeys // by app and openid

	mu      sync.Mutex
	logins  map[string][]time.Time    // appid "\x00" openid -> logins of the last minute
	tokens  map[string]*fakekit.Token // value -> token
	current map[string]*fakekit.Token // appid -> newest token
}

// New returns a fake QQ serving apps.
func New(apps ...App) *Server {
	s := &Server{
		apps:    fakekit.Index(apps, func(a App) string { return a.ID }),
		codes:   fakekit.NewCodes(CodeTTL),
		logins:  map[string][]time.Time{},
		tokens:  map[string]*fakekit.Token{},
		current: map[string]*fakekit.Token{},
	}
	s.Init()
	s.Pages = fakekit.Pages{Gateway: pageGW, Type: typeText, Trunc: `{"openid": "`}
	return s
}

// Register mounts QQ's own paths on mux: /api/getToken and /fake/qq/.
// Its login path, /sns/jscode2session, is WeChat's too: mount it with
// Route (mux.Handle("/sns/jscode2session", Route(wechatFake, s))), or
// mount Route as the mux's fallback.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("/api/getToken", s)
	mux.Handle("/fake/qq/", s)
}

// Route sends QQ's requests to qq and every other request to next: QQ's
// own paths, and a /sns/jscode2session whose appid is all digits (QQ app
// ids are decimal, WeChat's start with "wx").
func Route(next http.Handler, qq *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/api/getToken" || strings.HasPrefix(p, "/fake/qq/") ||
			(p == "/sns/jscode2session" && isDigits(r.URL.Query().Get("appid"))) {
			qq.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP serves every path of the fake.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/sns/jscode2session":
		s.login(w, r)
	case p == "/api/getToken":
		s.getToken(w, r)
	case strings.HasPrefix(p, "/fake/qq/"):
		s.control(w, r)
	default:
		fakekit.WriteRaw(w, http.StatusNotFound, typeText, "404 page not found\n")
	}
}

// OpenID is the fake openid of a user in an app: 32 uppercase hex digits
// as QQ's look, deterministic, different in every app.
func OpenID(appid, user string) string { return idOf("openid\x00" + appid + "\x00" + user) }

// UnionID is the fake unionid of a user, the same in every app.
func UnionID(user string) string { return "UID_" + idOf("unionid\x00"+user) }

func idOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:16]))
}

// SessionKeys returns the user's current and previous session_key, ""
// where there is none.
func (s *Server) SessionKeys(appid, openid string) (current, previous string) {
	return s.keys.Pair(appid, openid)
}

// MintCode returns a fresh login code of user in appid, handed out now
// (it dies CodeTTL later): "ok-<user>.<n>m".
func (s *Server) MintCode(appid, user string) string {
	return s.codes.Mint(appid, "ok-"+user, s.Now())
}

// Mint records that QQ handed out code (any code of the grammar) now.
// A code never minted counts as handed out when it is first used.
func (s *Server) Mint(appid, code string) { s.codes.Record(appid, code, s.Now()) }

// Mode is a forced answer (Force): QQ's own busy (errcode -1) and rate
// limit (45011) error answers, and broken ones (hang: no answer until the
// client leaves or Close; http500: an HTTP 500 HTML page; html: an HTTP
// 200 HTML gateway page; empty: HTTP 200, no body; trunc: HTTP 200, cut
// JSON).
type Mode = fakekit.Mode

// The forced answers, named as in the other platforms' fakes.
const (
	ModeBusy    = fakekit.ModeBusy
	ModeLimit   = fakekit.ModeLimit
	ModeHang    = fakekit.ModeHang
	ModeHTTP500 = fakekit.ModeHTTP500
	ModeHTML    = fakekit.ModeHTML
	ModeEmpty   = fakekit.ModeEmpty
	ModeTrunc   = fakekit.ModeTrunc
)

// forgetHalf drops about half of m once it holds maxRemembered entries.
func forgetHalf[V any](m map[string]V) {
	if len(m) < maxRemembered {
		return
	}
	n := 0
	for k := range m {
		delete(m, k)
		if n++; n >= maxRemembered/2 {
			return
		}
	}
}

func newAccessToken() string { return base64.RawURLEncoding.EncodeToString(fakekit.RandomBytes(48)) }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
