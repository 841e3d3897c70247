package fakeqq

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// control serves the test controls under /fake/qq/ (JSON in and out):
//
//	POST /fake/qq/mint {"appid", "user"}               -> {"code"}: MintCode
//	POST /fake/qq/fail_next?mode=busy|limit|hang|html|http500 -> 204: FailNext
//	POST /fake/qq/seal {"appid", "user" or "openid", "pure_phone_number",
//	     "country_code" ("86"), "watermark_appid" (appid), or "payload": any
//	     JSON object to seal instead}                 -> {"encryptedData", "iv"}
//	POST /fake/qq/advance?by=<duration>                -> 204: Advance
//	GET  /fake/qq/stats                                -> {"jscode2session": n, "getToken": n}
//	POST /fake/qq/reset_counts                         -> 204: ResetCounts
//
// appid may be left out when the fake serves one app.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Path[len("/fake/qq/"):]
	method := http.MethodPost
	if name == "stats" {
		method = http.MethodGet
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeFakeError(w, http.StatusMethodNotAllowed, "use "+method)
		return
	}
	switch name {
	case "mint":
		var req struct{ AppID, User string }
		if !readJSON(r, &req) || !validUser(req.User) {
			writeFakeError(w, http.StatusBadRequest, `want {"appid", "user"}, user of letters, digits and _`)
			return
		}
		appid, ok := s.appOf(req.AppID)
		if !ok {
			writeFakeError(w, http.StatusBadRequest, "appid missing or unknown")
			return
		}
		writeJSON(w, http.StatusOK, typeJSON, map[string]string{"code": s.MintCode(appid, req.User)})
	case "fail_next":
		f, ok := parseFailure(r.URL.Query().Get("mode"))
		if !ok {
			writeFakeError(w, http.StatusBadRequest, "mode must be busy, limit, hang, html or http500")
			return
		}
		s.FailNext(f)
		w.WriteHeader(http.StatusNoContent)
	case "seal":
		s.fakeSeal(w, r)
	case "advance":
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil {
			writeFakeError(w, http.StatusBadRequest, "by must be a Go duration such as 5m or -1h")
			return
		}
		s.Advance(d)
		w.WriteHeader(http.StatusNoContent)
	case "stats":
		writeJSON(w, http.StatusOK, typeJSON, map[string]int{
			EndpointLogin: s.Count(EndpointLogin), EndpointGetToken: s.Count(EndpointGetToken)})
	case "reset_counts":
		s.ResetCounts()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeFakeError(w, http.StatusNotFound, "no such control")
	}
}

func (s *Server) fakeSeal(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AppID          string          `json:"appid"`
		OpenID         string          `json:"openid"`
		User           string          `json:"user"`
		Pure           string          `json:"pure_phone_number"`
		CountryCode    string          `json:"country_code"`
		WatermarkAppID string          `json:"watermark_appid"`
		Payload        json.RawMessage `json:"payload"`
	}
	if !readJSON(r, &req) {
		writeFakeError(w, http.StatusBadRequest, "body is not a JSON object")
		return
	}
	appid, ok := s.appOf(req.AppID)
	if req.OpenID == "" && req.User != "" {
		req.OpenID = OpenID(appid, req.User)
	}
	switch {
	case !ok:
		writeFakeError(w, http.StatusBadRequest, "appid missing or unknown")
		return
	case req.OpenID == "":
		writeFakeError(w, http.StatusBadRequest, "openid or user missing")
		return
	case req.Pure == "" && len(req.Payload) == 0:
		writeFakeError(w, http.StatusBadRequest, "pure_phone_number or payload missing")
		return
	}
	if req.CountryCode == "" {
		req.CountryCode = "86"
	}
	if req.WatermarkAppID == "" {
		req.WatermarkAppID = appid
	}
	var data, iv string
	var err error
	if len(req.Payload) > 0 {
		data, iv, err = s.Seal(appid, req.OpenID, req.Payload)
	} else {
		data, iv, err = s.SealPhone(appid, req.OpenID, req.Pure, req.CountryCode, req.WatermarkAppID)
	}
	switch {
	case errors.Is(err, ErrNoSessionKey):
		writeFakeError(w, http.StatusNotFound, "no session_key for this user: log in first")
	case err != nil:
		writeFakeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, typeJSON, map[string]string{"encryptedData": data, "iv": iv})
	}
}

// appOf is appid, or the only app when appid is "" and there is one; ok
// is false for an app the fake does not serve.
func (s *Server) appOf(appid string) (string, bool) {
	if appid == "" && len(s.apps) == 1 {
		for id := range s.apps {
			return id, true
		}
	}
	_, ok := s.apps[appid]
	return appid, ok
}

func writeFakeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, typeJSON, map[string]string{"error": msg})
}
