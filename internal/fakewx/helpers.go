package fakewx

import (
	"errors"
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// fakeError is the error answer of the /fake/ endpoints.
type fakeError struct {
	Error string `json:"error"`
}

func writeFakeError(w http.ResponseWriter, status int, msg string) {
	fakekit.WriteJSONAs(w, status, "application/json", fakeError{msg})
}

// allowMethod answers 405 unless r uses method.
func allowMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeFakeError(w, http.StatusMethodNotAllowed, "use "+method)
	return false
}

// fakeEncrypt serves POST /fake/encrypt: {"appid", "openid" or "user",
// "pure_phone_number", "country_code" ("86" by default), "watermark_appid"
// (appid by default)} -> {"encryptedData", "iv"}, sealed by EncryptPhone.
// appid may be left out when the fake serves a single app. A user with no
// session_key gets 404.
func (s *Server) fakeEncrypt(w http.ResponseWriter, r *http.Request) {
	var req struct {
		userRequest
		Pure           string `json:"pure_phone_number"`
		CountryCode    string `json:"country_code"`
		WatermarkAppID string `json:"watermark_appid"`
	}
	appid, openid, ok := s.readUserRequest(w, r, &req, &req.userRequest)
	if !ok {
		return
	}
	req.AppID, req.OpenID = appid, openid
	switch {
	case req.Pure == "":
		writeFakeError(w, http.StatusBadRequest, "pure_phone_number missing")
		return
	}
	if req.CountryCode == "" {
		req.CountryCode = "86"
	}
	if req.WatermarkAppID == "" {
		req.WatermarkAppID = req.AppID
	}
	data, iv, err := s.EncryptPhone(req.AppID, req.OpenID, req.Pure, req.CountryCode, req.WatermarkAppID)
	switch {
	case errors.Is(err, ErrNoSessionKey):
		writeFakeError(w, http.StatusNotFound, "no session_key for this user: log in first")
		return
	case err != nil:
		writeFakeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	fakekit.WriteJSONAs(w, http.StatusOK, "application/json", map[string]string{"encryptedData": data, "iv": iv})
}

// userRequest is the part of a /fake/ request body naming a user (userOf).
type userRequest struct {
	AppID  string `json:"appid"`
	OpenID string `json:"openid"`
	User   string `json:"user"`
}

// readUserRequest reads the JSON body of a POST /fake/ request into req,
// whose u names the user, and resolves that user (userOf). It answers the
// request itself (405, or 400 with what is wrong) and reports false when
// the request cannot go on.
func (s *Server) readUserRequest(w http.ResponseWriter, r *http.Request, req any, u *userRequest) (appid, openid string, ok bool) {
	if !allowMethod(w, r, http.MethodPost) {
		return "", "", false
	}
	if !readJSON(r, req) {
		writeFakeError(w, http.StatusBadRequest, "body is not a JSON object")
		return "", "", false
	}
	appid, openid, msg := s.userOf(u.AppID, u.OpenID, u.User)
	if msg != "" {
		writeFakeError(w, http.StatusBadRequest, msg)
		return "", "", false
	}
	return appid, openid, true
}

// userOf names the user of a /fake/ request: appid (the only app when
// left out and the fake serves one) and openid (that of user when left
// out); msg says what is missing.
func (s *Server) userOf(appid, openid, user string) (string, string, string) {
	if appid == "" && len(s.apps) == 1 {
		for id := range s.apps {
			appid = id
		}
	}
	if openid == "" && user != "" {
		openid = OpenID(appid, user)
	}
	switch {
	case appid == "":
		return "", "", "appid missing"
	case openid == "":
		return "", "", "openid or user missing"
	}
	return appid, openid, ""
}

// fakeStats serves GET /fake/stats: every counter of Count, by name.
func (s *Server) fakeStats(w http.ResponseWriter, r *http.Request) {
	if allowMethod(w, r, http.MethodGet) {
		fakekit.WriteJSONAs(w, http.StatusOK, "application/json", s.countsSnapshot())
	}
}

// fakeExpireToken serves POST /fake/expire_token?appid=: ExpireToken, 204.
func (s *Server) fakeExpireToken(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	appid := r.URL.Query().Get("appid")
	if _, known := s.apps[appid]; !known {
		writeFakeError(w, http.StatusNotFound, "unknown appid")
		return
	}
	s.ExpireToken(appid)
	w.WriteHeader(http.StatusNoContent)
}

// fakeResetCounts serves POST /fake/reset_counts: ResetCounts, 204.
func (s *Server) fakeResetCounts(w http.ResponseWriter, r *http.Request) {
	if allowMethod(w, r, http.MethodPost) {
		s.ResetCounts()
		w.WriteHeader(http.StatusNoContent)
	}
}

// fakeTokenMode serves POST /fake/token_mode?appid=&mode=: SetTokenMode,
// 204. Modes: ok, quota (45009), ip (40164), busy (-1), hang, html.
func (s *Server) fakeTokenMode(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	q := r.URL.Query()
	appid := q.Get("appid")
	if _, known := s.apps[appid]; !known {
		writeFakeError(w, http.StatusNotFound, "unknown appid")
		return
	}
	mode, ok := parseTokenMode(q.Get("mode"))
	if !ok {
		writeFakeError(w, http.StatusBadRequest, "mode must be ok, quota, ip, busy, hang or html")
		return
	}
	s.SetTokenMode(appid, mode)
	w.WriteHeader(http.StatusNoContent)
}

// fakeAdvance serves POST /fake/advance?by=<duration> (such as 5m or -1h):
// Advance, 204.
func (s *Server) fakeAdvance(w http.ResponseWriter, r *http.Request) {
	if allowMethod(w, r, http.MethodPost) {
		fakekit.AdvanceBy(w, r, s.Advance)
	}
}
