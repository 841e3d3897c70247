package reply

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// Write sends the error as JSON. A missing or bad token's 401 carries
// WWW-Authenticate: Bearer (a refused login code's 401 does not: it is no
// token challenge); 429 and 503 say when to retry (a 429 whose
// Retry-After is set already keeps it).
func (e *Error) Write(w http.ResponseWriter) {
	h := w.Header()
	switch {
	case e == NoToken || e == InvalidToken:
		h.Set("WWW-Authenticate", "Bearer")
	case e.Status == http.StatusMethodNotAllowed:
		if h.Get("Allow") == "" { // /wx/jwks.json sets its own
			h.Set("Allow", http.MethodPost)
		}
	case e.Status == http.StatusTooManyRequests && h.Get("Retry-After") == "":
		h.Set("Retry-After", "60")
	case e.Status == http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	case e == BodyTimeout:
		h.Set("Connection", "close") // the rest of the body is not waited for
	}
	h.Set("X-Content-Type-Options", "nosniff")
	JSON(w, e.Status, struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}{e.Code, e.Message})
}

// JSON answers v as JSON, never cached (it holds tokens or phones): the
// one place where wechat_auth writes a JSON body.
func JSON(w http.ResponseWriter, status int, v any) {
	body := jsonText(v)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// jsonText is v as JSON text and a newline: no HTML escaping, so a message
// reads "Bearer <token>", not "Bearer \u003ctoken\u003e".
func jsonText(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // only plain structs of strings and numbers reach here
	return b.Bytes()
}
