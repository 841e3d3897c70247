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
	fakekit.RegisterLoginControls(mux, &s.Base, "/fake/kuaishou", endpoints, s.apps,
		func(b fakekit.UserRequest) string { return s.MintCode(b.AppID, b.User) },
		func(b fakekit.UserRequest) (string, string, error) {
			return s.SealPhone(b.AppID, b.User, b.Phone, b.CountryCode)
		})
}
