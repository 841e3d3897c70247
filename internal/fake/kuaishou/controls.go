package fakekuaishou

import (
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// registerControls adds the /fake/kuaishou/ controls, JSON in and out
// ("app_id" may be left out when the fake serves one app):
//
//	POST /fake/kuaishou/code {"app_id","user"} -> {"code"}          MintCode
//	POST /fake/kuaishou/encrypt {"app_id","user","phone","country_code"}
//	     -> {"encryptedData","iv"}                                   SealPhone (404 before a login)
//
// and fakekit's advance, stats, reset_counts and force.
func (s *Server) registerControls(mux *http.ServeMux) {
	const p = "/fake/kuaishou"
	s.RegisterControls(mux, p, endpoints)
	mux.HandleFunc("POST "+p+"/code", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := fakekit.ReadUserRequest(w, r, s.apps, true); ok {
			fakekit.WriteJSON(w, http.StatusOK, map[string]string{"code": s.MintCode(b.AppID, b.User)})
		}
	})
	mux.HandleFunc("POST "+p+"/encrypt", func(w http.ResponseWriter, r *http.Request) {
		b, ok := fakekit.ReadUserRequest(w, r, s.apps, true)
		if !ok {
			return
		}
		data, iv, err := s.SealPhone(b.AppID, b.User, b.Phone, b.CountryCode)
		fakekit.WriteSealed(w, data, iv, err)
	})
}
