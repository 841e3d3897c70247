package fakewx

import (
	"encoding/json"
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// Content types of the real API.
const (
	typeText = "text/plain"                       // jscode2session, whatever it answers
	typeJSON = "application/json; encoding=utf-8" // the other endpoints (sic)
	typeHTML = "text/html"
)

// Gateway pages, for the codes that make the fake misbehave.
const (
	page500 = "<html><body>500 Internal Server Error</body></html>"
	pageGW  = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
		"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	page503 = "<html><body>503 Service Unavailable</body></html>"
	page504 = "<html><body>504 Gateway Time-out</body></html>"
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
	writeJSONStatus(w, http.StatusOK, contentType, v)
}

func writeJSONStatus(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only plain structs and maps get here
		panic("fakewx: " + err.Error())
	}
	fakekit.WriteRaw(w, status, contentType, string(b))
}
