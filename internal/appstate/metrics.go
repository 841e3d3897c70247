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
// fetches, and the live sessions of the in-memory stores. Labels name the
// app, the WeChat endpoint and the outcome: never an openid or a token.
var metrics = struct {
	wechatLatency *prometheus.HistogramVec
	tokenFetches  *prometheus.CounterVec
	sessions      *sessionsCollector
}{}

func init() {
	const ns, sub = "caddy", "wechat_auth"
	metrics.wechatLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Subsystem: sub, Name: "wechat_request_duration_seconds",
		Help:    "Calls to the WeChat API, by app, endpoint and outcome (ok, api_error, timeout, unreachable, bad_answer, canceled).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"app_id", "endpoint", "outcome"})
	metrics.tokenFetches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "access_token_fetches_total",
		Help: "access_token fetches from stable_token, by app and outcome.",
	}, []string{"app_id", "outcome"})
	metrics.sessions = &sessionsCollector{sizes: storeSizes, desc: prometheus.NewDesc(
		prometheus.BuildFQName(ns, sub, "sessions"),
		"Live sessions in the in-memory store, by app (a Redis store does not count them).",
		[]string{"app_id"}, nil)}
}

// RegisterMetrics adds the shared state's collectors to a config's
// registry: every module that takes shared state calls it.
func RegisterMetrics(reg *prometheus.Registry) error {
	return Register(reg, metrics.wechatLatency, metrics.tokenFetches, metrics.sessions)
}

// Register adds collectors to a config's registry (none when reg is nil);
// a registry that has them already (several blocks) is fine.
func Register(reg *prometheus.Registry, collectors ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	for _, c := range collectors {
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
