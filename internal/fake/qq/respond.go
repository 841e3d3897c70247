package fakeqq

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// Content types of the answers.
const (
	typeText = "text/plain"
	typeJSON = "application/json"
	typeHTML = "text/html"
)

// Gateway pages.
const (
	page500 = "<html><body>500 Internal Server Error</body></html>"
	pageGW  = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"
	page503 = "<html><body>503 Service Unavailable</body></html>"
	page504 = "<html><body>504 Gateway Time-out</body></html>"
)

// qqError is QQ's error answer.
type qqError struct {
	Errcode int    `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only plain structs and maps get here
		panic("fakeqq: " + err.Error())
	}
	fakekit.WriteRaw(w, status, contentType, string(b))
}

// maxBody caps the JSON bodies the /fake/qq/ endpoints read.
const maxBody = 64 << 10

func readJSON(r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	return err == nil && json.Unmarshal(b, v) == nil
}

// maxWait caps slow- delays and hangs.
const maxWait = 10 * time.Minute

// delay waits d unless the client leaves (false, nothing to answer) or
// Close is called (false, a 503 page answered).
func (s *Server) delay(w http.ResponseWriter, r *http.Request, d time.Duration) bool {
	t := time.NewTimer(min(d, maxWait))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.closed:
		fakekit.WriteRaw(w, http.StatusServiceUnavailable, typeHTML, page503)
	}
	return false
}

// misbehave answers the broken answers shared by both endpoints; it
// reports whether m was one of them.
func (s *Server) misbehave(w http.ResponseWriter, r *http.Request, m Mode) bool {
	switch m {
	case ModeHang:
		if s.delay(w, r, maxWait) {
			fakekit.WriteRaw(w, http.StatusGatewayTimeout, typeHTML, page504)
		}
	case ModeHTTP500:
		fakekit.WriteRaw(w, http.StatusInternalServerError, typeHTML, page500)
	case ModeHTML:
		fakekit.WriteRaw(w, http.StatusOK, typeHTML, pageGW)
	case ModeEmpty:
		fakekit.WriteRaw(w, http.StatusOK, typeText, "")
	case ModeTrunc:
		fakekit.WriteRaw(w, http.StatusOK, typeText, `{"openid": "`)
	default:
		return false
	}
	return true
}

// forcedAnswer answers the next forced answer of endpoint, if any (fail
// writes an errcode answer), and reports whether it did.
func (s *Server) forcedAnswer(w http.ResponseWriter, r *http.Request, endpoint string, fail func(errcode int, msg string)) bool {
	switch m := s.takeForced(endpoint); m {
	case "":
		return false
	case ModeBusy:
		fail(-1, "system error")
	case ModeLimit:
		fail(45011, "api minute-quota reach limit")
	default:
		s.misbehave(w, r, m)
	}
	return true
}
