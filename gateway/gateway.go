// Package gateway is http.handlers.wechat_api (directive wechat_api), the
// WeChat Open API gateway: backends call any WeChat server API through it
// without an access_token, and it adds the app's, the one every
// wechat_auth block of the same app_id uses (internal/appstate holds it).
// gateway.go holds the module (config, Provision, Validate, ServeHTTP),
// caddyfile.go its Caddyfile parser and registration, allow.go allow_from
// (its parser, and the check of a caller's address), forward.go the call
// to WeChat and the answer streamed back, metrics.go its metrics. The
// root package wechatauth imports it, so that xcaddy --with registers it.
package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/appstate"
	"github.com/wechat-auth/wechat_auth/internal/platform"
	wxplatform "github.com/wechat-auth/wechat_auth/internal/platform/wechat"
	"github.com/wechat-auth/wechat_auth/internal/reply"
)

// Gateway defaults and bounds.
const (
	// DefaultGatewayTimeout is how long WeChat may take to start
	// answering a call passed through the gateway.
	DefaultGatewayTimeout = 30 * time.Second
	// maxGatewayBody bounds a request body: it is kept in memory so that
	// the call can be repeated with a fresh token.
	maxGatewayBody = 10 << 20
)

// Gateway is the WeChat Open API gateway: it lets a backend call any
// WeChat server API (/wxa/msg_sec_check, /cgi-bin/message/subscribe/send,
// /wxa/getwxacodeunlimit, ...) without an access_token, as WeChat Cloud
// Hosting's open API service does.
//
// Every request goes to api_base with the same method, path, query and
// body, and with access_token (and cloudbase_access_token) set to the
// app's token, whatever the client sent under those names. WeChat's
// status, Content-Type and body come back unchanged, streamed. When WeChat
// answers errcode 40001, 42001 or 40014, the token is dropped, a fresh one
// fetched and the call repeated once. The token is the one every
// wechat_auth block of the same app_id uses: one per app in the process,
// kept across reloads.
//
// It spends the app's quota with the app's powers, so it answers only
// clients whose address (Caddy's client IP, so trusted_proxies applies)
// is in allow_from; others get 403 and reach no one. Serve it on an
// internal listener, such as http://127.0.0.1:2020.
//
// The access_token rides in the URL of the call to WeChat: it is never
// logged. Caddy's access log shows the client's request, whose query may
// hold an access_token the client sent; filter it out with the log
// filter `request>uri query { delete access_token }` (see the README).
type Gateway struct {
	// The mini program's AppID. Required. Placeholders are replaced.
	AppID string `json:"app_id,omitempty"`

	// The mini program's AppSecret. Required; use a placeholder such as
	// {env.WX_APP_SECRET}. Never logged.
	AppSecret string `json:"app_secret,omitempty"`

	// The WeChat API base URL. Default https://api.weixin.qq.com.
	APIBase string `json:"api_base,omitempty"`

	// The client addresses allowed to call the gateway: IP addresses and
	// CIDR ranges ("private_ranges" stands for the default). Default:
	// loopback and the private ranges, 127.0.0.0/8, ::1/128, 10.0.0.0/8,
	// 172.16.0.0/12, 192.168.0.0/16 and fc00::/7. Placeholders are
	// replaced; a value may hold several, separated by spaces or commas.
	AllowFrom []string `json:"allow_from,omitempty"`

	// How long WeChat may take to answer one call (the token fetch, and
	// each attempt up to its headers, or its whole body when the gateway
	// reads a small JSON answer for its errcode), before the client gets
	// 504. A large or binary answer then streams without a deadline.
	// Default 30s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	logger  *zap.Logger
	appID   string
	apiBase string
	allow   []netip.Prefix
	timeout time.Duration
	// the app's shared HTTP client and token, and the pool key that
	// gives them back (Cleanup)
	client    *http.Client
	tokens    *platform.TokenSource
	clientKey string
}

// CaddyModule returns the Caddy module information.
func (Gateway) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.wechat_api",
		New: func() caddy.Module { return new(Gateway) },
	}
}

// Provision resolves placeholders and defaults, checks them, and takes a
// reference to the app's shared WeChat client and token.
func (g *Gateway) Provision(ctx caddy.Context) error {
	repl := caddy.NewReplacer()
	var secret string
	g.appID, secret, g.apiBase = appstate.ResolveApp(repl, g.AppID, g.AppSecret, g.APIBase)
	g.timeout = cmp.Or(time.Duration(g.Timeout), DefaultGatewayTimeout)
	allow, err := parseAllowFrom(g.AllowFrom, repl)
	if err != nil {
		return err
	}
	g.allow = allow
	if g.appID == "" {
		return errors.New("app_id is required")
	}
	if secret == "" {
		return errors.New("app_secret is required (and must not be an empty placeholder)")
	}
	if err := checkAPIBase(g.apiBase); err != nil {
		return err
	}
	if g.timeout < 0 {
		return fmt.Errorf("timeout must be a positive duration, got %v", g.timeout)
	}
	// the shared client's metrics too: they count the token fetches
	if err := registerGatewayMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("metrics: %v", err)
	}

	p, ok := platform.Lookup(wxplatform.Name)
	if !ok {
		return errors.New("the wechat platform is not compiled in")
	}
	key, c, err := appstate.AcquireClient(p, appstate.ClientConfig{AppID: g.appID, Secret: secret, APIBase: g.apiBase})
	if err != nil {
		return err
	}
	g.logger, g.clientKey, g.client, g.tokens = ctx.Logger(), key, c.HTTPClient, c.Tokens
	return nil
}

// checkAPIBase accepts an api_base by the rule wechat_auth's is held to.
func checkAPIBase(apiBase string) error {
	if !appstate.ValidAPIBase(apiBase) {
		return fmt.Errorf("api_base must be an http(s) URL without a query, such as https://api.weixin.qq.com; got %q", apiBase)
	}
	return nil
}

// Validate checks the provisioned configuration.
func (g *Gateway) Validate() error {
	switch {
	case g.tokens == nil || g.client == nil:
		return errors.New("not provisioned")
	case len(g.allow) == 0:
		return errors.New("allow_from names no address")
	case g.timeout <= 0:
		return fmt.Errorf("timeout must be a positive duration, got %v", g.timeout)
	}
	return nil
}

// Cleanup gives back the reference to the app's shared client and token.
func (g *Gateway) Cleanup() error {
	if g.clientKey != "" {
		appstate.ReleaseClient(g.clientKey)
		g.clientKey = ""
	}
	return nil
}

// ServeHTTP passes the request on to WeChat with the app's access_token.
// It never calls next: the gateway is where a request ends.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	start := time.Now()
	ip, ok := g.allowed(r)
	if !ok {
		gatewayMetrics.refused.WithLabelValues(g.appID, reply.AddressNotAllowed.Code).Inc()
		g.logger.Warn("refused a caller outside allow_from",
			zap.String("client_ip", ip.String()), zap.String("method", r.Method), zap.String("path", r.URL.Path))
		reply.BoundUnreadBody(w)
		reply.AddressNotAllowed.Write(w)
		return nil
	}
	body, e := readGatewayBody(w, r)
	if e != nil {
		if e == reply.BodyTooLarge {
			gatewayMetrics.refused.WithLabelValues(g.appID, e.Code).Inc()
		}
		e.Write(w)
		return nil
	}
	g.forward(w, r, body, start)
	return nil
}

// errGatewayTimeout is the cause of a call canceled by the timeout.
var errGatewayTimeout = errors.New("no answer within the timeout")

// withTimeout returns a context that the timeout cancels, with
// errGatewayTimeout as its cause, unless stop is called first.
func withTimeout(parent context.Context, d time.Duration) (ctx context.Context, stop func() bool, cancel context.CancelFunc) {
	ctx, cancelCause := context.WithCancelCause(parent)
	t := time.AfterFunc(d, func() { cancelCause(errGatewayTimeout) })
	return ctx, t.Stop, func() { t.Stop(); cancelCause(context.Canceled) }
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Gateway)(nil)
	_ caddy.Validator             = (*Gateway)(nil)
	_ caddy.CleanerUpper          = (*Gateway)(nil)
	_ caddyhttp.MiddlewareHandler = (*Gateway)(nil)
)
