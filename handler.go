package wechatauth

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/appstate"
	"github.com/wechat-auth/wechat_auth/internal/assertion"
	"github.com/wechat-auth/wechat_auth/internal/failurelimit"
	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// The values of Require.
const (
	RequireOpenID = "openid"
	RequirePhone  = "phone"
	RequireNone   = "none"
)

// Defaults.
const (
	DefaultSessionTTL = session.DefaultSessionTTL
	DefaultTimeout    = 5 * time.Second
	// maxBodySize bounds the JSON bodies of /wx/login, /wx/phone and
	// /wx/logout; the largest, a getPhoneNumber payload, is about 1 KiB.
	maxBodySize = 64 << 10
)

// Handler logs WeChat mini program users in and passes their requests on
// to the next handler with their identity in X-WX-* headers.
//
// It answers these itself, never passing them on:
//
//   - POST /wx/login {"code"}: trades a wx.login code with WeChat for the
//     user's openid and session_key, keeps both on the server and answers
//     {"token", "expires_in", "phone_bound"}.
//   - POST /wx/phone with the token: binds the user's phone number.
//   - POST /wx/logout with the token: ends the session; with the body
//     {"all": true}, every session of the user.
//   - GET /wx/session with the token: {"app_id", "platform",
//     "expires_in", "phone_bound"}, where the client stands.
//   - GET /wx/jwks.json: the public keys that verify X-WX-Assertion.
//
// Any other request must carry "Authorization: Bearer <token>" (unless
// require is "none"); it goes on with X-WX-OpenID, X-WX-AppID,
// X-WX-UnionID, X-WX-Phone and X-WX-Phone-Country set, any client header of such a name
// removed, and the Authorization header removed. Without a valid token
// the answer is 401 with a JSON error. The placeholder
// {http.auth.user.id} holds the openid of an authenticated request.
//
// Every wechat_auth handler of the same app_id in one Caddy shares one
// session store and one access_token, across config reloads. The store
// settings (redis, max_sessions, session_ttl, idle_timeout, phone_ttl)
// are the app's: every block of the app must give them the same values.
type Handler struct {
	// The block's apps, each with its platform (the Caddyfile's
	// `app <app_id> { ... }` blocks). A block without them is one WeChat
	// mini program, given by app_id, app_secret and api_base below; a block
	// that gives both is refused. The settings below (require,
	// session_ttl, redis, ...) are the block's, for each of its apps.
	Apps []AppConfig `json:"apps,omitempty"`

	// The mini program's AppID ("wx" and letters or digits, such as
	// wx4f4bc4dec97d474b). Required. Placeholders such as {env.WX_APP_ID}
	// are replaced at provisioning.
	AppID string `json:"app_id,omitempty"`

	// The mini program's AppSecret. Required. Use a placeholder such as
	// {env.WX_APP_SECRET} to keep it out of the config. Never logged.
	AppSecret string `json:"app_secret,omitempty"`

	// The WeChat API base URL. Default https://api.weixin.qq.com.
	APIBase string `json:"api_base,omitempty"`

	// What a request needs to be passed on: "openid" (a valid session,
	// the default), "phone" (a session with a bound phone number, else
	// 403 phone_required) or "none" (anyone; identity headers are added
	// when a valid token is present).
	Require string `json:"require,omitempty"`

	// How long a session lives after login. Default 720h (30 days);
	// /wx/login reports it as expires_in. The app's store setting.
	SessionTTL caddy.Duration `json:"session_ttl,omitempty"`

	// How long a call to WeChat may take before the client gets 504.
	// Default 5s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// How many sessions the in-memory store holds at most. Default
	// 1000000. The app's store setting.
	MaxSessions int64 `json:"max_sessions,omitempty"`

	// How long a session may go unused before it ends. Default 0: off.
	// A session used at least every idle_timeout/2 lives until
	// session_ttl; one unused for 1.5 × idle_timeout has ended. The app's
	// store setting.
	IdleTimeout caddy.Duration `json:"idle_timeout,omitempty"`

	// How long a phone bound to a user stays bound, from the bind, for
	// every later login of the user (so require phone passes without
	// another billed getPhoneNumber). Default 720h. The app's store
	// setting.
	PhoneTTL caddy.Duration `json:"phone_ttl,omitempty"`

	// A Redis URL (redis://[user:password@]host:port/db, rediss:// for
	// TLS, or unix:///path) to keep the sessions in, shared by every Caddy
	// that uses it, instead of this process's memory. Placeholders are
	// replaced. The app's store setting.
	Redis string `json:"redis,omitempty"`

	// How long one Redis operation may take before the client gets 503.
	// Default 1s.
	RedisTimeout caddy.Duration `json:"redis_timeout,omitempty"`

	// How old legacy getPhoneNumber data (encryptedData) may be, by its
	// watermark.timestamp (when the user pressed the button), for
	// /wx/phone to accept it; older data gets 400 stale_phone_data.
	// Default 0: any age (old data is logged at DEBUG). Data stamped in
	// the future, beyond a small clock skew, is always refused.
	PhoneDataMaxAge caddy.Duration `json:"phone_data_max_age,omitempty"`
	// How many codes WeChat may refuse (invalid, used, risky user) for
	// one client address within a window before its further attempts at
	// /wx/login and /wx/phone get 429 too_many_failures: "<n>/<duration>",
	// such as "30/1m" (the default), or "off". The client address is
	// Caddy's client IP (so trusted_proxies applies), an IPv6 one by its
	// /64. Counted per Caddy process; the app's setting, like the store's.
	FailureLimit string `json:"failure_limit,omitempty"`
	// Adds X-WX-Assertion to every request passed on with a session: a
	// JWT (ES256, kid in its header) with the claims sub (openid), appid,
	// unionid, phone and phone_country (when known), iat and exp (5
	// minutes later), which a backend verifies against GET /wx/jwks.json.
	// The keys live in Caddy's storage, shared by every Caddy that uses
	// it, and rotate every 30 days. Default false.
	Assertion bool `json:"assertion,omitempty"`

	logger       *zap.Logger
	apps         []*app
	redisURL     string
	sessionTTL   time.Duration
	timeout      time.Duration
	failureLimit failurelimit.Limit
	keysKey      string
	keys         *assertion.Keyring
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.wechat_auth",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision resolves placeholders and defaults, and takes a reference to
// each app's shared state: its session store, its platform client and its
// failure limiter (made by the first block of the app, kept across
// reloads).
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	repl := caddy.NewReplacer()
	h.redisURL = repl.ReplaceKnown(h.Redis, "")
	if h.Require == "" {
		h.Require = RequireOpenID
	}
	h.sessionTTL = cmp.Or(time.Duration(h.SessionTTL), DefaultSessionTTL)
	h.timeout = cmp.Or(time.Duration(h.Timeout), DefaultTimeout)
	// Everything is checked before any shared state is taken or Redis
	// dialed: a refused block leaves nothing behind.
	apps, err := h.resolveApps(repl)
	if err != nil {
		return err
	}
	if err := checkRedisURL(h.redisURL); err != nil {
		return err
	}
	if err := h.Validate(); err != nil {
		return err
	}
	h.failureLimit, err = failurelimit.Parse(h.FailureLimit)
	if err != nil {
		return fmt.Errorf("wechat_auth: %v", err)
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("wechat_auth: metrics: %v", err)
	}
	settings := h.storeSettings()
	for _, a := range apps {
		if err := appstate.ClaimStoreSettings(ctx.Context, a.id, settings); err != nil {
			return err
		}
		if err := claimFailureLimit(ctx, a.id, h.failureLimit); err != nil {
			return err
		}
		if first, seen := appstate.Claim(ctx.Context, "platform", a.id, a.platform.Name); seen && first != a.platform.Name {
			return fmt.Errorf("wechat_auth: app %s: blocks disagree on its platform: %s in one block, %s in another", a.id, first, a.platform.Name)
		}
	}
	h.apps = apps
	if err := h.acquireApps(); err != nil {
		return err
	}
	return h.provisionAssertion(ctx)
}

// redisTimeout is redis_timeout (0: the store's default).
func (h *Handler) redisTimeout() time.Duration { return time.Duration(h.RedisTimeout) }

// storeSettings are the block's store settings, defaults applied, so that
// an omitted setting compares equal to its default.
func (h *Handler) storeSettings() appstate.StoreSettings {
	l := session.Limits{
		MaxSessions: h.MaxSessions,
		SessionTTL:  h.sessionTTL,
		IdleTimeout: time.Duration(h.IdleTimeout),
		PhoneTTL:    time.Duration(h.PhoneTTL),
	}.WithDefaults()
	return appstate.StoreSettings{Redis: h.redisURL, Limits: l}
}

// Validate checks the provisioned configuration (Provision calls it too,
// before it takes any shared state; the apps are checked before it).
func (h *Handler) Validate() error {
	switch h.Require {
	case RequireOpenID, RequirePhone, RequireNone:
	default:
		return fmt.Errorf("wechat_auth: require %q: want openid, phone or none", h.Require)
	}
	if h.sessionTTL < time.Second {
		return fmt.Errorf("wechat_auth: session_ttl %v: want at least 1s", h.sessionTTL)
	}
	if h.timeout <= 0 {
		return fmt.Errorf("wechat_auth: timeout %v: want a positive duration", h.timeout)
	}
	if h.RedisTimeout < 0 {
		return fmt.Errorf("wechat_auth: redis_timeout %v: want a positive duration", time.Duration(h.RedisTimeout))
	}
	if h.MaxSessions < 0 {
		return fmt.Errorf("wechat_auth: max_sessions %d: want a positive whole number", h.MaxSessions)
	}
	if h.IdleTimeout < 0 {
		return fmt.Errorf("wechat_auth: idle_timeout %v: want a positive duration, or 0 for none", time.Duration(h.IdleTimeout))
	}
	if h.PhoneTTL < 0 {
		return fmt.Errorf("wechat_auth: phone_ttl %v: want a positive duration", time.Duration(h.PhoneTTL))
	}
	if h.PhoneDataMaxAge < 0 {
		return fmt.Errorf("wechat_auth: phone_data_max_age %v: want 0 (any age) or a positive duration", time.Duration(h.PhoneDataMaxAge))
	}
	return nil
}

// checkSecret refuses an empty app_secret, naming the placeholder that
// resolved to nothing.
func checkSecret(configured, resolved string) error {
	if resolved != "" {
		return nil
	}
	if configured == "" {
		return errors.New("app_secret is required (use a placeholder such as {env.WX_APP_SECRET})")
	}
	if strings.HasPrefix(configured, "{env.") && strings.HasSuffix(configured, "}") {
		name := strings.TrimSuffix(strings.TrimPrefix(configured, "{env."), "}")
		return fmt.Errorf("app_secret %s is empty: set the environment variable %s", configured, name)
	}
	return fmt.Errorf("app_secret %s resolves to an empty value", placeholderHint(configured))
}

// checkRedisURL refuses a redis setting that is not a Redis URL, without
// echoing a password it may hold.
func checkRedisURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("wechat_auth: redis: not a URL: want redis://[user:password@]host:port[/db], rediss://... (TLS) or unix:///path/to/redis.sock")
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
		return nil
	}
	return fmt.Errorf("wechat_auth: redis %s: scheme %q: want redis://, rediss:// (TLS) or unix://", u.Redacted(), u.Scheme)
}

// Cleanup gives back this block's references to its apps' shared state.
func (h *Handler) Cleanup() error {
	h.releaseApps()
	h.cleanupAssertion()
	return nil
}

// ServeHTTP answers wechat_auth's endpoints and authenticates the rest.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	stripIdentity(r)

	ep := endpoint(r.URL.Path)
	if strings.HasPrefix(ep, "/wx/") && crossSiteCookiePOST(r) {
		h.respond(w, nil, "csrf", reply.CrossSite)
		return nil
	}
	if e, ok := endpoints[ep]; ok {
		a, failure := e.serve(h, w, r)
		var page *http.Request
		if e.page {
			page = r
		}
		h.answer(w, page, a, e.name, failure)
		return nil
	}

	a, _, s, failure := h.authenticate(r)
	if failure != nil {
		// A store that cannot answer never lets a request through, not
		// even anonymously: the client sent a token, and gets told.
		if h.Require == RequireNone && failure.Status == http.StatusUnauthorized {
			return next.ServeHTTP(w, r)
		}
		if failure.Status == http.StatusUnauthorized && h.navigationLogin(w, r) {
			h.respond(w, a, "auth", nil)
			return nil
		}
		h.respond(w, a, "auth", failure)
		return nil
	}
	if h.Require == RequirePhone && s.Phone == "" {
		h.respond(w, a, "auth", reply.PhoneRequired)
		return nil
	}
	setIdentityHeaders(r.Header, &s, a.id, a.platform.Name)
	if h.Assertion {
		if e := h.setAssertion(r.Header, a, &s); e != nil {
			h.respond(w, a, "auth", e)
			return nil
		}
	}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Set("http.auth.user.id", s.OpenID)
	}
	return next.ServeHTTP(w, r)
}

// endpoints are wechat_auth's own endpoints, by path: the name they are
// counted under, the method that serves one, and whether a browser
// navigates to it (an error is then an HTML page for a navigation, see
// answer).
var endpoints = map[string]struct {
	name  string
	serve func(*Handler, http.ResponseWriter, *http.Request) (*app, *reply.Error)
	page  bool
}{
	"/wx/web/login":    {"web_login", (*Handler).webLogin, true},
	"/wx/web/callback": {"web_callback", (*Handler).webCallback, true},
	"/wx/web/handoff":  {"handoff", (*Handler).handoff, true},
	"/wx/ticket":       {"ticket", (*Handler).ticket, false},
	"/wx/login":        {"login", (*Handler).login, false},
	"/wx/phone":        {"phone", (*Handler).phone, false},
	"/wx/logout":       {"logout", (*Handler).logout, false},
	"/wx/session":      {"session", (*Handler).whereAmI, false},
	"/wx/jwks.json": {"jwks", func(h *Handler, w http.ResponseWriter, r *http.Request) (*app, *reply.Error) {
		return nil, h.jwks(w, r)
	}, false},
}

// endpoint returns the cleaned request path, for matching the endpoints
// exactly: "/wx//login" and "/wx/x/../login" are /wx/login, while
// "/WX/login" or "/wx/login/../api" are not, and need a token like any
// other path.
func endpoint(p string) string {
	// A path that cleans to /wx/... holds the element "wx" after a slash;
	// most requests do not, and skip the cleaning.
	if !strings.Contains(p, "/wx") {
		return ""
	}
	return path.Clean(p)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
