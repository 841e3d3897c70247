package fakekit

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// RegisterControls registers the controls every fake has under prefix
// (such as "/fake/douyin"), JSON in and out:
//
//	POST {prefix}/advance?by=<duration>           Advance (such as 5m or -1h), 204
//	GET  {prefix}/stats                           every counter, by endpoint
//	POST {prefix}/reset_counts                    ResetCounts, 204
//	POST {prefix}/force?endpoint=<e>&mode=<m>     Force, 204
//
// endpoints lists the endpoint names force accepts.
func (b *Base) RegisterControls(mux *http.ServeMux, prefix string, endpoints []string) {
	mux.HandleFunc("POST "+prefix+"/advance", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil {
			FakeError(w, http.StatusBadRequest, "by must be a Go duration such as 5m or -1h")
			return
		}
		b.Advance(d)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+prefix+"/stats", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, b.Counts())
	})
	mux.HandleFunc("POST "+prefix+"/reset_counts", func(w http.ResponseWriter, r *http.Request) {
		b.ResetCounts()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+prefix+"/force", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ep, m := q.Get("endpoint"), Mode(q.Get("mode"))
		if !contains(endpoints, ep) {
			FakeError(w, http.StatusBadRequest, "endpoint must be one of "+strings.Join(endpoints, ", "))
			return
		}
		if !contains(Modes, m) {
			names := make([]string, len(Modes))
			for i, x := range Modes {
				names[i] = string(x)
			}
			FakeError(w, http.StatusBadRequest, "mode must be one of "+strings.Join(names, ", "))
			return
		}
		b.Force(ep, m)
		w.WriteHeader(http.StatusNoContent)
	})
}

func contains[T comparable](list []T, x T) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

// FakeError is the error answer of the /fake/ controls: {"error": msg}.
func FakeError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// ReadJSON decodes a control's JSON body (at most 64 KiB) into v, or
// answers 400 and reports false.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || json.Unmarshal(b, v) != nil {
		FakeError(w, http.StatusBadRequest, "body is not the JSON object expected")
		return false
	}
	return true
}
