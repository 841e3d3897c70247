package wechatauth

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// Prometheus metrics, in Caddy's metrics registry (what the `metrics`
// directive and the admin endpoint expose). Labels name the app, the
// result (an error code from errors.go, or "ok"), the flow or the WeChat
// endpoint: never an openid, a token or a phone.
var metrics = struct {
	logins        *prometheus.CounterVec
	phones        *prometheus.CounterVec
	wechatLatency *prometheus.HistogramVec
	tokenFetches  *prometheus.CounterVec
	sessions      *sessionsCollector
}{}

func init() {
	const ns, sub = "caddy", "wechat_auth"
	metrics.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "logins_total",
		Help: "Answers to POST /wx/login, by app and result (ok or the error code).",
	}, []string{"app_id", "result"})
	metrics.phones = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "phone_bindings_total",
		Help: "Answers to POST /wx/phone, by app, flow (code or decrypt) and result (ok or the error code).",
	}, []string{"app_id", "flow", "result"})
	metrics.wechatLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Subsystem: sub, Name: "wechat_request_duration_seconds",
		Help:    "Calls to the WeChat API, by app, endpoint and outcome (ok, api_error, timeout, unreachable, bad_answer, canceled).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"app_id", "endpoint", "outcome"})
	metrics.tokenFetches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "access_token_fetches_total",
		Help: "access_token fetches from stable_token, by app and outcome.",
	}, []string{"app_id", "outcome"})
	metrics.sessions = &sessionsCollector{desc: prometheus.NewDesc(
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
	for _, c := range []prometheus.Collector{metrics.logins, metrics.phones, metrics.wechatLatency,
		metrics.tokenFetches, metrics.sessions} {
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
func result(e *apiError) string {
	if e == nil {
		return "ok"
	}
	return e.code
}

// sessionsCollector reports, at scrape time, the size of every in-memory
// session store alive in the process.
type sessionsCollector struct{ desc *prometheus.Desc }

// counter is a store that knows how many sessions it holds.
type counter interface{ Len() int64 }

func (c *sessionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *sessionsCollector) Collect(ch chan<- prometheus.Metric) {
	// Blocks of one app with different store settings have a store each:
	// one sample per app, their sum (two samples with one label set would
	// fail the scrape).
	perApp := map[string]int64{}
	apps.Range(func(_, v any) bool {
		if e, ok := v.(storeEntry); ok {
			if n, ok := e.Store.(counter); ok {
				perApp[e.appID] += n.Len()
			}
		}
		return true
	})
	for app, n := range perApp {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), app)
	}
}
