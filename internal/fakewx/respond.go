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
