// Package fakebaidu is a fake of Baidu's smart program server APIs, as
// strict as platforms.md §5 says Baidu is: POST /oauth/jscode2sessionkey
// (code, client_id = the AppKey, sk = the secret; form body or query),
// GET or POST /oauth/2.0/token (client_credentials, scope
// smartapp_snsapi_base, 30-day tokens) and POST
// /rest/2.0/smartapp/getunionid?access_token= (form openid), with Baidu's
// answers: HTTP 200 always, {"error","error_description"} for the OAuth
// endpoints (invalid_grant for a code, invalid_client for credentials:
// stand-ins, the real values are not documented), the
// errno/errmsg/request_id wrapper for getunionid.
//
// Login codes live CodeTTL (10 minutes) from MintCode and are single use;
// each login hands out a new session_key (base64 of 24 bytes). The code
// steers the outcome as with the WeChat fake:
//
//	ok-<user>[.n]         success
//	slow-<ms>-<user>[.n]  wait ms milliseconds, then as ok-<user>
//	badid-…               success with the openid BadOpenID
//	bad-…                 invalid_grant
//	hang-…                no answer until the client leaves or Close
//	http500-…             HTTP 500 HTML page
//	html-…                HTTP 200 HTML page
//	anything else         invalid_grant
//
// Controls over HTTP (JSON): POST /fake/baidu/mint?app_key=&user=, POST
// /fake/baidu/fail?endpoint=&next=, POST /fake/baidu/advance?by=, POST
// /fake/baidu/seal?app_key=&user=&mobile= (a phone payload sealed with
// the user's newest session_key), GET /fake/baidu/stats.
package fakebaidu

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// maxTokens bounds the bookkeeping of access tokens.
const maxTokens = 1 << 17

// CodeTTL is a login code's life (B5 D).
const CodeTTL = 10 * time.Minute

// TokenTTL is an access token's life (B6 D).
const TokenTTL = 2592000 * time.Second

// Endpoint names, as Count takes them.
const (
	EndpointLogin   = "jscode2sessionkey"
	EndpointToken   = "token"
	EndpointUnionID = "getunionid"
)

// App is one smart program.
type App struct {
	Key, Secret string // the AppKey and AppSecret
	// NoUnionID makes getunionid answer errno 1 for the app's users.
	NoUnionID bool
}

// Failure is an answer FailNext forces on an endpoint's next call.
type Failure string

// Failures.
const (
	FailHang      Failure = "hang"
	FailNonJSON   Failure = "html"
	FailHTTP500   Failure = "http500"
	FailServer    Failure = "server_error" // {"error":"server_error"} / errno 1
	FailDeadToken Failure = "deadtoken"    // getunionid: error_code 110
)

// Server is the fake. Safe for concurrent use.
type Server struct {
	fakekit.Base // Now, Advance: the fake's clock, to expire codes; Close, Count

	apps  map[string]App
	codes *fakekit.Codes // one namespace: a code is spent for every app

	mu     sync.Mutex
	keys   map[string][]string // app\x00openid → session keys, newest first
	users  map[string]string   // app\x00openid → user name
	tokens map[string]fakekit.Token
}

// New makes a fake for apps.
func New(apps ...App) *Server {
	s := &Server{
		apps:  fakekit.Index(apps, func(a App) string { return a.Key }),
		codes: fakekit.NewBoundCodes(CodeTTL),
		keys:  map[string][]string{}, users: map[string]string{}, tokens: map[string]fakekit.Token{},
	}
	s.Init()
	s.Pages = fakekit.Pages{Gateway: "<html><body>502 Bad Gateway</body></html>", PagesOnly: true}
	return s
}

// Register adds the real paths and the /fake/baidu/ controls to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("/oauth/jscode2sessionkey", s.login)
	mux.HandleFunc("/oauth/2.0/token", s.token)
	mux.HandleFunc("/rest/2.0/smartapp/getunionid", s.getUnionID)
	s.registerControls(mux)
}

// ServeHTTP serves what Register registers, for httptest.NewServer(s).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { fakekit.Serve(s, w, r) }

// MintCode hands out a fresh login code of user for the app, as
// swan.login would.
func (s *Server) MintCode(appKey, user string) string {
	return s.codes.Mint(appKey, "ok-"+user, s.Now())
}

// FailNext forces the next answers, in order, of an endpoint
// (EndpointLogin, EndpointToken or EndpointUnionID).
func (s *Server) FailNext(endpoint string, f ...Failure) {
	for _, x := range f {
		s.Force(endpoint, fakekit.Mode(x))
	}
}

func (s *Server) takeFailure(endpoint string) Failure {
	m, _ := s.Forced(endpoint)
	return Failure(m)
}

// SessionKeys are the user's session keys, newest first.
func (s *Server) SessionKeys(appKey, openid string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys[appKey+"\x00"+openid]...)
}

// OpenID is the fake openid of a user in an app: 26 letters and digits
// like Baidu's ("l214zFqNrEuIEnp6m7Y01sw8yj"), per app.
func OpenID(appKey, user string) string {
	return alnum("openid\x00" + appKey + "\x00" + user)[:26]
}

// UnionID is the fake unionid of a user: the same in every app
// ("St6PVMkgMDeh92Uq2EWfx6H", 23 characters).
func UnionID(user string) string {
	return "St" + alnum("unionid\x00" + user)[:21]
}

func alnum(s string) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(s))
	out := make([]byte, len(sum))
	for i, b := range sum {
		out[i] = digits[int(b)%len(digits)]
	}
	return string(out)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func newSessionKey() string { return base64.StdEncoding.EncodeToString(randomBytes(24)) }

// newToken looks like Baidu's: 24.<hex>.2592000.<unix>.<n>-<n>.
func newToken(now time.Time) string {
	return fmt.Sprintf("24.%s.2592000.%d.282335-%d", hex.EncodeToString(randomBytes(16)), now.Unix(), 10000000+int(randomBytes(1)[0]))
}
