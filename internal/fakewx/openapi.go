package fakewx

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Two server APIs that take an access_token, as a backend calls them (for
// the Open API gateway): a JSON one, POST /wxa/msg_sec_check, and a binary
// one, POST /wxa/getwxacodeunlimit, which answers a JPEG image on success
// and a JSON error otherwise. Both check the token as WeChat does:
// none (41001), unknown or killed (40001), expired (42001).

// Endpoint names of the token-protected APIs, for Count.
const (
	EndpointMsgSecCheck      = "msg_sec_check"
	EndpointWxaCodeUnlimited = "getwxacodeunlimit"
)

func init() {
	endpoints = append(endpoints, EndpointMsgSecCheck, EndpointWxaCodeUnlimited)
}

// Seen is the last request an endpoint got, as it arrived.
type Seen struct {
	Method      string
	RawQuery    string
	ContentType string
	Body        []byte // at most maxBody bytes
}

// book holds the last request of every token-protected endpoint, per
// Server. It lives beside Server rather than in it, and keeps every Server
// that got such a call: a few per test process, which is fine for a fake.
var book = struct {
	mu   sync.Mutex
	last map[*Server]map[string]Seen
}{last: map[*Server]map[string]Seen{}}

// LastSeen returns the last request endpoint got (zero if none): its
// method, raw query (access_token and all), Content-Type and body.
func (s *Server) LastSeen(endpoint string) Seen {
	book.mu.Lock()
	defer book.mu.Unlock()
	return book.last[s][endpoint]
}

// see records r (whose body it reads, up to maxBody) as endpoint's last
// request and returns the body.
func (s *Server) see(endpoint string, r *http.Request) []byte {
	body := bodyOf(r)
	book.mu.Lock()
	defer book.mu.Unlock()
	m := book.last[s]
	if m == nil {
		m = map[string]Seen{}
		book.last[s] = m
	}
	m[endpoint] = Seen{Method: r.Method, RawQuery: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"), Body: body}
	return body
}

// apiCall begins a call of a token-protected Open API (a POST, JSON
// errors): it notes the request (see), counts it (call), checks the
// method and the access_token (apiToken), and decodes the JSON body into
// req (47001 when it is not JSON). It returns the error writer and the
// token's app; ok is false once it answered.
func (s *Server) apiCall(w http.ResponseWriter, r *http.Request, endpoint string, req any) (fail func(int, string), appid string, ok bool) {
	body := s.see(endpoint, r)
	if fail, ok = s.call(w, r, endpoint, http.MethodPost, always(typeJSON)); !ok {
		return fail, "", false
	}
	if appid, ok = s.apiToken(w, r); !ok {
		return fail, "", false
	}
	return fail, appid, decodeBody(body, req, fail)
}

// apiToken checks the access_token of a call to a token-protected API:
// the app it belongs to, or the error answered (false).
func (s *Server) apiToken(w http.ResponseWriter, r *http.Request) (appid string, ok bool) {
	vals, present := r.URL.Query()["access_token"]
	if !present || vals[0] == "" {
		writeJSON(w, typeJSON, newError(41001, "access_token missing"))
		return "", false
	}
	appid, errcode, errmsg := s.checkToken(vals[0])
	if errcode != 0 {
		writeJSON(w, typeJSON, newError(errcode, errmsg))
		return "", false
	}
	return appid, true
}

// riskyWords make a text risky for msg_sec_check.
var riskyWords = []string{"risky", "赌博"}

func risky(content string) bool {
	lc := strings.ToLower(content)
	for _, w := range riskyWords {
		if strings.Contains(lc, w) {
			return true
		}
	}
	return false
}

// msgSecCheck serves POST /wxa/msg_sec_check?access_token=T, the text
// content-security check, with {"content", "version", "scene", "openid"}.
// A text holding "risky" (any case) or "赌博" is risky:
//
//   - version 2 (openid and scene 1..4 required, else 40003 / 40097):
//     errcode 0 with "result": {"suggest": "pass"|"risky", "label": 100|20006},
//     "detail" and "trace_id";
//   - version 1 (or none): errcode 0 "ok", or 87014 "risky content".
//
// A body that is not JSON or has no content answers 47001.
func (s *Server) msgSecCheck(w http.ResponseWriter, r *http.Request) {
	var req msgSecCheckRequest
	fail, _, ok := s.apiCall(w, r, EndpointMsgSecCheck, &req)
	if !ok {
		return
	}
	if req.Content == "" {
		fail(47001, "data format error")
		return
	}
	bad := risky(req.Content)
	if req.Version != 2 {
		if bad {
			fail(87014, "risky content")
			return
		}
		writeJSON(w, typeJSON, wxError{Errcode: 0, Errmsg: "ok"})
		return
	}
	switch {
	case req.OpenID == "":
		fail(40003, "invalid openid")
		return
	case req.Scene < 1 || req.Scene > 4:
		fail(40097, "invalid args")
		return
	}
	type verdict struct {
		Suggest string `json:"suggest"`
		Label   int    `json:"label"`
	}
	type detail struct {
		Strategy string `json:"strategy"`
		Errcode  int    `json:"errcode"`
		Suggest  string `json:"suggest"`
		Label    int    `json:"label"`
		Prob     int    `json:"prob"`
	}
	v := verdict{"pass", 100}
	if bad {
		v = verdict{"risky", 20006}
	}
	writeJSON(w, typeJSON, struct {
		Errcode int      `json:"errcode"`
		Errmsg  string   `json:"errmsg"`
		Result  verdict  `json:"result"`
		Detail  []detail `json:"detail"`
		TraceID string   `json:"trace_id"`
	}{0, "ok", v, []detail{{"content_model", 0, v.Suggest, v.Label, 90}}, rid()})
}

// Bounds of getwxacodeunlimit's width, and its default.
const (
	minCodeWidth     = 280
	maxCodeWidth     = 1280
	defaultCodeWidth = 430
)

// The request bodies of msg_sec_check and getwxacodeunlimit.
type (
	msgSecCheckRequest struct {
		Content string `json:"content"`
		Version int    `json:"version"`
		Scene   int    `json:"scene"`
		OpenID  string `json:"openid"`
	}
	wxaCodeRequest struct {
		Scene string `json:"scene"`
		Page  string `json:"page"`
		Width int    `json:"width"`
	}
)

// wxaCodeUnlimited serves POST /wxa/getwxacodeunlimit?access_token=T with
// {"scene", "page", "width"}: the mini program code as image/jpeg bytes
// (WxaCode), or a JSON error: 40169 for a scene that is empty or longer
// than 32 characters, 41030 for a page starting with "/", 47001 for a body
// that is not JSON.
func (s *Server) wxaCodeUnlimited(w http.ResponseWriter, r *http.Request) {
	var req wxaCodeRequest
	fail, appid, ok := s.apiCall(w, r, EndpointWxaCodeUnlimited, &req)
	if !ok {
		return
	}
	switch {
	case req.Scene == "" || len(req.Scene) > 32:
		fail(40169, "invalid length for scene, or the data is not json string")
		return
	case strings.HasPrefix(req.Page, "/"):
		fail(41030, "invalid page")
		return
	}
	img := WxaCode(appid, req.Scene, req.Page, req.Width)
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(img)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(img)
}

// WxaCode returns the image getwxacodeunlimit answers: deterministic
// bytes framed like a JPEG (SOI ... EOI), width*width/8 bytes long (width
// clamped to 280..1280, 430 when 0), so about 23 KB by default and 200 KB
// at the widest.
func WxaCode(appid, scene, page string, width int) []byte {
	if width == 0 {
		width = defaultCodeWidth
	}
	width = max(minCodeWidth, min(maxCodeWidth, width))
	n := width * width / 8
	out := make([]byte, 0, n)
	out = append(out, 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00)
	seed := sha256.Sum256([]byte("wxacode\x00" + appid + "\x00" + scene + "\x00" + page))
	var ctr [8]byte
	for i := uint64(0); len(out) < n-2; i++ {
		binary.BigEndian.PutUint64(ctr[:], i)
		block := sha256.Sum256(append(seed[:], ctr[:]...))
		out = append(out, block[:min(len(block), n-2-len(out))]...)
	}
	return append(out, 0xFF, 0xD9)
}

// decodeJSON decodes a JSON body into v; it reports false on any error.
func decodeJSON(body []byte, v any) bool { return json.Unmarshal(body, v) == nil }
