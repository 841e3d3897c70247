package fakewx

import (
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// Content types of the real API.
const (
	typeText = "text/plain"                       // jscode2session, whatever it answers
	typeJSON = "application/json; encoding=utf-8" // the other endpoints (sic)
	typeHTML = "text/html"
)

// Gateway pages, for the codes that make the fake misbehave (fakekit's).
const (
	page500 = fakekit.Page500
	pageGW  = fakekit.PageGateway
)

// wxError is WeChat's error answer.
type wxError struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

// newError returns the error answer errcode with msg and a fresh rid.
func newError(errcode int, msg string) wxError {
	return wxError{Errcode: errcode, Errmsg: msg + ", rid: " + rid()}
}

// writeJSON writes v as JSON, with HTTP 200 and the given Content-Type.
func writeJSON(w http.ResponseWriter, contentType string, v any) {
	fakekit.WriteJSONAs(w, http.StatusOK, contentType, v)
}

// call begins the answer of an endpoint: it counts the call and returns
// fail, which writes an error answer of the Content-Type errType gives
// (by turns, s.errorType, or always one); ok is false, 43001 or 43002
// answered, for a method other than method.
func (s *Server) call(w http.ResponseWriter, r *http.Request, endpoint, method string, errType func() string) (fail func(errcode int, msg string), ok bool) {
	s.Hit(endpoint)
	fail = func(errcode int, msg string) { writeJSON(w, errType(), newError(errcode, msg)) }
	switch {
	case r.Method == method:
		return fail, true
	case method == http.MethodGet:
		fail(43001, "require GET method")
	default:
		fail(43002, "require POST method")
	}
	return fail, false
}

// always is an errType of call: contentType every time.
func always(contentType string) func() string { return func() string { return contentType } }
