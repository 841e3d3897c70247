// Package fakealipay is a fake of Alipay's open platform gateway for the
// mini program login (alipay.system.oauth.token) and my.getPhoneNumber's
// answers, as strict as platforms.md §3 says Alipay is.
//
// One endpoint, POST /gateway.do, parameters from the form body or the
// query string. Every request is checked as the gateway does: the common
// parameters present (40001 isv.missing-*), charset utf-8, sign_type RSA2,
// version 1.0, a timestamp "yyyy-MM-dd HH:mm:ss", a known app_id (40002
// isv.invalid-app-id), then the RSA2 signature rebuilt from the sorted
// raw parameters and verified with the app's public key (40002
// isv.invalid-signature in the method's key, signed, quoting the string
// the gateway checked). Errors come as HTTP 200, error_response unsigned.
// Success answers are signed over their exact text with the fake's
// Alipay key (TestKey(KeyAlipay); its public half is AlipayPublicKeyPEM).
//
// The auth code steers the outcome ("<outcome>-<args>", a user name may
// carry a ".nonce"), as with the WeChat fake:
//
//	ok-<user>[.n]         success: user_id 2088… (open_id for an App with OpenID), union_id with UnionID
//	slow-<ms>-<user>[.n]  wait ms milliseconds, then as ok-<user>
//	bad-…                 40002 isv.code-invalid
//	busy-…                20000 isp.unknow-error
//	limit-…               40005 call limit
//	perm-…                40006 insufficient permissions
//	badsign-<user>        a success answer whose sign does not verify
//	badid-<user>          a signed success answer whose user_id (open_id)
//	                      is BadOpenID
//	nosign-<user>         a success answer without sign
//	hang-…                no answer until the client leaves or Close
//	http500-…             HTTP 500 HTML page
//	html-…                HTTP 200 HTML gateway page
//	anything else         40002 isv.code-invalid
//
// Every code is single use (isv.code-invalid the second time). A code
// handed out by MintCode dies CodeTTL later and belongs to its app (another
// app gets isv.unmatched-app-id). FailNext forces the next answer.
//
// Controls over HTTP (JSON), for the Node tests and the demo:
// POST /fake/alipay/mint?app_id=&user=, POST /fake/alipay/fail?next=,
// POST /fake/alipay/advance?by=<duration>, POST
// /fake/alipay/phone?app_id=&mobile=&variant= (my.getPhoneNumber's
// res.response), GET /fake/alipay/stats, GET /fake/alipay/keys.
package fakealipay

import (
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// CodeTTL is how long a minted auth code lives (Alipay: 3 minutes at
// least, A10).
const CodeTTL = 3 * time.Minute

// MethodOAuthToken is the one gateway method served.
const MethodOAuthToken = "alipay.system.oauth.token"

// App is one app the fake knows.
type App struct {
	ID string
	// PublicKey is the app's public key as uploaded to the console (PEM
	// or bare base64): requests must be signed with its private half.
	PublicKey string
	// OpenID: the app is of the OpenID scheme (answers open_id, no
	// user_id).
	OpenID bool
	// UnionID: answers carry a union_id.
	UnionID bool
	// AESKey is the base64 AES key of the console's 接口内容加密方式;
	// "" for one derived from the app id (see AESKey).
	AESKey string
}

type app struct {
	App
	pub    *rsa.PublicKey
	aesKey []byte
}

// Failure is an answer FailNext forces.
type Failure string

// Failures.
const (
	FailBusy        Failure = "busy"    // 20000 isp.unknow-error
	FailRateLimited Failure = "limit"   // 40005
	FailHang        Failure = "hang"    // no answer
	FailNonJSON     Failure = "html"    // HTTP 200 HTML page
	FailHTTP500     Failure = "http500" // HTTP 500
	FailBadSign     Failure = "badsign" // success, signature broken
)

// Server is the fake gateway. Safe for concurrent use.
type Server struct {
	fakekit.Base // Now, Advance: the fake's clock, to expire codes; Close, Count

	key   *rsa.PrivateKey
	apps  map[string]*app
	codes *fakekit.Codes // one namespace: a code is spent for every app
}

// gatewayPage is the html answer's page.
const gatewayPage = "<html><body>502 Bad Gateway</body></html>"

// New makes a fake gateway for apps; it panics on an app whose keys do
// not parse (a test's mistake).
func New(apps ...App) *Server {
	s := &Server{key: TestKey(KeyAlipay), apps: map[string]*app{}, codes: fakekit.NewBoundCodes(CodeTTL)}
	s.Init()
	s.Pages = fakekit.Pages{Gateway: gatewayPage, PagesOnly: true}
	for _, a := range apps {
		pub, err := platform.ParseRSAPublicKey(a.PublicKey)
		if err != nil {
			panic(fmt.Sprintf("fakealipay: app %s: PublicKey: %v", a.ID, err))
		}
		ap := &app{App: a, pub: pub}
		if a.AESKey == "" {
			ap.aesKey = derive("aes\x00" + a.ID)[:16]
		} else if ap.aesKey, err = base64.StdEncoding.DecodeString(a.AESKey); err != nil {
			panic(fmt.Sprintf("fakealipay: app %s: AESKey: %v", a.ID, err))
		}
		s.apps[a.ID] = ap
	}
	return s
}

// Register adds the gateway's real path and the /fake/alipay/ controls
// to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("/gateway.do", s.gateway)
	s.registerControls(mux)
}

// ServeHTTP serves what Register registers, for httptest.NewServer(s).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { fakekit.Serve(s, w, r) }

// AlipayPublicKeyPEM is the fake Alipay's public key: an app's
// alipay_public_key.
func (s *Server) AlipayPublicKeyPEM() string { return PublicKeyPEM(s.key) }

// AESKey is an app's AES key, base64: its aes_key option.
func (s *Server) AESKey(appID string) string {
	a := s.apps[appID]
	if a == nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(a.aesKey)
}

// MintCode hands out a fresh auth code of user for the app, as
// my.getAuthCode would: single use, CodeTTL, bound to the app.
func (s *Server) MintCode(appID, user string) string {
	return s.codes.Mint(appID, "ok-"+user, s.Now())
}

// FailNext forces the next gateway answers, in order, whatever the
// request (after its signature is checked).
func (s *Server) FailNext(f ...Failure) {
	for _, x := range f {
		s.Force(MethodOAuthToken, fakekit.Mode(x))
	}
}

func (s *Server) takeFailure() Failure {
	m, _ := s.Forced(MethodOAuthToken)
	return Failure(m)
}
