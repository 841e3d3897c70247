// Package appstate holds what every block of one app shares in a Caddy,
// and what must outlive a config reload: per app_id, its session store,
// its WeChat client with the access_token, and its failure limiter, each
// in a caddy.UsagePool; and, per config being loaded, what the app's first
// block claimed for the app's settings, so that a block that disagrees is
// refused. Blocks take a reference in Provision and give it back in
// Cleanup; the state goes when the last block of the app does. A reload
// provisions the new config before cleaning up the old one, so the state
// is never dropped in between.
//
// It uses Caddy's pools and logger, and knows no module: wechat_auth,
// wechat_api and the admin API reach the state only through here.
package appstate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/session"
)

var (
	// stores holds one session store per app and backend (memory, or one
	// Redis URL): a reload that changes only the limits keeps the store.
	stores = caddy.NewUsagePool()
)

// StoreSettings are what describe an app's store: every block of the app
// in a config must give the same.
type StoreSettings struct {
	Redis string
	session.Limits
}

// differences names the settings where a and b disagree, with both values.
func (a StoreSettings) differences(b StoreSettings) []string {
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

// Store is an app's pooled session store.
type Store struct {
	session.Store
	AppID    string
	Platform string // the app's platform word
	Kind     string // "memory" or "redis"
}

// Destruct closes the store when its last block is gone.
func (e *Store) Destruct() error { return e.Close() }

// AcquireStore takes a reference to the app's store for these settings,
// making it if it is the first; a store that exists takes the new limits.
func AcquireStore(appID, platformName, secret string, s StoreSettings, redisTimeout time.Duration) (string, session.Store, error) {
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
			return &Store{st, appID, platformName, "redis"}, nil
		}
		st, err := session.NewMemory(s.Limits)
		if err != nil {
			return nil, err
		}
		return &Store{st, appID, platformName, "memory"}, nil
	})
	if err != nil {
		return "", nil, err
	}
	st := val.(*Store).Store
	if loaded {
		// a reload: the live store takes the new config's limits, and
		// keeps its sessions
		st.SetLimits(s.Limits)
	}
	return key, st, nil
}

// ReleaseStore gives back a reference taken with AcquireStore.
func ReleaseStore(key string) { _, _ = stores.Delete(key) }

// Stores returns the live stores, one per app and backend.
func Stores() []*Store {
	var list []*Store
	stores.Range(func(_, v any) bool {
		list = append(list, v.(*Store))
		return true
	})
	return list
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
	for _, e := range Stores() {
		if n, ok := e.Len(); ok {
			perApp[e.AppID] += n
		}
	}
	return perApp
}

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
