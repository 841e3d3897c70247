package fakeqq

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
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
		writeFakeError(w, http.StatusMethodNotAllowed, "use "+method)
		return
	}
	q := r.URL.Query()
	switch name {
	case "code":
		if req, ok := s.readUserRequest(w, r); ok {
			writeJSON(w, http.StatusOK, typeJSON, map[string]string{"code": s.MintCode(req.AppID, req.User)})
		}
	case "encrypt":
		s.fakeEncrypt(w, r)
	case "force":
		ep, m := q.Get("endpoint"), Mode(q.Get("mode"))
		switch {
		case ep != EndpointLogin && ep != EndpointGetToken:
			writeFakeError(w, http.StatusBadRequest, "endpoint must be jscode2session or getToken")
		case !slices.Contains(modes, m):
			writeFakeError(w, http.StatusBadRequest, "mode must be busy, limit, hang, http500, html, empty or trunc")
		default:
			s.Force(ep, m)
			w.WriteHeader(http.StatusNoContent)
		}
	case "advance":
		d, err := time.ParseDuration(q.Get("by"))
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

// userRequest is the body of the controls that act for a user.
type userRequest struct {
	AppID          string          `json:"app_id"`
	User           string          `json:"user"`
	Phone          string          `json:"phone"`
	CountryCode    string          `json:"country_code"`
	WatermarkAppID string          `json:"watermark_appid"`
	Payload        json.RawMessage `json:"payload"`
}

// readUserRequest reads a userRequest with a known app (404 otherwise)
// and a user name (400 otherwise).
func (s *Server) readUserRequest(w http.ResponseWriter, r *http.Request) (userRequest, bool) {
	var req userRequest
	if !readJSON(r, &req) {
		writeFakeError(w, http.StatusBadRequest, "body is not the JSON object expected")
		return req, false
	}
	appid, ok := s.appOf(req.AppID)
	if !ok {
		writeFakeError(w, http.StatusNotFound, "unknown app_id")
		return req, false
	}
	if !validUser(req.User) {
		writeFakeError(w, http.StatusBadRequest, "user must be letters, digits or _")
		return req, false
	}
	req.AppID = appid
	return req, true
}

func (s *Server) fakeEncrypt(w http.ResponseWriter, r *http.Request) {
	req, ok := s.readUserRequest(w, r)
	if !ok {
		return
	}
	if req.Phone == "" && len(req.Payload) == 0 {
		writeFakeError(w, http.StatusBadRequest, "phone or payload missing")
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
