package fakeqq

import (
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// Content types of the answers.
const (
	typeText = "text/plain"
	typeJSON = "application/json"
	typeHTML = fakekit.TypeHTML // the gateway pages (fakekit.Base.Misbehave)
)

// pageGW is QQ's gateway page (html- codes, ModeHTML).
const pageGW = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"

// qqError is QQ's error answer.
type qqError struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

// writeJSON writes a QQ answer: HTTP 200 always.
func writeJSON(w http.ResponseWriter, contentType string, v any) {
	fakekit.WriteJSONAs(w, http.StatusOK, contentType, v)
}

// forcedAnswer answers the next forced answer of endpoint, if any (fail
// writes an errcode answer), and reports whether it did.
func (s *Server) forcedAnswer(w http.ResponseWriter, r *http.Request, endpoint string, fail func(errcode int, msg string)) bool {
	m, ok := s.Forced(endpoint)
	switch {
	case !ok:
		return false
	case m == ModeBusy:
		fail(-1, "system error")
	case m == ModeLimit:
		fail(45011, "api minute-quota reach limit")
	default:
		s.Misbehave(w, r, m)
	}
	return true
}
