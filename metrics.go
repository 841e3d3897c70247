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
	const ns, sub = "caddy", "wechat_auth"
	metrics.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "requests_total",
		Help: "Answers of the endpoints (login, phone, logout, jwks) and requests refused (auth), by app, endpoint, result (ok or the error code) and platform.",
	}, []string{"app_id", "endpoint", "result", "platform"})
	metrics.phones = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "phone_bindings_total",
		Help: "Phones bound, by app and flow (code: a paid getPhoneNumber call, or decrypt).",
	}, []string{"app_id", "flow"})
	metrics.limited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "attempts_limited_total",
		Help: "Attempts at login and phone refused with too_many_failures (the client address had failure_limit codes refused), by app and endpoint.",
	}, []string{"app_id", "endpoint"})
}

// registerMetrics adds wechat_auth's collectors, and those of the app
// state it shares, to a config's registry.
func registerMetrics(reg *prometheus.Registry) error {
	if err := appstate.RegisterMetrics(reg); err != nil {
		return err
	}
	return appstate.Register(reg, metrics.requests, metrics.phones, metrics.limited)
}

// result is the metrics label of an answer: "ok" or its error code.
func result(e *reply.Error) string {
	if e == nil {
		return "ok"
	}
	return e.Code
}
