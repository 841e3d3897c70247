package appstate

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// configClaims records, per config being loaded, what the first block of
// each app gave for a group of the app's settings (its store's, its
// failure limit), so that a block that disagrees is refused. A config is
// told by its context: every module of one config is provisioned with the
// same caddy.Context, whose context.Context (ctx.Context, not the
// caddy.Context itself, which cannot be a map key) is passed here. Its
// record goes when that context ends.
var configClaims = struct {
	sync.Mutex
	m map[context.Context]map[string]any
}{m: map[context.Context]map[string]any{}}

// Claim records v as what appID's blocks give for the settings
// group in the config of ctx; when an earlier block of the app gave its
// own, it returns that instead, and true.
func Claim[T any](ctx context.Context, group, appID string, v T) (T, bool) {
	key := ctx
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

// ClaimStoreSettings refuses a block whose store settings differ from
// those of an earlier block of the app in the same config.
func ClaimStoreSettings(ctx context.Context, appID string, s StoreSettings) error {
	first, seen := Claim(ctx, "store", appID, s)
	if !seen {
		return nil
	}
	if d := first.differences(s); len(d) > 0 {
		return fmt.Errorf("wechat_auth: app %s: blocks disagree on %s: redis, max_sessions, session_ttl, idle_timeout and phone_ttl describe the app's one store, so every wechat_auth block of the app must give the same (an omitted setting counts as its default)", appID, strings.Join(d, "; "))
	}
	return nil
}
