package fakeqq

import (
	"net/http"
	"net/url"

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

// get begins the answer of an endpoint, which takes GET only: it counts
// the call and returns fail, which writes QQ's error answer as
// contentType, and the query; another method is answered badMethod (ok
// false).
func (s *Server) get(w http.ResponseWriter, r *http.Request, endpoint, contentType string, badMethod qqError) (fail func(errcode int, msg string), q url.Values, ok bool) {
	s.Hit(endpoint)
	fail = func(errcode int, msg string) { writeJSON(w, contentType, qqError{errcode, msg}) }
	if r.Method != http.MethodGet {
		writeJSON(w, contentType, badMethod)
		return fail, nil, false
	}
	return fail, r.URL.Query(), true
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
