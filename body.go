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

// decodeJSON decodes one JSON object, and nothing after it, into dst. An
// object (at any depth) that names a key twice is refused: encoding/json
// would keep the last value, another reader of the same body the first.
func decodeJSON(body []byte, dst any) *reply.Error {
	if len(body) == 0 || body[0] != '{' || hasDuplicateKey(body) {
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

// hasDuplicateKey reports whether an object in the JSON text body names a
// key twice (keys compared as decoded, so "a" and "\u0061" are one), by
// walking its tokens: objects nest, each with the keys seen so far. Text
// that is not JSON reports false, for the decoder to refuse.
func hasDuplicateKey(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		keys      map[string]struct{} // nil for an array
		expectKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].keys != nil && stack[top].expectKey {
			if key, ok := tok.(string); ok {
				if _, seen := stack[top].keys[key]; seen {
					return true
				}
				stack[top].keys[key] = struct{}{}
				stack[top].expectKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]struct{}{}, expectKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
			top--
		}
		if top < 0 {
			return false // the end of the outermost value
		}
		if stack[top].keys != nil {
			stack[top].expectKey = true // a value ended: a key comes next
		}
	}
}
