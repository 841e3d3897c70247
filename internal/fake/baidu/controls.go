package fakebaidu

import (
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// registerControls adds the /fake/baidu/ test controls.
func (s *Server) registerControls(mux *http.ServeMux) {
	mux.HandleFunc("POST /fake/baidu/mint", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if _, ok := s.apps[q.Get("app_key")]; !ok || q.Get("user") == "" {
			fakekit.FakeError(w, http.StatusBadRequest, "want app_key of a known app and user")
			return
		}
		fakekit.WriteJSON(w, http.StatusOK, map[string]string{"code": s.MintCode(q.Get("app_key"), q.Get("user"))})
	})
	mux.HandleFunc("POST /fake/baidu/fail", func(w http.ResponseWriter, r *http.Request) {
		ep := r.URL.Query().Get("endpoint")
		if ep != EndpointLogin && ep != EndpointToken && ep != EndpointUnionID {
			fakekit.FakeError(w, http.StatusBadRequest, "want endpoint=jscode2sessionkey|token|getunionid")
			return
		}
		fakekit.FailControl(w, r, []string{"hang", "html", "http500", "server_error", "deadtoken"},
			func(f string) { s.FailNext(ep, Failure(f)) })
	})
	mux.HandleFunc("POST /fake/baidu/advance", fakekit.AdvanceControl(s.Advance, s.Now, "11m"))
	mux.HandleFunc("POST /fake/baidu/seal", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		data, iv, err := s.SealPhone(q.Get("app_key"), q.Get("user"), q.Get("mobile"), q.Get("trailer"))
		if err != nil {
			fakekit.FakeError(w, http.StatusBadRequest, err.Error())
			return
		}
		fakekit.WriteJSON(w, http.StatusOK, map[string]string{"encryptedData": data, "iv": iv})
	})
	mux.HandleFunc("GET /fake/baidu/stats", func(w http.ResponseWriter, r *http.Request) {
		fakekit.WriteJSON(w, http.StatusOK, map[string]int{
			EndpointLogin: s.Count(EndpointLogin), EndpointToken: s.Count(EndpointToken), EndpointUnionID: s.Count(EndpointUnionID),
		})
	})
}
