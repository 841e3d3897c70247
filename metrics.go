package wechatauth

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// Prometheus metrics, in Caddy's metrics registry (what the `metrics`
// directive and the admin endpoint expose). Labels name the app, the
// result (an error code from errors.go, or "ok"), the flow or the WeChat
// endpoint: never an openid, a token or a phone.
var metrics = struct {
	requests      *prometheus.CounterVec
	phones        *prometheus.CounterVec
	wechatLatency *prometheus.HistogramVec
	tokenFetches  *prometheus.CounterVec
	limited       *prometheus.CounterVec
	sessions      *sessionsCollector
}{}

func init() {
	const ns, sub = "caddy", "wechat_auth"
	metrics.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "requests_total",
		Help: "Answers of the endpoints (login, phone, logout, jwks) and requests refused (auth), by app, endpoint and result (ok or the error code).",
	}, []string{"app_id", "endpoint", "result"})
	metrics.phones = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "phone_bindings_total",
		Help: "Phones bound, by app and flow (code: a paid getPhoneNumber call, or decrypt).",
	}, []string{"app_id", "flow"})
	metrics.wechatLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Subsystem: sub, Name: "wechat_request_duration_seconds",
		Help:    "Calls to the WeChat API, by app, endpoint and outcome (ok, api_error, timeout, unreachable, bad_answer, canceled).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"app_id", "endpoint", "outcome"})
	metrics.tokenFetches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "access_token_fetches_total",
		Help: "access_token fetches from stable_token, by app and outcome.",
	}, []string{"app_id", "outcome"})
	metrics.limited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "attempts_limited_total",
		Help: "Attempts at login and phone refused with too_many_failures (the client address had failure_limit codes refused), by app and endpoint.",
	}, []string{"app_id", "endpoint"})
	metrics.sessions = &sessionsCollector{sizes: storeSizes, desc: prometheus.NewDesc(
		prometheus.BuildFQName(ns, sub, "sessions"),
		"Live sessions in the in-memory store, by app (a Redis store does not count them).",
		[]string{"app_id"}, nil)}
}

// registerMetrics adds the collectors to a config's registry; a registry
// that has them already (several blocks) is fine.
func registerMetrics(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{metrics.requests, metrics.phones, metrics.wechatLatency,
		metrics.tokenFetches, metrics.limited, metrics.sessions} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// observeWeChat is the WeChat client's hook: latency of every call, and
// the access_token fetches.
func observeWeChat(appID string) func(endpoint string, took time.Duration, err error) {
	return func(endpoint string, took time.Duration, err error) {
		outcome := "ok"
		var we *wechat.Error
		if errors.As(err, &we) {
			outcome = we.Kind.String()
		} else if err != nil {
			outcome = "error"
		}
		metrics.wechatLatency.WithLabelValues(appID, endpoint, outcome).Observe(took.Seconds())
		if endpoint == wechat.EndpointStableToken {
			metrics.tokenFetches.WithLabelValues(appID, outcome).Inc()
		}
	}
}

// result is the metrics label of an answer: "ok" or its error code.
func result(e *reply.Error) string {
	if e == nil {
		return "ok"
	}
	return e.Code
}

// sessionsCollector reports, at scrape time, how many sessions the
// in-memory stores hold, by app.
type sessionsCollector struct {
	desc  *prometheus.Desc
	sizes func() map[string]int64
}

func (c *sessionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *sessionsCollector) Collect(ch chan<- prometheus.Metric) {
	for app, n := range c.sizes() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), app)
	}
}
