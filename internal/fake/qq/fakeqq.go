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
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
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
	apps      map[string]App // immutable after New
	offset    atomic.Int64   // the clock's offset (Advance)
	okFields  atomic.Uint64  // login successes, to add errcode 0 every other time
	closed    chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	counts  map[string]int
	minted  map[string]time.Time   // appid "\x00" code -> when handed out
	used    map[string]time.Time   // appid "\x00" code -> when used
	keys    map[string]*keyPair    // appid "\x00" openid
	logins  map[string][]time.Time // appid "\x00" openid -> logins of the last minute
	tokens  map[string]*token      // value -> token
	current map[string]*token      // appid -> newest token
	forced  map[string][]Mode      // endpoint -> forced answers (Force)
	nonce   int
}

type keyPair struct{ current, previous string }

type token struct {
	appid   string
	expires time.Time
}

// New returns a fake QQ serving apps.
func New(apps ...App) *Server {
	s := &Server{
		apps:    make(map[string]App, len(apps)),
		closed:  make(chan struct{}),
		counts:  map[string]int{},
		minted:  map[string]time.Time{},
		used:    map[string]time.Time{},
		keys:    map[string]*keyPair{},
		logins:  map[string][]time.Time{},
		tokens:  map[string]*token{},
		current: map[string]*token{},
		forced:  map[string][]Mode{},
	}
	for _, a := range apps {
		s.apps[a.ID] = a
	}
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
	switch r.URL.Path {
	case "/sns/jscode2session":
		s.login(w, r)
	case "/api/getToken":
		s.getToken(w, r)
	default:
		if strings.HasPrefix(r.URL.Path, "/fake/qq/") {
			s.control(w, r)
			return
		}
		fakekit.WriteRaw(w, http.StatusNotFound, typeText, "404 page not found\n")
	}
}

// Close releases every request held by a hang- or slow- code (a 503
// gateway page); later ones answer at once. It is idempotent.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

// Now is the fake's clock: time.Now moved by every Advance.
func (s *Server) Now() time.Time { return time.Now().Add(time.Duration(s.offset.Load())) }

// Advance moves the fake's clock by d: codes, tokens and rate limits age
// at once, and later watermarks carry the moved time.
func (s *Server) Advance(d time.Duration) { s.offset.Add(int64(d)) }

// Count returns how many requests an endpoint got ("jscode2session",
// "getToken") since New or ResetCounts.
func (s *Server) Count(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[endpoint]
}

// ResetCounts sets every counter back to zero.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.counts)
}

func (s *Server) count(endpoint string) {
	s.mu.Lock()
	s.counts[endpoint]++
	s.mu.Unlock()
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[appid+"\x00"+openid]; k != nil {
		return k.current, k.previous
	}
	return "", ""
}

// MintCode returns a fresh login code of user in appid, handed out now
// (it dies CodeTTL later): "ok-<user>.<n>".
func (s *Server) MintCode(appid, user string) string {
	s.mu.Lock()
	s.nonce++
	code := "ok-" + user + ".m" + strconv.Itoa(s.nonce)
	s.mu.Unlock()
	s.Mint(appid, code)
	return code
}

// Mint records that QQ handed out code (any code of the grammar) now.
// A code never minted counts as handed out when it is first used.
func (s *Server) Mint(appid, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	forgetHalf(s.minted)
	s.minted[appid+"\x00"+code] = s.Now()
}

// Mode is a forced answer (Force). The names are those of the other
// platforms' fakes.
type Mode string

// The forced answers: QQ's own busy (-1) and rate limit (45011) error
// answers, and broken ones.
const (
	ModeBusy    Mode = "busy"    // errcode -1
	ModeLimit   Mode = "limit"   // errcode 45011
	ModeHang    Mode = "hang"    // no answer until the client leaves or Close
	ModeHTTP500 Mode = "http500" // HTTP 500 HTML page
	ModeHTML    Mode = "html"    // HTTP 200 HTML gateway page (not JSON)
	ModeEmpty   Mode = "empty"   // HTTP 200, no body
	ModeTrunc   Mode = "trunc"   // HTTP 200, cut JSON
)

var modes = []Mode{ModeBusy, ModeLimit, ModeHang, ModeHTTP500, ModeHTML, ModeEmpty, ModeTrunc}

// Force makes the next call of endpoint ("jscode2session" or "getToken",
// any app) answer m; forced answers queue up (Force twice, and the next
// two calls answer so).
func (s *Server) Force(endpoint string, m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced[endpoint] = append(s.forced[endpoint], m)
}

// takeForced takes the next forced answer of endpoint, "" if none.
func (s *Server) takeForced(endpoint string) Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.forced[endpoint]
	if len(q) == 0 {
		return ""
	}
	s.forced[endpoint] = q[1:]
	return q[0]
}

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

func newSessionKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func newAccessToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
