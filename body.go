package wechatauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// readJSON reads a POST's JSON object body, at most maxBodySize bytes,
// into dst; on failure it returns the error to answer.
func readJSON(w http.ResponseWriter, r *http.Request, dst any) *apiError {
	if r.Method != http.MethodPost {
		return &errMethodNotAllowed
	}
	body, e := readBody(w, r)
	if e != nil {
		return e
	}
	return decodeJSON(body, dst)
}

// readOptionalJSON is readJSON for a body that may be left out: an empty
// body leaves dst as it is.
func readOptionalJSON(w http.ResponseWriter, r *http.Request, dst any) *apiError {
	body, e := readBody(w, r)
	if e != nil || len(body) == 0 {
		return e
	}
	return decodeJSON(body, dst)
}

// readBody reads a request body of at most maxBodySize bytes, trimmed.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodySize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &errBodyTooLarge
		}
		return nil, &errInvalidJSON
	}
	return bytes.TrimSpace(body), nil
}

// decodeJSON decodes one JSON object, and nothing after it, into dst.
func decodeJSON(body []byte, dst any) *apiError {
	if len(body) == 0 || body[0] != '{' {
		return &errInvalidJSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return &errInvalidJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return &errInvalidJSON // trailing data after the object
	}
	return nil
}

// writeJSON answers v as JSON, never cached (it holds tokens or phones).
func writeJSON(w http.ResponseWriter, status int, v any) {
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
