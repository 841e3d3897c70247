package wechatauth

// failure_limit: a client address that has had too many codes refused by
// WeChat gets 429 too_many_failures at /wx/login and /wx/phone, without a
// call to WeChat, until enough of its failures are older than the window.
// Guessed codes would otherwise spend the app's WeChat quota, which is the
// app's, not the client's (45011 locks every user of the app out).
//
// The limiter is the app's, like its store: one per app_id in the pool
// below, shared by every block of the app and kept across reloads (blocks
// must agree on the setting). It is per Caddy process: with several behind
// a balancer the effective limit is n per instance. Only the two endpoints
// touch it; authenticated requests never do.

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/appstate"
	"github.com/wechat-auth/wechat_auth/internal/failurelimit"
	"github.com/wechat-auth/wechat_auth/internal/reply"
)

// DefaultFailureLimit is failure_limit when the config gives none.
const DefaultFailureLimit = failurelimit.Default

// failureGuard is a block's failure limit and its reference to the app's
// limiter (nil when off).
type failureGuard struct {
	limit   failurelimit.Limit
	limiter *failurelimit.Limiter
	key     string // the limiter's, in appstate
}

// clock, when set, is the time the handlers read instead of time.Now (a
// package clock, not a Handler field, which a config would set): the
// tests move it (SetClock in export_test.go) rather than sleep through a
// failure window. Atomic, as Caddy's goroutines read it.
var clock atomic.Pointer[func() time.Time]

// clockNow is the handlers' clock: time.Now unless a test set clock.
func clockNow() time.Time {
	if f := clock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// acquireFailureLimiter takes a reference to the app's limiter for the
// limit (parsed, and claimed for the app, by Provision before it takes
// any shared state).
func acquireFailureLimiter(appID string, limit failurelimit.Limit) *failureGuard {
	g := &failureGuard{limit: limit}
	if !limit.Off() {
		g.key, g.limiter = appstate.AcquireLimiter(appID, limit.Window, clockNow())
	}
	return g
}

// release gives back the reference to the limiter.
func (g *failureGuard) release() {
	if g != nil && g.key != "" {
		appstate.ReleaseLimiter(g.key)
		g.key = ""
	}
}

// claimFailureLimit refuses a block whose failure limit differs from that
// of an earlier block of the app in the same config.
func claimFailureLimit(ctx caddy.Context, appID string, l failurelimit.Limit) error {
	first, seen := appstate.Claim(ctx.Context, "failure_limit", appID, l)
	if !seen {
		return nil
	}
	if first != l {
		return fmt.Errorf("wechat_auth: app %s: blocks disagree on failure_limit: %s in one block, %s in another: the failure limit is the app's, so every wechat_auth block of the app must give the same (an omitted failure_limit counts as its default %s)", appID, first, l, DefaultFailureLimit)
	}
	return nil
}

// refusedCode tells the answers that count as a failure: the platform
// refused the code as invalid or used, or the user as risky; a refused
// phone code (invalid_phone_code, WeChat's 40013 of another app's code
// included) counts too, as does a phone code too long to be one.
func refusedCode(e *reply.Error) bool {
	return e == reply.InvalidCode || e == reply.CodeUsed || e == reply.RiskyUser || e == reply.InvalidPhoneCode
}

// limitFailures serves /wx/login or /wx/phone under the app's failure
// limit: a client address that has had n codes refused within the window
// gets 429 too_many_failures with Retry-After, and reaches no one.
func (h *Handler) limitFailures(a *app, w http.ResponseWriter, r *http.Request, endpoint string, serve func() *reply.Error) *reply.Error {
	g := a.failures
	if g == nil || g.limiter == nil {
		return serve()
	}
	ip := reply.ClientIP(r)
	key := failurelimit.KeyOf(ip)
	if wait := g.limiter.Wait(key, g.limit.N, clockNow()); wait > 0 {
		metrics.limited.WithLabelValues(a.id, endpoint).Inc()
		w.Header().Set("Retry-After", strconv.FormatInt(failurelimit.RetryAfterSeconds(wait), 10))
		return reply.TooManyFailures
	}
	e := serve()
	if refusedCode(e) && g.limiter.Fail(key, clockNow()) == g.limit.N {
		// once per address and window: when it reaches the limit
		h.logger.Warn("client address limited: too many codes refused by WeChat",
			zap.String("app_id", a.id), zap.String("client_ip", ip.String()),
			zap.String("failure_limit", g.limit.String()), zap.String("last_answer", e.Code))
	}
	return e
}
