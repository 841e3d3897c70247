// Package echoserver is a tiny upstream for demos and tests: it answers
// every request 200 with a line of JSON {"method", "path", "query", "headers"},
// headers being every request header as received (Host included), and
// "trailers" the request's trailer fields, if it had any.
package echoserver

import (
	"encoding/json"
	"io"
	"net/http"
)

// Answer is the JSON body the upstream sends back.
type Answer struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Headers http.Header `json:"headers"`
	// Trailers are the request's trailer fields, as the body ended.
	Trailers http.Header `json:"trailers,omitempty"`
}

// Handler returns the echo handler; logf, when not nil, gets a line per
// request (method and path only).
func Handler(logf func(format string, args ...any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		headers := make(http.Header, len(r.Header)+1)
		for name, values := range r.Header {
			headers[name] = values
		}
		headers["Host"] = []string{r.Host}
		if len(r.TransferEncoding) > 0 {
			headers["Transfer-Encoding"] = r.TransferEncoding
		}
		body, err := json.Marshal(Answer{r.Method, r.URL.Path, r.URL.RawQuery, headers, r.Trailer})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(body, '\n')) // a line, as curl shows it
		if logf != nil {
			logf("%s %s -> 200", r.Method, r.URL.Path)
		}
	})
}
