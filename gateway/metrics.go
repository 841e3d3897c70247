package gateway

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wechat-auth/wechat_auth/internal/appstate"
)

// The gateway's metrics, in Caddy's registry beside wechat_auth's. Labels
// name the app, the API path (bounded: see pathLabel), WeChat's errcode,
// or why a request was refused: never a token, a query or a body.
var gatewayMetrics = struct {
	calls     *prometheus.CounterVec
	retries   *prometheus.CounterVec
	refreshes *prometheus.CounterVec
	refused   *prometheus.CounterVec
}{}

func init() {
	gatewayMetrics.calls = appstate.Counter("wechat_api", "calls_total",
		"Calls passed through the Open API gateway, by app, API path and errcode "+
			`(WeChat's, "none" for an answer that is not a JSON object, or the gateway's error code when WeChat gave no answer).`,
		"app_id", "path", "errcode")
	gatewayMetrics.retries = appstate.Counter("wechat_api", "retries_total",
		"Calls repeated because WeChat said the access_token was dead (40001, 42001, 40014), by app.", "app_id")
	gatewayMetrics.refreshes = appstate.Counter("wechat_api", "token_refreshes_total",
		"Dead access_tokens dropped by the gateway so that another is fetched, by app.", "app_id")
	gatewayMetrics.refused = appstate.Counter("wechat_api", "refused_total",
		"Requests the gateway refused before any call, by app and reason (address_not_allowed, body_too_large).", "app_id", "reason")
}

// registerGatewayMetrics adds the gateway's collectors, and those of the
// app state it shares, to a config's registry.
func registerGatewayMetrics(reg *prometheus.Registry) error {
	return appstate.RegisterMetrics(reg, gatewayMetrics.calls, gatewayMetrics.retries,
		gatewayMetrics.refreshes, gatewayMetrics.refused)
}

// Bounds of the path label: the path comes from clients, so only paths
// shaped like WeChat's API paths get a label of their own, and no more
// than maxPathLabels of them in the process's life; the rest are "other".
const (
	maxPathLabelLen      = 64
	maxPathLabelSegments = 6
	maxPathLabels        = 256
)

var pathLabels = struct {
	sync.Mutex
	seen map[string]struct{}
}{seen: map[string]struct{}{}}

// pathLabel returns the metrics label of an API path: the path itself if
// it looks like a WeChat API path (/segment/... of [A-Za-z0-9_-], at most six
// segments and 64 characters, such as /cgi-bin/message/subscribe/send)
// and is among the first maxPathLabels such paths seen, else "other".
func pathLabel(p string) string {
	if !apiPathShaped(p) {
		return "other"
	}
	pathLabels.Lock()
	defer pathLabels.Unlock()
	if _, ok := pathLabels.seen[p]; ok {
		return p
	}
	if len(pathLabels.seen) >= maxPathLabels {
		return "other"
	}
	pathLabels.seen[p] = struct{}{}
	return p
}

func apiPathShaped(p string) bool {
	if len(p) < 2 || len(p) > maxPathLabelLen || p[0] != '/' || p[len(p)-1] == '/' {
		return false
	}
	segments := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			if p[i+1] == '/' { // never out of range: p does not end in '/'
				return false
			}
			segments++
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return segments <= maxPathLabelSegments
}
