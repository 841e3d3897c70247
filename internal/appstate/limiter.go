package appstate

import (
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/wechat-auth/wechat_auth/internal/failurelimit"
)

// limiters holds one failure limiter per app (and window length: a reload
// that changes only n keeps the counts, one that changes the window
// starts afresh).
var limiters = caddy.NewUsagePool()

type limiterEntry struct{ *failurelimit.Limiter }

func (limiterEntry) Destruct() error { return nil }

// AcquireLimiter takes a reference to the app's failure limiter for the
// window, making it (started at now) if it is the first; ReleaseLimiter
// gives it back.
func AcquireLimiter(appID string, window time.Duration, now time.Time) (string, *failurelimit.Limiter) {
	key := "limiter\x00" + appID + "\x00" + window.String()
	val, _, _ := limiters.LoadOrNew(key, func() (caddy.Destructor, error) {
		return limiterEntry{failurelimit.New(window, failurelimit.MaxAddresses, now)}, nil
	})
	return key, val.(limiterEntry).Limiter
}

// ReleaseLimiter gives back a reference taken with AcquireLimiter.
func ReleaseLimiter(key string) { _, _ = limiters.Delete(key) }

// Live counts the shared states alive in the process: session stores and
// WeChat clients, and failure limiters. The tests of sharing and cleanup
// read it (through the root package's export_test.go).
func Live() (storesAndClients, failureLimiters int) {
	count := func(p *caddy.UsagePool) (n int) {
		p.Range(func(_, _ any) bool { n++; return true })
		return n
	}
	return count(stores) + count(clients), count(limiters)
}
