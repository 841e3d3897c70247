package fakeqq

import (
	"net/http"
	"slices"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// control serves the test controls under /fake/qq/, JSON in and out, with
// the names and bodies of the other platforms' fakes:
//
//	POST /fake/qq/code {"app_id", "user"}            -> {"code"}: MintCode
//	POST /fake/qq/encrypt {"app_id", "user", "phone", "country_code" ("86"),
//	     "watermark_appid" (app_id)}                 -> {"encryptedData", "iv"}: SealPhone
//	     ({"app_id", "user", "payload": {...}} seals that JSON instead: Seal)
//	POST /fake/qq/force?endpoint=jscode2session|getToken&mode=busy|limit|hang|http500|html|empty|trunc
//	                                                 -> 204: Force
//	POST /fake/qq/advance?by=<duration>              -> 204: Advance
//	GET  /fake/qq/stats                              -> {"jscode2session": n, "getToken": n}
//	POST /fake/qq/reset_counts                       -> 204: ResetCounts
//
// app_id may be left out when the fake serves one app; an unknown one is
// 404, and so is sealing for a user who never logged in.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/fake/qq/")
	method := http.MethodPost
	if name == "stats" {
		method = http.MethodGet
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		fakekit.FakeError(w, http.StatusMethodNotAllowed, "use "+method)
		return
	}
	q := r.URL.Query()
	switch name {
	case "code":
		if req, ok := fakekit.ReadUserRequest(w, r, s.apps, true); ok {
			fakekit.WriteJSON(w, http.StatusOK, map[string]string{"code": s.MintCode(req.AppID, req.User)})
		}
	case "encrypt":
		s.fakeEncrypt(w, r)
	case "force":
		ep, m := q.Get("endpoint"), Mode(q.Get("mode"))
		switch {
		case ep != EndpointLogin && ep != EndpointGetToken:
			fakekit.FakeError(w, http.StatusBadRequest, "endpoint must be jscode2session or getToken")
		case !slices.Contains(fakekit.Modes, m):
			fakekit.FakeError(w, http.StatusBadRequest, "mode must be busy, limit, hang, http500, html, empty or trunc")
		default:
			s.Force(ep, m)
			w.WriteHeader(http.StatusNoContent)
		}
	case "advance":
		fakekit.AdvanceBy(w, r, s.Advance)
	case "stats":
		fakekit.WriteJSON(w, http.StatusOK, map[string]int{
			EndpointLogin: s.Count(EndpointLogin), EndpointGetToken: s.Count(EndpointGetToken)})
	case "reset_counts":
		s.ResetCounts()
		w.WriteHeader(http.StatusNoContent)
	default:
		fakekit.FakeError(w, http.StatusNotFound, "no such control")
	}
}

// fakeEncrypt serves POST /fake/qq/encrypt: a fakekit.UserRequest (a
// user required), sealed by SealPhone, or its payload by Seal.
func (s *Server) fakeEncrypt(w http.ResponseWriter, r *http.Request) {
	req, ok := fakekit.ReadUserRequest(w, r, s.apps, true)
	if !ok {
		return
	}
	if req.Phone == "" && len(req.Payload) == 0 {
		fakekit.FakeError(w, http.StatusBadRequest, "phone or payload missing")
		return
	}
	if req.CountryCode == "" {
		req.CountryCode = "86"
	}
	if req.WatermarkAppID == "" {
		req.WatermarkAppID = req.AppID
	}
	openid := OpenID(req.AppID, req.User)
	var data, iv string
	var err error
	if len(req.Payload) > 0 {
		data, iv, err = s.Seal(req.AppID, openid, req.Payload)
	} else {
		data, iv, err = s.SealPhone(req.AppID, openid, req.Phone, req.CountryCode, req.WatermarkAppID)
	}
	fakekit.WriteSealed(w, data, iv, err)
}
