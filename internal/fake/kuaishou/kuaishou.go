// Package fakekuaishou is a fake of Kuaishou's mini program server APIs
// (platforms.md, "What the Kuaishou fake must do"):
//
//   - POST /oauth2/mp/code2session: app_id, app_secret, js_code read from
//     the form body and the query alike; {"result":1,"session_key",
//     "open_id"} on success, {"result":<other>,"error_msg"} with HTTP 200
//     otherwise: 100200100 missing parameters, 100200101 unknown app_id or
//     wrong app_secret, and for a wrong, used or expired js_code
//     ResultBadCode, a value of the fake's own (Kuaishou's is not
//     documented). Codes single use; minted ones live CodeTTL.
//   - /oauth2/access_token (POST form, or GET query): grant_type
//     client_credentials; a 48 h token per call, and older tokens stay
//     valid until their own expiry; token_type "bearer".
//   - SealPhone: AES-128-CBC with the user's newest session_key of
//     {"countryCode","phoneNumber"} only, no watermark.
//
// Codes steer the outcome (see code2session); the test controls are
// methods of Server and JSON endpoints under /fake/kuaishou/.
package fakekuaishou

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// Endpoint names, for Count and Force.
const (
	EndpointCode2Session = "code2session"
	EndpointAccessToken  = "access_token"
)

var endpoints = []string{EndpointCode2Session, EndpointAccessToken}

// Result values.
const (
	ResultOK          = 1
	ResultBadParams   = 100200100
	ResultBadAppOrKey = 100200101
	// ResultBadCode is the fake's answer to a wrong, used or expired
	// js_code: Kuaishou documents none; the client takes any result it
	// does not know for a bad code.
	ResultBadCode = 100200102
)

// Lifetimes.
const (
	CodeTTL  = 5 * time.Minute // unverified: 10 minutes per one client, 5 for mini games
	TokenTTL = 48 * time.Hour
)

// App is one mini program the fake knows.
type App struct {
	ID, Secret string
	// UnionID: logins carry a union_id (documented for mini games only).
	UnionID bool
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	fakekit.Base
	apps   map[string]App
	logins *fakekit.Codes
	keys   fakekit.SessionKeys

	mu     sync.Mutex
	tokens map[string]time.Time // access_token -> expiry
}

// New returns a fake serving apps.
func New(apps ...App) *Server {
	s := &Server{
		apps:   fakekit.Index(apps, func(a App) string { return a.ID }),
		logins: fakekit.NewCodes(CodeTTL), tokens: map[string]time.Time{},
	}
	s.Init()
	return s
}

// Register adds the real paths and the /fake/kuaishou/ controls to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("/oauth2/mp/code2session", s.code2session)
	mux.HandleFunc("/oauth2/access_token", s.accessToken)
	s.registerControls(mux)
}

// OpenID is the fake open_id of a user in an app: 32 hex digits,
// deterministic, different in every app.
func OpenID(app, user string) string {
	return fakekit.HexDigest("kuaishou open_id\x00" + app + "\x00" + user)[:32]
}

// UnionID is the fake union_id of a user, the same in every app.
func UnionID(user string) string { return fakekit.HexDigest("kuaishou union_id\x00" + user)[:32] }

// MintCode hands out a fresh js_code of user ("ok-<user>.<n>m"), dying
// CodeTTL later on the fake's clock.
func (s *Server) MintCode(app, user string) string { return s.logins.Mint(app, "ok-"+user, s.Now()) }

// SessionKey is the user's newest session_key, "" before a login.
func (s *Server) SessionKey(app, user string) string { return s.keys.Newest(app, user) }

// TokenValid reports whether token is an access_token the fake handed out
// and that has not expired.
func (s *Server) TokenValid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[token]
	return ok && s.Now().Before(exp)
}

// SealPhone seals Kuaishou's phone plaintext {"countryCode","phoneNumber"}
// ("86" when cc is "") with the user's newest session_key.
// fakekit.ErrNoSessionKey before a login.
func (s *Server) SealPhone(app, user, number, cc string) (encryptedData, iv string, err error) {
	key := s.keys.Newest(app, user)
	if key == "" {
		return "", "", fakekit.ErrNoSessionKey
	}
	if cc == "" {
		cc = "86"
	}
	plain, _ := json.Marshal(struct {
		CountryCode string `json:"countryCode"`
		PhoneNumber string `json:"phoneNumber"`
	}{cc, number})
	return fakekit.SealCBC(key, plain)
}
