package fakewx

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// WeChat in the browser: the fake plays open.weixin.qq.com too (the
// Official Account authorize page and the website application's QR
// login page, see web_pages.go) and the API's /sns/oauth2/access_token
// (web_token.go). The app's kind decides which page takes its appid.

// Endpoint names of the browser login, for Count.
const (
	EndpointAuthorize  = "authorize"           // GET /connect/oauth2/authorize
	EndpointQRConnect  = "qrconnect"           // GET /connect/qrconnect
	EndpointOAuthToken = "oauth2_access_token" // GET /sns/oauth2/access_token
)

func init() {
	endpoints = append(endpoints, EndpointAuthorize, EndpointQRConnect, EndpointOAuthToken)
}

// WebKind is the kind of a browser app.
type WebKind string

// The kinds of browser apps.
const (
	// OfficialAccount: an Official Account's web authorization
	// (/connect/oauth2/authorize, snsapi_base or snsapi_userinfo), inside
	// WeChat's browser only.
	OfficialAccount WebKind = "oa"
	// WebsiteApp: an open platform website application's QR login
	// (/connect/qrconnect, snsapi_login), in any browser.
	WebsiteApp WebKind = "website"
)

// DefaultWebDomains are the callback domains of a WebApp that registers
// none: loopback, so that tests on 127.0.0.1 and localhost work (any
// port).
var DefaultWebDomains = []string{"127.0.0.1", "localhost", "::1"}

// WebApp is a browser app of the fake (Config.WebApps, by appid).
type WebApp struct {
	// Kind is OfficialAccount or WebsiteApp (New panics on anything else).
	Kind WebKind
	// Secret is the app's AppSecret, for /sns/oauth2/access_token.
	Secret string
	// Domains are the callback domains registered for the app: a
	// redirect_uri must be on one of them. An entry is a host name or IP
	// (any port) or host:port (that port only); case does not matter, and
	// subdomains do not match (as WeChat). nil: DefaultWebDomains.
	// SetWebDomains changes them on a live fake.
	Domains []string
	// UnionID: the app is bound to the open platform account, so its
	// answers carry the user's unionid: UnionID(user), the same as the
	// user's mini program logins (union- codes) and other browser apps
	// get. With snsapi_base only once the user has granted
	// snsapi_userinfo to the app (WeChat's rule: unionid is reliable only
	// with snsapi_userinfo).
	UnionID bool
}

// maxWebRecords bounds the fake's records of browser codes and grants.
const maxWebRecords = 1 << 16

// webState is the fake's state of the browser login.
type webState struct {
	apps map[string]WebApp // immutable after New (Domains: see domains)

	mu      sync.Mutex
	domains map[string][]string        // appid -> callback domains
	users   map[string]webUser         // appid -> who confirms (SetWebUser)
	codes   *fakekit.FIFOMap[webCode]  // code -> what it was minted for
	used    *fakekit.FIFOMap[struct{}] // appid "\x00" code: redeemed
	granted *fakekit.FIFOMap[struct{}] // appid "\x00" user: granted snsapi_userinfo
}

// webUser is who confirms on an app's pages, and whether at once.
type webUser struct {
	spec string
	auto bool
}

// webCode is a code the pages handed out.
type webCode struct {
	appid, scope string
	at           time.Time
}

func newWebState(apps map[string]WebApp) *webState {
	ws := &webState{
		apps:    make(map[string]WebApp, len(apps)),
		domains: make(map[string][]string, len(apps)),
		users:   make(map[string]webUser),
		codes:   fakekit.NewFIFOMap[webCode](maxWebRecords),
		used:    fakekit.NewFIFOMap[struct{}](maxWebRecords),
		granted: fakekit.NewFIFOMap[struct{}](maxWebRecords),
	}
	for id, app := range apps {
		if app.Kind != OfficialAccount && app.Kind != WebsiteApp {
			panic(fmt.Sprintf("fakewx: WebApps[%q].Kind is %q: want fakewx.OfficialAccount (%q) or fakewx.WebsiteApp (%q)",
				id, app.Kind, OfficialAccount, WebsiteApp))
		}
		app.Domains = append([]string(nil), app.Domains...)
		ws.apps[id] = app
		ws.domains[id] = app.Domains
	}
	return ws
}

// SetWebDomains replaces the callback domains registered for a browser
// app (see WebApp.Domains); none means DefaultWebDomains. It reports
// false for an appid that is not a browser app.
func (s *Server) SetWebDomains(appid string, domains ...string) bool {
	if _, ok := s.web.apps[appid]; !ok {
		return false
	}
	s.web.mu.Lock()
	defer s.web.mu.Unlock()
	s.web.domains[appid] = append([]string(nil), domains...)
	return true
}

// registered reports whether redirect's host is a callback domain of appid.
func (ws *webState) registered(appid string, redirect *url.URL) bool {
	ws.mu.Lock()
	domains := ws.domains[appid]
	ws.mu.Unlock()
	if len(domains) == 0 {
		domains = DefaultWebDomains
	}
	for _, d := range domains {
		if strings.EqualFold(d, redirect.Hostname()) || strings.EqualFold(d, redirect.Host) {
			return true
		}
	}
	return false
}

// SetWebUser says who confirms on the authorize and QR pages of appid.
// spec is a user name with an optional outcome, as the codes of
// jscode2session: "alice" (or "ok-alice"), "snapshot-alice" (WeChat's
// snapshot mode: the code's answer is a stand-in user,
// is_snapshotuser 1), "busy-alice", "hang-alice", "http500-alice",
// "html-alice", "empty-alice", "trunc-alice", "slow-<ms>-alice",
// "bad-alice" (the code answers 40029), or "deny" (the user refuses: the
// browser goes back with a state and no code). With auto the pages send
// the browser back at once, whatever the scope (the user scanned and
// confirmed); without, snsapi_base does (WeChat's silent authorization)
// and the other scopes show a page whose button confirms as spec. ""
// forgets the setting: every page asks, its user field filled with
// "alice". It reports false for an appid that is not a browser app, or a
// spec that is not one.
func (s *Server) SetWebUser(appid, spec string, auto bool) bool {
	if _, ok := s.web.apps[appid]; !ok || spec != "" && !validWebSpec(spec) {
		return false
	}
	s.web.mu.Lock()
	defer s.web.mu.Unlock()
	if spec == "" {
		delete(s.web.users, appid)
	} else {
		s.web.users[appid] = webUser{spec, auto}
	}
	return true
}

func (ws *webState) user(appid string) (webUser, bool) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	u, ok := ws.users[appid]
	return u, ok
}

// webOutcomes are the outcomes a spec may name (see SetWebUser).
var webOutcomes = map[string]bool{
	"ok": true, "union": true, "snapshot": true, "bad": true, "busy": true, "limit": true,
	"hang": true, "http500": true, "html": true, "empty": true, "trunc": true,
}

// validWebSpec reports whether spec is "deny" or "[<outcome>-]<user>".
func validWebSpec(spec string) bool {
	if spec == "deny" {
		return true
	}
	outcome, arg, found := strings.Cut(spec, "-")
	switch {
	case !found:
		return validUser(spec)
	case outcome == "slow":
		_, user, ok := fakekit.ParseSlow(arg)
		return ok && validUser(user)
	default:
		return webOutcomes[outcome] && validUser(arg)
	}
}

// scopes of the browser login.
const (
	scopeBase     = "snsapi_base"
	scopeUserinfo = "snsapi_userinfo"
	scopeLogin    = "snsapi_login"
)

// defaultScope is the scope of a code the pages did not hand out.
func defaultScope(kind WebKind) string {
	if kind == WebsiteApp {
		return scopeLogin
	}
	return scopeBase
}

// MintWebCode returns a code of appid as its page hands it out when spec
// (see SetWebUser; not "deny") confirms with scope ("" for the app's
// usual one: snsapi_base or snsapi_login): single use, good for CodeTTL,
// only for appid. It reports an error for an appid that is not a browser
// app, a scope the app's page refuses or a bad spec.
func (s *Server) MintWebCode(appid, spec, scope string) (string, error) {
	app, ok := s.web.apps[appid]
	if !ok {
		return "", fmt.Errorf("fakewx: %q is not a browser app", appid)
	}
	if scope == "" {
		scope = defaultScope(app.Kind)
	}
	if !scopeAllowed(app.Kind, scope) {
		return "", fmt.Errorf("fakewx: scope %q is not one of a %s app's", scope, app.Kind)
	}
	if spec == "deny" || !validWebSpec(spec) {
		return "", fmt.Errorf("fakewx: user %q: want [<outcome>-]<user>", spec)
	}
	return s.mintWebCode(appid, spec, scope), nil
}

// mintWebCode records a fresh code of spec for appid: "<spec>.<random>",
// so that the token endpoint reads the outcome from it as jscode2session
// does.
func (s *Server) mintWebCode(appid, spec, scope string) string {
	if !strings.Contains(spec, "-") {
		spec = "ok-" + spec
	}
	code := spec + "." + newAccessToken()[:16]
	s.web.mu.Lock()
	defer s.web.mu.Unlock()
	s.web.codes.Put(code, webCode{appid: appid, scope: scope, at: s.Now()})
	if scope == scopeUserinfo && !strings.HasPrefix(spec, "snapshot-") {
		s.web.granted.Put(appid+"\x00"+webSpecUser(spec), struct{}{})
	}
	return code
}

// webSpecUser is the user name of a spec ("slow-5-bob" -> "bob").
func webSpecUser(spec string) string {
	outcome, arg, found := strings.Cut(spec, "-")
	if !found {
		return spec
	}
	if outcome == "slow" {
		_, arg, _ = fakekit.ParseSlow(arg)
	}
	return stripNonce(arg)
}

func scopeAllowed(kind WebKind, scope string) bool {
	if kind == WebsiteApp {
		return scope == scopeLogin
	}
	return scope == scopeBase || scope == scopeUserinfo
}

// SnapshotOpenID is the stand-in openid WeChat's snapshot mode gives for
// every user of appid (is_snapshotuser 1): not the user's.
func SnapshotOpenID(appid string) string {
	return "o" + digest("snapshot openid\x00" + appid)[:27]
}
