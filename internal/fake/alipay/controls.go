package fakealipay

import (
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// registerControls adds the /fake/alipay/ test controls.
func (s *Server) registerControls(mux *http.ServeMux) {
	mux.HandleFunc("POST /fake/alipay/mint", func(w http.ResponseWriter, r *http.Request) {
		app, user := r.URL.Query().Get("app_id"), r.URL.Query().Get("user")
		if s.apps[app] == nil || user == "" {
			fakekit.FakeError(w, http.StatusBadRequest, "want app_id of a known app and user")
			return
		}
		fakekit.WriteJSON(w, http.StatusOK, map[string]string{"code": s.MintCode(app, user)})
	})
	mux.HandleFunc("POST /fake/alipay/fail", func(w http.ResponseWriter, r *http.Request) {
		fakekit.FailControl(w, r, []string{"busy", "limit", "hang", "html", "http500", "badsign"},
			func(f string) { s.FailNext(Failure(f)) })
	})
	mux.HandleFunc("POST /fake/alipay/advance", fakekit.AdvanceControl(s.Advance, s.Now, "5m"))
	mux.HandleFunc("POST /fake/alipay/phone", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		v := PhoneVariant(q.Get("variant"))
		if v == "" {
			v = PhoneOK
		}
		resp, err := s.PhoneAnswer(q.Get("app_id"), q.Get("mobile"), v)
		if err != nil {
			fakekit.FakeError(w, http.StatusBadRequest, err.Error())
			return
		}
		fakekit.WriteJSON(w, http.StatusOK, map[string]string{"response": resp})
	})
	mux.HandleFunc("GET /fake/alipay/stats", func(w http.ResponseWriter, r *http.Request) {
		fakekit.WriteJSON(w, http.StatusOK, map[string]int{MethodOAuthToken: s.Count(MethodOAuthToken)})
	})
	mux.HandleFunc("GET /fake/alipay/keys", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]string{"alipay_public_key": s.AlipayPublicKeyPEM()}
		if app := r.URL.Query().Get("app_id"); s.apps[app] != nil {
			out["aes_key"] = s.AESKey(app)
		}
		fakekit.WriteJSON(w, http.StatusOK, out)
	})
}
