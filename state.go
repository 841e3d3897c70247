package wechatauth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// apps holds the state that every wechat_auth block of one app shares and
// that must outlive a config reload: the session store, and the WeChat
// client with its access_token. Blocks take a reference in Provision and
// give it back in Cleanup; the state goes when the last block of the app
// does. A reload provisions the new config before cleaning up the old
// one, so the state is never dropped in between.
var apps = caddy.NewUsagePool()

// storeKey names a session store: one per app and store settings. A Redis
// store's session_key encryption is derived from the secret, so the
// secret is part of its name (hashed).
func storeKey(appID string, maxSessions int64, redisURL, secret string) string {
	if redisURL == "" {
		return fmt.Sprintf("store\x00%s\x00memory\x00%d", appID, maxSessions)
	}
	return "store\x00" + appID + "\x00redis\x00" + redisURL + "\x00" + secretHash(secret)
}

// clientKey names a WeChat client and its access_token: one per app and
// credentials (a changed secret makes a new client, not new sessions).
func clientKey(appID, apiBase, secret string) string {
	return "client\x00" + appID + "\x00" + apiBase + "\x00" + secretHash(secret)
}

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

type storeEntry struct {
	session.Store
	appID string
}

func (e storeEntry) Destruct() error { return e.Close() }

type clientEntry struct {
	client    *wechat.Client
	tokens    *wechat.TokenSource
	throttled *sampledLog // the app's 45011 answers, for one WARN line a minute
}

func (e clientEntry) Destruct() error {
	e.client.HTTPClient.CloseIdleConnections()
	return nil
}

func newClientEntry(appID, apiBase, secret string) clientEntry {
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
	return clientEntry{client: client, tokens: tokens, throttled: &sampledLog{every: time.Minute}}
}

// logRefreshError logs a failed access_token fetch of the app at ERROR:
// the token source calls it once per backoff. It logs through Caddy's
// current default logger under the handler's name, so that it follows
// config reloads (the state outlives the block that made it).
func logRefreshError(appID string) func(wechat.RefreshError) {
	return func(e wechat.RefreshError) {
		fields := append(weChatErrorFields(e.Err), zap.String("app_id", appID),
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

// sampledLog lets one line through per period and counts the others, for
// events that may come in floods (WeChat's 45011 rate limit).
type sampledLog struct {
	every time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether a line may be logged at now, and how many were
// held back since the last one that was.
func (l *sampledLog) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}
