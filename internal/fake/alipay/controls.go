package fakealipay

import (
	"encoding/json"
	"net/http"
	"time"
)

// registerControls adds the /fake/alipay/ test controls.
func (s *Server) registerControls(mux *http.ServeMux) {
	mux.HandleFunc("POST /fake/alipay/mint", func(w http.ResponseWriter, r *http.Request) {
		app, user := r.URL.Query().Get("app_id"), r.URL.Query().Get("user")
		if s.apps[app] == nil || user == "" {
			controlError(w, "want app_id of a known app and user")
			return
		}
		controlJSON(w, map[string]string{"code": s.MintCode(app, user)})
	})
	mux.HandleFunc("POST /fake/alipay/fail", func(w http.ResponseWriter, r *http.Request) {
		f := Failure(r.URL.Query().Get("next"))
		switch f {
		case FailBusy, FailRateLimited, FailHang, FailNonJSON, FailHTTP500, FailBadSign:
			s.FailNext(f)
			controlJSON(w, map[string]string{"next": string(f)})
		default:
			controlError(w, "want next=busy|limit|hang|html|http500|badsign")
		}
	})
	mux.HandleFunc("POST /fake/alipay/advance", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d < 0 {
			controlError(w, "want by=<duration>, such as 5m")
			return
		}
		s.Advance(d)
		controlJSON(w, map[string]string{"now": s.Now().UTC().Format(time.RFC3339)})
	})
	mux.HandleFunc("POST /fake/alipay/phone", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		v := PhoneVariant(q.Get("variant"))
		if v == "" {
			v = PhoneOK
		}
		resp, err := s.PhoneAnswer(q.Get("app_id"), q.Get("mobile"), v)
		if err != nil {
			controlError(w, err.Error())
			return
		}
		controlJSON(w, map[string]string{"response": resp})
	})
	mux.HandleFunc("GET /fake/alipay/stats", func(w http.ResponseWriter, r *http.Request) {
		controlJSON(w, map[string]int{MethodOAuthToken: s.Count(MethodOAuthToken)})
	})
	mux.HandleFunc("GET /fake/alipay/keys", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]string{"alipay_public_key": s.AlipayPublicKeyPEM()}
		if app := r.URL.Query().Get("app_id"); s.apps[app] != nil {
			out["aes_key"] = s.AESKey(app)
		}
		controlJSON(w, out)
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
