package wechatauth

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/reply"
)

// readJSON reads a POST's JSON object body, at most maxBodySize bytes,
// into dst; on failure it returns the error to answer.
func readJSON(w http.ResponseWriter, r *http.Request, dst any) *reply.Error {
	if r.Method != http.MethodPost {
		return reply.MethodNotAllowed
	}
	body, e := readBody(w, r)
	if e != nil {
		return e
	}
	return decodeJSON(body, dst)
}

// readOptionalJSON is readJSON for a body that may be left out: an empty
// body leaves dst as it is.
func readOptionalJSON(w http.ResponseWriter, r *http.Request, dst any) *reply.Error {
	body, e := readBody(w, r)
	if e != nil || len(body) == 0 {
		return e
	}
	return decodeJSON(body, dst)
}

// readBody reads a request body of at most maxBodySize bytes, trimmed.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *reply.Error) {
	body, e := reply.ReadBody(w, r, maxBodySize, reply.InvalidJSON)
	return bytes.TrimSpace(body), e
}

// decodeJSON decodes one JSON object, and nothing after it, into dst.
func decodeJSON(body []byte, dst any) *reply.Error {
	if len(body) == 0 || body[0] != '{' {
		return reply.InvalidJSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return reply.InvalidJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return reply.InvalidJSON // trailing data after the object
	}
	return nil
}
