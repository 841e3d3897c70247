package wechatauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

func init() {
	caddy.RegisterModule(Handler{})
	httpcaddyfile.RegisterHandlerDirective("wechat_auth", parseCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("wechat_auth", httpcaddyfile.After, "basic_auth")
}

// The values of Require.
const (
	RequireOpenID = "openid"
	RequirePhone  = "phone"
	RequireNone   = "none"
)

// Defaults.
const (
	DefaultSessionTTL = 720 * time.Hour
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
//     {"token", "expires_in"}.
//   - POST /wx/phone with the token: binds the user's phone number.
//   - POST /wx/logout with the token: ends the session.
//
// Any other request must carry "Authorization: Bearer <token>" (unless
// require is "none"); it goes on with X-WX-OpenID, X-WX-AppID,
// X-WX-UnionID, X-WX-Phone and X-WX-Phone-Country set, any client header of such a name
// removed, and the Authorization header removed. Without a valid token
// the answer is 401 with a JSON error. The placeholder
// {http.auth.user.id} holds the openid of an authenticated request.
//
// Every wechat_auth handler of the same app_id in one Caddy shares one
// session store and one access_token, across config reloads.
type Handler struct {
	// The mini program's AppID. Required. Placeholders such as
	// {env.WX_APP_ID} are replaced at provisioning.
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
	// /wx/login reports it as expires_in.
	SessionTTL caddy.Duration `json:"session_ttl,omitempty"`

	// How long a call to WeChat may take before the client gets 504.
	// Default 5s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// How many sessions the in-memory store holds at most. Default
	// 1000000.
	MaxSessions int64 `json:"max_sessions,omitempty"`

	// A Redis URL (redis://[:password@]host:port/db, or rediss:// for
	// TLS) to keep the sessions in, shared by every Caddy that uses it,
	// instead of this process's memory. Placeholders are replaced.
	Redis string `json:"redis,omitempty"`

	// How long one Redis operation may take before the client gets 503.
	// Default 1s.
	RedisTimeout caddy.Duration `json:"redis_timeout,omitempty"`

	logger     *zap.Logger
	appID      string
	storeKey   string
	clientKey  string
	store      session.Store
	wx         *wechat.Client
	tokens     *wechat.TokenSource
	sessionTTL time.Duration
	timeout    time.Duration
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.wechat_auth",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision resolves placeholders and defaults, and takes a reference to
// the app's shared state (created by the first block of the app).
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	repl := caddy.NewReplacer()
	h.appID = repl.ReplaceKnown(h.AppID, "")
	secret := repl.ReplaceKnown(h.AppSecret, "")
	apiBase := repl.ReplaceKnown(h.APIBase, "")
	if apiBase == "" {
		apiBase = wechat.DefaultBaseURL
	}
	if h.Require == "" {
		h.Require = RequireOpenID
	}
	h.sessionTTL = time.Duration(h.SessionTTL)
	if h.sessionTTL == 0 {
		h.sessionTTL = DefaultSessionTTL
	}
	h.timeout = time.Duration(h.Timeout)
	if h.timeout == 0 {
		h.timeout = DefaultTimeout
	}
	if err := h.check(secret, apiBase); err != nil {
		return err
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("metrics: %v", err)
	}

	redisURL := repl.ReplaceKnown(h.Redis, "")
	maxSessions := h.MaxSessions
	if maxSessions <= 0 {
		maxSessions = session.DefaultMaxSessions
	}
	sk := storeKey(h.appID, maxSessions, redisURL, secret)
	val, _, err := apps.LoadOrNew(sk, func() (caddy.Destructor, error) {
		var st session.Store
		var err error
		if redisURL != "" {
			st, err = session.NewRedis(redisURL, h.appID, secret, time.Duration(h.RedisTimeout))
		} else {
			st, err = session.NewMemory(maxSessions)
		}
		if err != nil {
			return nil, err
		}
		return storeEntry{st, h.appID}, nil
	})
	if err != nil {
		return fmt.Errorf("session store: %v", err)
	}
	h.storeKey, h.store = sk, val.(storeEntry).Store

	ck := clientKey(h.appID, apiBase, secret)
	val, _, _ = apps.LoadOrNew(ck, func() (caddy.Destructor, error) {
		return newClientEntry(h.appID, apiBase, secret), nil
	})
	ce := val.(clientEntry)
	h.clientKey, h.wx, h.tokens = ck, ce.client, ce.tokens
	return nil
}

// check validates the resolved configuration.
func (h *Handler) check(secret, apiBase string) error {
	if h.appID == "" {
		return errors.New("app_id is required")
	}
	if secret == "" {
		return errors.New("app_secret is required (and must not be an empty placeholder)")
	}
	u, err := url.Parse(apiBase)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("api_base must be an http(s) URL, got %q", apiBase)
	}
	switch h.Require {
	case RequireOpenID, RequirePhone, RequireNone:
	default:
		return fmt.Errorf("require must be openid, phone or none, got %q", h.Require)
	}
	if h.sessionTTL < time.Second {
		return fmt.Errorf("session_ttl must be at least 1s, got %v", h.sessionTTL)
	}
	if h.timeout < 0 {
		return fmt.Errorf("timeout must be positive, got %v", h.timeout)
	}
	if h.RedisTimeout < 0 {
		return fmt.Errorf("redis_timeout must be positive")
	}
	if h.MaxSessions < 0 {
		return fmt.Errorf("max_sessions must be positive, got %d", h.MaxSessions)
	}
	return nil
}

// Validate checks the configuration. Provision already refused a bad
// one; this catches a handler used without Provision.
func (h *Handler) Validate() error {
	if h.store == nil || h.wx == nil {
		return errors.New("not provisioned")
	}
	return nil
}

// Cleanup gives back this block's reference to the app's shared state.
func (h *Handler) Cleanup() error {
	if h.storeKey != "" {
		_, _ = apps.Delete(h.storeKey)
		h.storeKey = ""
	}
	if h.clientKey != "" {
		_, _ = apps.Delete(h.clientKey)
		h.clientKey = ""
	}
	return nil
}

// ServeHTTP answers wechat_auth's endpoints and authenticates the rest.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	stripIdentityHeaders(r.Header)

	switch endpoint(r.URL.Path) {
	case "/wx/login":
		h.serveLogin(w, r)
		return nil
	case "/wx/phone":
		h.servePhone(w, r)
		return nil
	case "/wx/logout":
		h.serveLogout(w, r)
		return nil
	}

	_, s, failure := h.authenticate(r)
	if failure != nil {
		// A store that cannot answer never lets a request through, not
		// even anonymously: the client sent a token, and gets told.
		if h.Require == RequireNone && failure.status == http.StatusUnauthorized {
			return next.ServeHTTP(w, r)
		}
		failure.write(w)
		return nil
	}
	if h.Require == RequirePhone && s.Phone == "" {
		errPhoneRequired.write(w)
		return nil
	}
	setIdentityHeaders(r.Header, &s, h.appID)
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Set("http.auth.user.id", s.OpenID)
	}
	return next.ServeHTTP(w, r)
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

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	wechat_auth [<matcher>] {
//	    app_id       <appid>
//	    app_secret   <secret>
//	    api_base     <url>
//	    require      openid|phone|none
//	    session_ttl  <duration>
//	    timeout      <duration>
//	    max_sessions <n>
//	    redis        <url>
//	    redis_timeout <duration>
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		name := d.Val()
		var val string
		if !d.Args(&val) {
			return d.ArgErr()
		}
		if d.NextArg() {
			return d.Errf("%s takes one value", name)
		}
		switch name {
		case "app_id":
			h.AppID = val
		case "app_secret":
			h.AppSecret = val
		case "api_base":
			h.APIBase = val
		case "redis":
			h.Redis = val
		case "require":
			switch val {
			case RequireOpenID, RequirePhone, RequireNone:
				h.Require = val
			default:
				return d.Errf("require must be openid, phone or none, got %q", val)
			}
		case "session_ttl", "timeout", "redis_timeout":
			dur, err := caddy.ParseDuration(val)
			if err != nil {
				return d.Errf("%s: %v", name, err)
			}
			if dur <= 0 {
				return d.Errf("%s must be positive", name)
			}
			switch name {
			case "session_ttl":
				h.SessionTTL = caddy.Duration(dur)
			case "timeout":
				h.Timeout = caddy.Duration(dur)
			default:
				h.RedisTimeout = caddy.Duration(dur)
			}
		case "max_sessions":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n <= 0 {
				return d.Errf("max_sessions must be a positive whole number, got %q", val)
			}
			h.MaxSessions = n
		default:
			return d.Errf("unknown wechat_auth option %q", name)
		}
	}
	return nil
}

// parseCaddyfile unmarshals tokens from h into a new Handler.
func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var m Handler
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return &m, err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddyfile.Unmarshaler       = (*Handler)(nil)
)
