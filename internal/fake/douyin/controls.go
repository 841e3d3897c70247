package fakedouyin

import (
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// registerControls adds the /fake/douyin/ controls, JSON in and out
// ("app_id" may be left out when the fake serves one app):
//
//	POST /fake/douyin/code {"app_id","user"} -> {"code"}                  MintCode
//	POST /fake/douyin/phone_code {"app_id","phone"} -> {"code"}           MintPhoneCode
//	POST /fake/douyin/encrypt {"app_id","user","phone","country_code",
//	     "watermark_appid"} -> {"encryptedData","iv"}                      SealPhone (404 before a login)
//	POST /fake/douyin/revoke_tokens?app_id=                                RevokeClientTokens, 204
//
// and fakekit's advance, stats, reset_counts and force.
func (s *Server) registerControls(mux *http.ServeMux) {
	const p = "/fake/douyin"
	s.RegisterControls(mux, p, endpoints)
	fakekit.HandleCode(mux, p+"/code", s.apps, true, func(b fakekit.UserRequest) string {
		return s.MintCode(b.AppID, b.User)
	})
	fakekit.HandleCode(mux, p+"/phone_code", s.apps, false, func(b fakekit.UserRequest) string {
		return s.MintPhoneCode(b.AppID, b.Phone)
	})
	fakekit.HandleSeal(mux, p+"/encrypt", s.apps, func(b fakekit.UserRequest) (string, string, error) {
		return s.SealPhone(b.AppID, b.User, b.Phone, b.CountryCode, b.WatermarkAppID)
	})
	mux.HandleFunc("POST "+p+"/revoke_tokens", func(w http.ResponseWriter, r *http.Request) {
		app, ok := fakekit.AppOf(s.apps, r.URL.Query().Get("app_id"))
		if !ok {
			fakekit.FakeError(w, http.StatusNotFound, "unknown app_id")
			return
		}
		s.RevokeClientTokens(app)
		w.WriteHeader(http.StatusNoContent)
	})
}
