package fakewx

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// shownParams are the query parameters logged as they are; the others
// (secret, access_token, ...) are logged as [redacted].
var shownParams = map[string]bool{"appid": true, "js_code": true, "grant_type": true,
	"redirect_uri": true, "response_type": true, "scope": true, "user": true, "auto": true, "domain": true}

// LogRequests logs one line per request: method, path, the query with
// secrets redacted, status, the errcode if the answer has one, duration.
func LogRequests(next http.Handler, logf func(format string, args ...any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := fmt.Sprint(rec.status)
		switch {
		case rec.status != 0:
		case r.Context().Err() != nil:
			status = "no answer, client gone"
		default:
			status = "200"
		}
		outcome := ""
		var ans struct {
			Errcode *int `json:"errcode"`
		}
		if !rec.truncated && json.Unmarshal(rec.head, &ans) == nil && ans.Errcode != nil {
			outcome = fmt.Sprintf(" errcode=%d", *ans.Errcode)
		}
		logf("%s %s%s -> %s%s (%v)", r.Method, r.URL.Path, safeQuery(r.URL.Query()),
			status, outcome, time.Since(start).Round(time.Microsecond))
	})
}

func safeQuery(q url.Values) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(q)) {
		v := "[redacted]"
		if shownParams[k] {
			v = strings.Join(q[k], ",")
		}
		fmt.Fprintf(&b, " %s=%q", k, v)
	}
	return b.String()
}

// recorder keeps the status and the head of the body (to find an errcode).
type recorder struct {
	http.ResponseWriter
	status    int
	head      []byte
	truncated bool
	written   int
}

const headMax = 1024

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if room := headMax - len(r.head); room > 0 {
		r.head = append(r.head, b[:min(room, len(b))]...)
	}
	r.written += len(b)
	r.truncated = r.written > headMax
	return r.ResponseWriter.Write(b)
}
