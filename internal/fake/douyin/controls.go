package fakedouyin

import (
	"errors"
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
	type body struct {
		AppID          string `json:"app_id"`
		User           string `json:"user"`
		Phone          string `json:"phone"`
		CountryCode    string `json:"country_code"`
		WatermarkAppID string `json:"watermark_appid"`
	}
	read := func(w http.ResponseWriter, r *http.Request) (body, bool) {
		var b body
		if !fakekit.ReadJSON(w, r, &b) {
			return b, false
		}
		var ok bool
		if b.AppID, ok = s.appOf(b.AppID); !ok {
			fakekit.FakeError(w, http.StatusNotFound, "unknown app_id")
		}
		return b, ok
	}
	mux.HandleFunc("POST "+p+"/code", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := read(w, r); ok {
			if _, valid := fakekit.User(b.User); !valid {
				fakekit.FakeError(w, http.StatusBadRequest, "user must be letters, digits or _")
				return
			}
			fakekit.WriteJSON(w, http.StatusOK, map[string]string{"code": s.MintCode(b.AppID, b.User)})
		}
	})
	mux.HandleFunc("POST "+p+"/phone_code", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := read(w, r); ok {
			fakekit.WriteJSON(w, http.StatusOK, map[string]string{"code": s.MintPhoneCode(b.AppID, b.Phone)})
		}
	})
	mux.HandleFunc("POST "+p+"/encrypt", func(w http.ResponseWriter, r *http.Request) {
		b, ok := read(w, r)
		if !ok {
			return
		}
		data, iv, err := s.SealPhone(b.AppID, b.User, b.Phone, b.CountryCode, b.WatermarkAppID)
		switch {
		case errors.Is(err, fakekit.ErrNoSessionKey):
			fakekit.FakeError(w, http.StatusNotFound, err.Error())
		case err != nil:
			fakekit.FakeError(w, http.StatusInternalServerError, err.Error())
		default:
			fakekit.WriteJSON(w, http.StatusOK, map[string]string{"encryptedData": data, "iv": iv})
		}
	})
	mux.HandleFunc("POST "+p+"/revoke_tokens", func(w http.ResponseWriter, r *http.Request) {
		app, ok := s.appOf(r.URL.Query().Get("app_id"))
		if !ok {
			fakekit.FakeError(w, http.StatusNotFound, "unknown app_id")
			return
		}
		s.RevokeClientTokens(app)
		w.WriteHeader(http.StatusNoContent)
	})
}

// appOf is id if the fake serves it, or the only app when id is "".
func (s *Server) appOf(id string) (string, bool) {
	if id == "" && len(s.apps) == 1 {
		for only := range s.apps {
			return only, true
		}
	}
	_, ok := s.apps[id]
	return id, ok
}
