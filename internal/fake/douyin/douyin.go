// Package fakedouyin is a fake of Douyin's mini program server APIs, as
// strict as the real ones (platforms.md, "What the Douyin fake must do"):
//
//   - POST /api/apps/v2/jscode2session, JSON body only (a GET, as some SDKs
//     send, is refused with 40014), answering {err_no, err_tips, log_id,
//     data} with HTTP 200 always, data with empty strings on errors; codes
//     single use, minted ones live LoginCodeTTL (3 minutes); wrong, used or
//     expired 40018, bad anonymous_code 40019, bad appid 40015, bad secret
//     40017, no code at all 40014; every login hands out a new session_key.
//   - POST /api/apps/v2/token: a new mini-app token per call, the previous
//     one dies 5 minutes later.
//   - POST /oauth/client_token/: the client_token wrapper ({data:
//     {access_token, error_code, expires_in, description}, message}); at
//     most two live tokens, the older with 5 minutes' grace; 10020 past 500
//     calls in 5 minutes.
//   - POST /api/apps/v1/get_phonenumber_info/: a live client_token in the
//     access-token header (28001003 unknown, 28001008 expired); phone codes
//     single use, minted ones live PhoneCodeTTL (5 minutes) (28005187
//     otherwise); data is base64 of RSA PKCS#1 v1.5 ciphertext under the
//     app's public key, block by block, of WeChat-scheme phone JSON with a
//     watermark; an app without a public key answers 28001018.
//
// The codes steer the outcome (grammar of fakekit, plus the outcomes on
// the handlers jscode2session and phoneNumber); the test controls are
// methods of Server and, for other languages, JSON endpoints under
// /fake/douyin/ (see registerControls).
package fakedouyin

import (
	"crypto/rsa"
	"net/http"
	"sync"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// Endpoint names, for Count and Force.
const (
	EndpointCode2Session = "jscode2session"
	EndpointToken        = "token"
	EndpointClientToken  = "client_token"
	EndpointPhone        = "get_phonenumber_info"
)

var endpoints = []string{EndpointCode2Session, EndpointToken, EndpointClientToken, EndpointPhone}

// Lifetimes and limits.
const (
	LoginCodeTTL      = 3 * time.Minute // 5 per tt.login's page, 3 in older ones: the fake takes the stricter
	PhoneCodeTTL      = 5 * time.Minute
	TokenTTL          = 2 * time.Hour
	TokenGrace        = 5 * time.Minute // what a replaced token has left at most
	ClientTokenLimit  = 500             // client_token calls per app in ClientTokenWindow
	ClientTokenWindow = 5 * time.Minute
)

// App is one mini program the fake knows.
type App struct {
	ID, Secret string
	// PublicKey is the app public key entered in the console: phone
	// answers by code are sealed with it. Nil: the app has not the phone
	// ability (28001018).
	PublicKey *rsa.PublicKey
	// UnionID: ok- logins carry a unionid (union- logins always do).
	UnionID bool
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	fakekit.Base
	apps   map[string]App // immutable after New
	logins *fakekit.Codes
	phones *fakekit.Codes
	keys   fakekit.SessionKeys

	mu          sync.Mutex
	tokens      map[string]*token   // every token handed out, by value
	miniTokens  map[string]*token   // app -> its newest mini-app token
	clientToks  map[string][]*token // app -> its client_tokens, newest last (two at most)
	clientCalls map[string][]time.Time
}

// token is one handed out token.
type token struct {
	app, value string
	client     bool // a client_token, not a mini-app token
	expires    time.Time
}

// New returns a fake serving apps.
func New(apps ...App) *Server {
	s := &Server{
		apps:        fakekit.Index(apps, func(a App) string { return a.ID }),
		logins:      fakekit.NewCodes(LoginCodeTTL),
		phones:      fakekit.NewCodes(PhoneCodeTTL),
		tokens:      map[string]*token{},
		miniTokens:  map[string]*token{},
		clientToks:  map[string][]*token{},
		clientCalls: map[string][]time.Time{},
	}
	s.Init()
	return s
}

// Register adds the real paths and the /fake/douyin/ controls to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("/api/apps/v2/jscode2session", s.jscode2session)
	mux.HandleFunc("/api/apps/v2/token", s.miniToken)
	mux.HandleFunc("/oauth/client_token/{$}", s.clientToken)
	mux.HandleFunc("/api/apps/v1/get_phonenumber_info/{$}", s.phoneNumber)
	s.registerControls(mux)
}

// OpenID is the fake openid of a user in an app: deterministic, "_000"
// and 32 URL-safe characters like real ones, different in every app.
func OpenID(app, user string) string {
	return "_000" + fakekit.Digest("douyin openid\x00" + app + "\x00" + user)[:32]
}

// UnionID is the fake unionid of a user, the same in every app: a UUID.
func UnionID(user string) string {
	h := fakekit.HexDigest("douyin unionid\x00" + user)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// MintCode hands out a fresh login code of user ("ok-<user>.<n>m"),
// dying LoginCodeTTL later on the fake's clock.
func (s *Server) MintCode(app, user string) string {
	return s.logins.Mint(app, "ok-"+user, s.Now())
}

// MintPhoneCode hands out a fresh phone code for number (digits),
// dying PhoneCodeTTL later.
func (s *Server) MintPhoneCode(app, number string) string {
	return s.phones.Mint(app, "phone-"+number, s.Now())
}

// SessionKey is the user's newest session_key, "" before a login.
func (s *Server) SessionKey(app, user string) string { return s.keys.Newest(app, user) }

// RevokeClientTokens kills every client_token of app, as another server
// fetching more could: the next get_phonenumber_info with one answers
// 28001003.
func (s *Server) RevokeClientTokens(app string) {
	s.mu.Lock()
	for _, t := range s.clientToks[app] {
		delete(s.tokens, t.value)
	}
	delete(s.clientToks, app)
	s.mu.Unlock()
}

// ExpireClientTokens ends the life of every client_token of app now: the
// next get_phonenumber_info with one answers 28001008.
func (s *Server) ExpireClientTokens(app string) {
	now := s.Now()
	s.mu.Lock()
	for _, t := range s.clientToks[app] {
		t.expires = now
	}
	s.mu.Unlock()
}

// TokenValid reports whether value is a live token of either kind (a
// mini-app token or a client_token).
func (s *Server) TokenValid(value string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	return ok && s.Now().Before(t.expires)
}
