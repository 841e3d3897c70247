package appstate

import (
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// evictionLog reports the sessions an app's in-memory store ended to make
// room for new logins (a store full at max_sessions): each counted in
// caddy_wechat_auth_sessions_evicted_total at once, and one WARN line a
// minute at most saying how many since the line before.
type evictionLog struct {
	appID   string
	lines   SampledLog
	pending atomic.Int64 // evicted since the last line
	now     func() time.Time
	log     func() *zap.Logger
}

func newEvictionLog(appID string) *evictionLog {
	metrics.evicted.WithLabelValues(appID).Add(0) // the series shows 0 before the first
	return &evictionLog{
		appID: appID,
		lines: SampledLog{Every: time.Minute},
		now:   time.Now,
		log:   func() *zap.Logger { return caddy.Log().Named("http.handlers.wechat_auth") },
	}
}

// evicted is the store's OnEvict hook: n live sessions were ended.
func (l *evictionLog) evicted(n int) {
	metrics.evicted.WithLabelValues(l.appID).Add(float64(n))
	l.pending.Add(int64(n))
	if ok, _ := l.lines.Allow(l.now()); !ok {
		return
	}
	l.log().Warn("session store full: ended the sessions used least recently to let new logins in; max_sessions is too small for this app's users: raise it, or keep the sessions in Redis",
		zap.String("app_id", l.appID), zap.Int64("sessions_ended", l.pending.Swap(0)))
}
