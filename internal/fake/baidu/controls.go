package fakebaidu

import (
	"encoding/json"
	"net/http"
	"time"
)

// registerControls adds the /fake/baidu/ test controls.
func (s *Server) registerControls(mux *http.ServeMux) {
	mux.HandleFunc("POST /fake/baidu/mint", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if _, ok := s.apps[q.Get("app_key")]; !ok || q.Get("user") == "" {
			controlError(w, "want app_key of a known app and user")
			return
		}
		controlJSON(w, map[string]string{"code": s.MintCode(q.Get("app_key"), q.Get("user"))})
	})
	mux.HandleFunc("POST /fake/baidu/fail", func(w http.ResponseWriter, r *http.Request) {
		f, ep := Failure(r.URL.Query().Get("next")), r.URL.Query().Get("endpoint")
		if ep != EndpointLogin && ep != EndpointToken && ep != EndpointUnionID {
			controlError(w, "want endpoint=jscode2sessionkey|token|getunionid")
			return
		}
		switch f {
		case FailHang, FailNonJSON, FailHTTP500, FailServer, FailDeadToken:
			s.FailNext(ep, f)
			controlJSON(w, map[string]string{"next": string(f)})
		default:
			controlError(w, "want next=hang|html|http500|server_error|deadtoken")
		}
	})
	mux.HandleFunc("POST /fake/baidu/advance", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d < 0 {
			controlError(w, "want by=<duration>, such as 11m")
			return
		}
		s.Advance(d)
		controlJSON(w, map[string]string{"now": s.Now().UTC().Format(time.RFC3339)})
	})
	mux.HandleFunc("POST /fake/baidu/seal", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		data, iv, err := s.SealPhone(q.Get("app_key"), q.Get("user"), q.Get("mobile"), q.Get("trailer"))
		if err != nil {
			controlError(w, err.Error())
			return
		}
		controlJSON(w, map[string]string{"encryptedData": data, "iv": iv})
	})
	mux.HandleFunc("GET /fake/baidu/stats", func(w http.ResponseWriter, r *http.Request) {
		controlJSON(w, map[string]int{
			EndpointLogin: s.Count(EndpointLogin), EndpointToken: s.Count(EndpointToken), EndpointUnionID: s.Count(EndpointUnionID),
		})
	})
}

func controlJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func controlError(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
