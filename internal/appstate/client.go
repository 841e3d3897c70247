package appstate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// clients holds one platform client per app and credentials (a changed
// secret or key makes a new client, not new sessions): with it the app's
// access token, where its platform has one.
var clients = caddy.NewUsagePool()

// Client is an app's pooled platform client.
type Client struct {
	platform.Client
	// Platform is the app's platform.
	Platform *platform.Platform
	// HTTPClient makes the client's calls (the Open API gateway makes its
	// own with it too).
	HTTPClient *http.Client
	// Tokens is the app's access token source where the platform client
	// exposes one (WeChat's stable_token: the one the gateway uses), nil
	// otherwise.
	Tokens *platform.TokenSource
	// Throttled samples the app's rate-limit answers, for one WARN line a
	// minute.
	Throttled *SampledLog
}

// tokenSourcer is what a platform client implements to share its access
// token source (the wechat platform: with wechat_api).
type tokenSourcer interface {
	TokenSource() *platform.TokenSource
}

// Destruct closes the client and its idle connections when the last block
// is gone.
func (e *Client) Destruct() error {
	e.Client.Close()
	e.HTTPClient.CloseIdleConnections()
	return nil
}

// ClientConfig is what an app's client is made from: placeholders
// replaced.
type ClientConfig struct {
	AppID, Secret string
	// APIBase is "" for the platform's real hosts.
	APIBase string
	Options map[string]string
}

// key names the client in the pool: the platform, the app, where its
// calls go and a hash of its credentials (never the credentials).
func (c ClientConfig) key(p *platform.Platform) string {
	base := c.APIBase
	if p.Name == "wechat" && base == wechat.DefaultBaseURL {
		base = "" // the default, said or not: one client
	}
	h := sha256.New()
	h.Write([]byte(c.Secret))
	names := make([]string, 0, len(c.Options))
	for n := range c.Options {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h.Write([]byte{0})
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(c.Options[n]))
	}
	return "client\x00" + p.Name + "\x00" + c.AppID + "\x00" + base + "\x00" + hex.EncodeToString(h.Sum(nil))
}

// AcquireClient takes a reference to the app's platform client, making it
// (with the platform's New, which refuses a key that does not parse) if
// this is the first block of the app with these credentials;
// ReleaseClient gives it back. Every module that needs the app's calls or
// token goes through here, so that there is one token per app however
// many wechat_auth and wechat_api blocks use it, across reloads.
func AcquireClient(p *platform.Platform, cfg ClientConfig) (string, *Client, error) {
	key := cfg.key(p)
	val, _, err := clients.LoadOrNew(key, func() (caddy.Destructor, error) {
		return newClient(p, cfg)
	})
	if err != nil {
		return "", nil, err
	}
	return key, val.(*Client), nil
}

// ResolveApp is an app's credentials and api_base as a block gives them,
// placeholders replaced (an unknown one by "") and api_base defaulted to
// WeChat's: every WeChat module resolves them alike, so that its blocks
// find the same client in the pool.
func ResolveApp(repl *caddy.Replacer, appID, secret, apiBase string) (id, sec, base string) {
	id = repl.ReplaceKnown(appID, "")
	sec = repl.ReplaceKnown(secret, "")
	base = repl.ReplaceKnown(apiBase, "")
	if base == "" {
		base = wechat.DefaultBaseURL
	}
	return id, sec, base
}

// ValidAPIBase is the one rule for an app's api_base, whichever module
// gives it: an http:// or https:// URL with a host and no query (the
// client appends the API path to it).
func ValidAPIBase(apiBase string) bool {
	u, err := url.Parse(apiBase)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == ""
}

// ReleaseClient gives back a reference taken with AcquireClient.
func ReleaseClient(key string) { _, _ = clients.Delete(key) }

func newClient(p *platform.Platform, cfg ClientConfig) (*Client, error) {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	hc := &http.Client{
		Transport: transport,
		// The platforms do not redirect; a redirect is a misbehaving
		// gateway, and its answer is reported as such.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	pc, err := p.New(platform.Config{
		AppID: cfg.AppID, Secret: cfg.Secret, APIBase: cfg.APIBase, Options: cfg.Options,
		HTTPClient:   hc,
		Observe:      observeCalls(p.Name, cfg.AppID),
		OnTokenError: logRefreshError,
	})
	if err != nil {
		transport.CloseIdleConnections()
		return nil, err
	}
	c := &Client{Client: pc, Platform: p, HTTPClient: hc, Throttled: &SampledLog{Every: time.Minute}}
	if ts, ok := pc.(tokenSourcer); ok {
		c.Tokens = ts.TokenSource()
	}
	return c, nil
}

// logRefreshError logs a failed access token fetch at ERROR: whether the
// cached token stays in use, and what the operator must do when the
// platform refused the app's credentials.
func logRefreshError(e platform.TokenError) {
	fields := append(reply.ErrorFields(e.Err), zap.String("app_id", e.AppID), zap.String("platform", e.Platform),
		zap.Duration("retry_in", e.Backoff), zap.Int("failures_in_a_row", e.Failures))
	msg := "access_token refresh failed"
	if e.CachedFor > 0 {
		msg += "; the cached token stays in use until it expires"
		fields = append(fields, zap.Duration("cached_token_valid_for", e.CachedFor))
	} else {
		msg += "; calls that need it (phone by code) fail until a fetch succeeds"
	}
	var pe *platform.Error
	if errors.As(e.Err, &pe) && pe.Action != "" {
		msg += ": " + pe.Action
		fields = append(fields, zap.String("action", pe.Action))
	}
	caddy.Log().Named("http.handlers.wechat_auth").Error(msg, fields...)
}
