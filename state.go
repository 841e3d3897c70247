package wechatauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// The state every block of one app shares, and that must outlive a config
// reload, lives in pools: the app's session store, its WeChat client
// with the access_token (here), and its failure limiter (limiters, in
// failurelimit.go). Blocks take a reference in Provision and
// give it back in Cleanup; the state goes when the last block of the app
// does. A reload provisions the new config before cleaning up the old
// one, so the state is never dropped in between.
var (
	// stores holds one session store per app and backend (memory, or one
	// Redis URL): a reload that changes only the limits keeps the store.
	stores = caddy.NewUsagePool()
	// clients holds one WeChat client and access_token source per app and
	// credentials (a changed secret makes a new client, not new sessions).
	clients = caddy.NewUsagePool()
)

// storeSettings are what describe an app's store: every block of the app
// in a config must give the same.
type storeSettings struct {
	Redis string
	session.Limits
}

// differences names the settings where a and b disagree, with both values.
func (a storeSettings) differences(b storeSettings) []string {
	var d []string
	if a.Redis != b.Redis {
		d = append(d, fmt.Sprintf("redis: %s in one block, %s in another", redactedURL(a.Redis), redactedURL(b.Redis)))
	}
	if a.MaxSessions != b.MaxSessions {
		d = append(d, fmt.Sprintf("max_sessions: %d in one block, %d in another", a.MaxSessions, b.MaxSessions))
	}
	if a.SessionTTL != b.SessionTTL {
		d = append(d, fmt.Sprintf("session_ttl: %v in one block, %v in another", a.SessionTTL, b.SessionTTL))
	}
	if a.IdleTimeout != b.IdleTimeout {
		d = append(d, fmt.Sprintf("idle_timeout: %v in one block, %v in another", a.IdleTimeout, b.IdleTimeout))
	}
	if a.PhoneTTL != b.PhoneTTL {
		d = append(d, fmt.Sprintf("phone_ttl: %v in one block, %v in another", a.PhoneTTL, b.PhoneTTL))
	}
	return d
}

// redactedURL shows a Redis URL without its password; "none" for none.
func redactedURL(raw string) string {
	if raw == "" {
		return "none (in memory)"
	}
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// configClaims records, per config being loaded, what the first block of
// each app gave for a group of the app's settings (its store's, its
// failure limit), so that a block that disagrees is refused. A config is
// told by its context (every module of one config is provisioned with the
// same one); its record goes when that context ends.
var configClaims = struct {
	sync.Mutex
	m map[context.Context]map[string]any
}{m: map[context.Context]map[string]any{}}

// claimForApp records v as what appID's blocks give for the settings
// group in the config of ctx; when an earlier block of the app gave its
// own, it returns that instead, and true.
func claimForApp[T any](ctx caddy.Context, group, appID string, v T) (T, bool) {
	key := ctx.Context
	configClaims.Lock()
	defer configClaims.Unlock()
	claims, ok := configClaims.m[key]
	if !ok {
		claims = map[string]any{}
		configClaims.m[key] = claims
		context.AfterFunc(key, func() {
			configClaims.Lock()
			delete(configClaims.m, key)
			configClaims.Unlock()
		})
	}
	name := group + "\x00" + appID
	if first, ok := claims[name]; ok {
		return first.(T), true
	}
	claims[name] = v
	return v, false
}

// claimStoreSettings refuses a block whose store settings differ from
// those of an earlier block of the app in the same config.
func claimStoreSettings(ctx caddy.Context, appID string, s storeSettings) error {
	first, seen := claimForApp(ctx, "store", appID, s)
	if !seen {
		return nil
	}
	if d := first.differences(s); len(d) > 0 {
		return fmt.Errorf("wechat_auth: app %s: blocks disagree on %s: redis, max_sessions, session_ttl, idle_timeout and phone_ttl describe the app's one store, so every wechat_auth block of the app must give the same (an omitted setting counts as its default)", appID, strings.Join(d, "; "))
	}
	return nil
}

// storeEntry is a pooled session store.
type storeEntry struct {
	session.Store
	appID string
	kind  string // "memory" or "redis"
}

func (e *storeEntry) Destruct() error { return e.Close() }

// acquireStore takes a reference to the app's store for these settings,
// making it if it is the first; a store that exists takes the new limits.
func acquireStore(appID, secret string, s storeSettings, redisTimeout time.Duration) (string, session.Store, error) {
	key := "store\x00" + appID + "\x00memory"
	if s.Redis != "" {
		// A Redis store's session_key encryption is derived from the
		// secret, so the secret is part of its name (hashed).
		key = "store\x00" + appID + "\x00redis\x00" + s.Redis + "\x00" + secretHash(secret)
	}
	val, loaded, err := stores.LoadOrNew(key, func() (caddy.Destructor, error) {
		if s.Redis != "" {
			st, err := session.NewRedis(session.RedisOptions{
				URL: s.Redis, AppID: appID, KeySecret: secret, Timeout: redisTimeout, Limits: s.Limits,
				OnStateChange: logRedisState(appID),
			})
			if err != nil {
				return nil, err
			}
			return &storeEntry{st, appID, "redis"}, nil
		}
		st, err := session.NewMemory(s.Limits)
		if err != nil {
			return nil, err
		}
		return &storeEntry{st, appID, "memory"}, nil
	})
	if err != nil {
		return "", nil, err
	}
	st := val.(*storeEntry).Store
	if loaded {
		// a reload: the live store takes the new config's limits, and
		// keeps its sessions
		st.SetLimits(s.Limits)
	}
	return key, st, nil
}

// logRedisState logs when an app's Redis goes down (once; until it is back
// every request with a token gets 503 at once) and when it is back.
func logRedisState(appID string) func(up bool, err error) {
	return func(up bool, err error) {
		log := caddy.Log().Named("http.handlers.wechat_auth")
		if up {
			log.Info("redis is back: sessions are served again", zap.String("app_id", appID))
			return
		}
		log.Error("redis is down: requests with a token get 503 session_store_unavailable until it is back",
			zap.String("app_id", appID), zap.Error(err))
	}
}

// storeSizes sums the live sessions of the stores that count them, by app.
func storeSizes() map[string]int64 {
	perApp := map[string]int64{}
	stores.Range(func(_, v any) bool {
		e := v.(*storeEntry)
		if n, ok := e.Len(); ok {
			perApp[e.appID] += n
		}
		return true
	})
	return perApp
}

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// clientEntry is a pooled WeChat client with its access_token source.
type clientEntry struct {
	client    *wechat.Client
	tokens    *wechat.TokenSource
	throttled *sampledLog // the app's 45011 answers, for one WARN line a minute
}

func (e *clientEntry) Destruct() error {
	e.client.HTTPClient.CloseIdleConnections()
	return nil
}

// acquireClient takes a reference to the app's WeChat client.
func acquireClient(appID, apiBase, secret string) (string, *clientEntry) {
	key := "client\x00" + appID + "\x00" + apiBase + "\x00" + secretHash(secret)
	val, _, _ := clients.LoadOrNew(key, func() (caddy.Destructor, error) {
		return newClientEntry(appID, apiBase, secret), nil
	})
	return key, val.(*clientEntry)
}

func newClientEntry(appID, apiBase, secret string) *clientEntry {
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
	return &clientEntry{client: client, tokens: tokens, throttled: &sampledLog{every: time.Minute}}
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
