package appstate

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// The metrics of the shared state, under wechat_auth's names whichever
// module made the state: the WeChat client's calls and access_token
// fetches, and the live and evicted sessions of the in-memory stores. Labels name the
// app, the WeChat endpoint and the outcome: never an openid or a token.
var metrics = struct {
	wechatLatency *prometheus.HistogramVec
	tokenFetches  *prometheus.CounterVec
	sessions      *sessionsCollector
	evicted       *prometheus.CounterVec
}{}

func init() {
	metrics.wechatLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "caddy", Subsystem: "wechat_auth", Name: "wechat_request_duration_seconds",
		Help:    "Calls to the WeChat API, by app, endpoint and outcome (ok, api_error, timeout, unreachable, bad_answer, canceled).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"app_id", "endpoint", "outcome"})
	metrics.tokenFetches = Counter("wechat_auth", "access_token_fetches_total",
		"access_token fetches from stable_token, by app and outcome.", "app_id", "outcome")
	metrics.sessions = &sessionsCollector{sizes: storeSizes, desc: prometheus.NewDesc(
		prometheus.BuildFQName("caddy", "wechat_auth", "sessions"),
		"Live sessions in the in-memory store, by app (a Redis store does not count them).",
		[]string{"app_id"}, nil)}
	metrics.evicted = Counter("wechat_auth", "sessions_evicted_total",
		"Live sessions an in-memory store ended to let new logins in (the store held max_sessions), by app.", "app_id")
}

// Counter is a counter in Caddy's namespace, caddy_<subsystem>_<name>, by
// the labels: how every module of the project makes its counters.
func Counter(subsystem, name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy", Subsystem: subsystem, Name: name, Help: help,
	}, labels)
}

// RegisterMetrics adds the shared state's collectors, and a module's own,
// to a config's registry (none when reg is nil); a registry that has them
// already (several blocks) is fine. Every module that takes shared state
// calls it.
func RegisterMetrics(reg *prometheus.Registry, own ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	shared := []prometheus.Collector{metrics.wechatLatency, metrics.tokenFetches, metrics.sessions, metrics.evicted}
	for _, c := range append(shared, own...) {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// observeCalls is a platform client's hook: latency of every call, and
// WeChat's access_token fetches.
func observeCalls(platformName, appID string) func(endpoint string, took time.Duration, err error) {
	return func(endpoint string, took time.Duration, err error) {
		outcome := "ok"
		var we *wechat.Error
		var pe *platform.Error
		switch {
		case errors.As(err, &we):
			outcome = we.Kind.String()
		case errors.As(err, &pe):
			outcome = pe.Kind.String()
		case err != nil:
			outcome = "error"
		}
		metrics.wechatLatency.WithLabelValues(appID, endpoint, outcome).Observe(took.Seconds())
		if platformName == "wechat" && endpoint == wechat.EndpointStableToken {
			metrics.tokenFetches.WithLabelValues(appID, outcome).Inc()
		}
	}
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
