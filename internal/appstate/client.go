package appstate

import (
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// clients holds one WeChat client and access_token source per app and
// credentials (a changed secret makes a new client, not new sessions).
var clients = caddy.NewUsagePool()

// Client is an app's pooled WeChat client with its access_token source.
type Client struct {
	*wechat.Client
	Tokens    *wechat.TokenSource
	Throttled *SampledLog // the 45011 answers (per user) to the app's calls, for one WARN line a minute
}

// Destruct closes the idle connections when the last block is gone.
func (e *Client) Destruct() error {
	e.HTTPClient.CloseIdleConnections()
	return nil
}

// AcquireClient takes a reference to the app's WeChat client and
// access_token source, making it if this is the first block of the app
// with these credentials; ReleaseClient gives it back. Every module that
// needs the app's token goes through here, so that there is one token per
// app however many wechat_auth and wechat_api blocks use it, across
// reloads.
func AcquireClient(appID, apiBase, secret string) (string, *Client) {
	key := "client\x00" + appID + "\x00" + apiBase + "\x00" + secretHash(secret)
	val, _, _ := clients.LoadOrNew(key, func() (caddy.Destructor, error) {
		return newClient(appID, apiBase, secret), nil
	})
	return key, val.(*Client)
}

// ResolveApp is an app's credentials and api_base as a block gives them,
// placeholders replaced (an unknown one by "") and api_base defaulted to
// WeChat's: every module resolves them alike, so that its blocks find the
// same client in the pool.
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

func newClient(appID, apiBase, secret string) *Client {
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
	client := &wechat.Client{
		BaseURL: apiBase,
		AppID:   appID,
		Secret:  secret,
		HTTPClient: &http.Client{
			Transport: transport,
			// WeChat does not redirect; a redirect is a misbehaving
			// gateway, and its answer is reported as such.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	client.Observe = observeWeChat(appID)
	tokens := &wechat.TokenSource{Client: client, OnRefreshError: logRefreshError(appID)}
	return &Client{Client: client, Tokens: tokens, Throttled: &SampledLog{Every: time.Minute}}
}

func logRefreshError(appID string) func(wechat.RefreshError) {
	return func(e wechat.RefreshError) {
		fields := append(reply.WeChatErrorFields(e.Err), zap.String("app_id", appID),
			zap.Duration("retry_in", e.Backoff), zap.Int("failures_in_a_row", e.Failures))
		msg := "access_token refresh failed"
		if e.CachedFor > 0 {
			msg += "; the cached token stays in use until it expires"
			fields = append(fields, zap.Duration("cached_token_valid_for", e.CachedFor))
		} else {
			msg += "; calls that need it (phone by code) fail until a fetch succeeds"
		}
		if action := wechat.OperatorAction(wechat.APICode(e.Err)); action != "" {
			msg += ": " + action
			fields = append(fields, zap.String("action", action))
		}
		caddy.Log().Named("http.handlers.wechat_auth").Error(msg, fields...)
	}
}
