package wechatauth

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wechat-auth/wechat_auth/internal/appstate"
	"github.com/wechat-auth/wechat_auth/internal/reply"
)

// Prometheus metrics, in Caddy's metrics registry (what the `metrics`
// directive and the admin endpoint expose). Labels name the app, the
// result (an error code of internal/reply, or "ok") or the flow: never an
// openid, a token or a phone. The WeChat client's and the sessions'
// metrics are internal/appstate's.
var metrics = struct {
	requests *prometheus.CounterVec
	phones   *prometheus.CounterVec
	limited  *prometheus.CounterVec
}{}

func init() {
	metrics.requests = appstate.Counter("wechat_auth", "requests_total",
		"Answers of the endpoints (login, phone, logout, session, jwks, ticket, web_login, web_callback, handoff) and requests refused (auth, csrf), by app, endpoint, result (ok or the error code) and platform.",
		"app_id", "endpoint", "result", "platform")
	metrics.phones = appstate.Counter("wechat_auth", "phone_bindings_total",
		"Phones bound, by app and flow (code: a paid getPhoneNumber call, or decrypt).", "app_id", "flow")
	metrics.limited = appstate.Counter("wechat_auth", "attempts_limited_total",
		"Attempts at login and phone refused with too_many_failures (the client address had failure_limit codes refused), by app and endpoint.",
		"app_id", "endpoint")
}

// registerMetrics adds wechat_auth's collectors, and those of the app
// state it shares, to a config's registry.
func registerMetrics(reg *prometheus.Registry) error {
	return appstate.RegisterMetrics(reg, metrics.requests, metrics.phones, metrics.limited)
}

// result is the metrics label of an answer: "ok" or its error code.
func result(e *reply.Error) string {
	if e == nil {
		return "ok"
	}
	return e.Code
}
