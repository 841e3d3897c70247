// Package fakekit holds what the fakes of the mini program platforms
// (internal/fake/<platform>) and the WeChat fake (internal/fakewx) share:
// a movable clock, single-use codes with lifetimes (each app's own, or
// bound to the app they were minted for, as Alipay's and Baidu's),
// per-user session keys, access tokens, forced answers, the broken answers
// a code can ask for (hang, HTTP 500, an HTML gateway page, an empty or
// cut body; a fake may set its own texts, Pages), counters, the code
// grammar, and the /fake/<name>/ controls the fakes have (advance, stats,
// reset_counts, force, code, encrypt, fail).
//
// The code grammar, shared by every fake so that a walkthrough reads the
// same on every platform: "<outcome>-<arg>", where a user name may carry a
// ".nonce" ("ok-alice.1" logs alice in; "ok-alice.2" is another code of
// hers). The outcomes every fake knows: slow-<ms>-<user> (wait, then as
// ok), hang-… (no answer until the client leaves), http500-… (HTTP 500
// page), html-… (HTTP 200 HTML gateway page), empty-… (HTTP 200, no body),
// trunc-… (HTTP 200, cut JSON). Each fake adds its own (busy, bad, ...).
package fakekit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is a forced answer of an endpoint (Base.Force).
type Mode string

// The forced answers. Busy and Limit are the platform's own "busy" and
// "rate limited" error answers; the others are broken answers.
const (
	ModeBusy    Mode = "busy"
	ModeLimit   Mode = "limit"
	ModeHang    Mode = "hang"
	ModeHTTP500 Mode = "http500"
	ModeHTML    Mode = "html"
	ModeEmpty   Mode = "empty"
	ModeTrunc   Mode = "trunc"
)

// Modes lists every Mode, for the /fake/ force control's error text.
var Modes = []Mode{ModeBusy, ModeLimit, ModeHang, ModeHTTP500, ModeHTML, ModeEmpty, ModeTrunc}

// Broken reports whether m is a broken answer Misbehave writes.
func (m Mode) Broken() bool {
	switch m {
	case ModeHang, ModeHTTP500, ModeHTML, ModeEmpty, ModeTrunc:
		return true
	}
	return false
}

// maxWait caps slow- delays and hangs.
const maxWait = 10 * time.Minute

// Base is embedded by every fake. Call Init before use.
type Base struct {
	Clock
	// Pages are the fake's own texts of the broken answers; set them
	// before serving (the zero value: fakekit's).
	Pages     Pages
	closed    chan struct{}
	closeOnce sync.Once

	mu     sync.Mutex
	counts map[string]int
	forced map[string][]Mode
}

// Init prepares b.
func (b *Base) Init() {
	b.closed = make(chan struct{})
	b.counts = map[string]int{}
	b.forced = map[string][]Mode{}
}

// Clock is a fake's movable clock; the zero value reads time.Now. It is
// safe for concurrent use.
type Clock struct {
	offset atomic.Int64 // the clock's offset from time.Now (Advance)
}

// Now is the fake's clock: time.Now moved by every Advance.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the fake's clock by d, to expire codes and tokens.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Close ends every hanging or slow request (with a 503 page).
func (b *Base) Close() { b.closeOnce.Do(func() { close(b.closed) }) }

// Hit counts a call of endpoint.
func (b *Base) Hit(endpoint string) {
	b.mu.Lock()
	b.counts[endpoint]++
	b.mu.Unlock()
}

// Count is how many calls endpoint had since the last ResetCounts.
func (b *Base) Count(endpoint string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.counts[endpoint]
}

// Counts is every counter, by endpoint.
func (b *Base) Counts() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := make(map[string]int, len(b.counts))
	for k, v := range b.counts {
		m[k] = v
	}
	return m
}

// ResetCounts sets every counter to zero.
func (b *Base) ResetCounts() {
	b.mu.Lock()
	b.counts = map[string]int{}
	b.mu.Unlock()
}

// Force makes the next call of endpoint answer m (calls queue up: Force
// twice, and the next two answer so).
func (b *Base) Force(endpoint string, m Mode) {
	b.mu.Lock()
	b.forced[endpoint] = append(b.forced[endpoint], m)
	b.mu.Unlock()
}

// Forced takes the next forced answer of endpoint, if any.
func (b *Base) Forced(endpoint string) (Mode, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.forced[endpoint]
	if len(q) == 0 {
		return "", false
	}
	b.forced[endpoint] = q[1:]
	return q[0], true
}

// Delay waits d (at most 10 minutes); it reports whether the caller should
// go on answering. A client that leaves gets nothing; Close answers 503.
func (b *Base) Delay(w http.ResponseWriter, r *http.Request, d time.Duration) bool {
	t := time.NewTimer(min(d, maxWait))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-b.closed:
		WriteRaw(w, http.StatusServiceUnavailable, TypeHTML, page503)
	}
	return false
}

// Pages are the texts of a fake's broken answers; "" is fakekit's.
type Pages struct {
	Gateway string // the html answer's page (HTTP 200, text/html)
	Trunc   string // the trunc answer's cut body
	Type    string // the Content-Type of the empty and trunc answers
	// PagesOnly: the fake's broken answers are hang, http500 and html;
	// empty and trunc are not (Misbehave reports false for them).
	PagesOnly bool
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Misbehave writes the broken answer m (hang, http500, html, empty,
// trunc) and reports whether m was one.
func (b *Base) Misbehave(w http.ResponseWriter, r *http.Request, m Mode) bool {
	switch m {
	case ModeHang:
		if b.Delay(w, r, maxWait) {
			WriteRaw(w, http.StatusGatewayTimeout, TypeHTML, page504)
		}
	case ModeHTTP500:
		WriteRaw(w, http.StatusInternalServerError, TypeHTML, Page500)
	case ModeHTML:
		WriteRaw(w, http.StatusOK, TypeHTML, or(b.Pages.Gateway, PageGateway))
	case ModeEmpty, ModeTrunc:
		if b.Pages.PagesOnly {
			return false
		}
		body := ""
		if m == ModeTrunc {
			body = or(b.Pages.Trunc, `{"data": {"op`)
		}
		WriteRaw(w, http.StatusOK, or(b.Pages.Type, TypeJSON), body)
	default:
		return false
	}
	return true
}

// Content types.
const (
	TypeJSON = "application/json; charset=utf-8"
	TypeHTML = "text/html"
)

// The gateway pages of the broken answers: an HTTP 500 page, and the
// nginx 502 page an html- code answers with HTTP 200.
const (
	Page500     = "<html><body>500 Internal Server Error</body></html>"
	PageGateway = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
		"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

const (
	page503 = "<html><body>503 Service Unavailable</body></html>"
	page504 = "<html><body>504 Gateway Time-out</body></html>"
)

// WriteRaw writes a complete answer.
func WriteRaw(w http.ResponseWriter, status int, contentType, body string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) { WriteJSONAs(w, status, TypeJSON, v) }

// WriteJSONAs writes v as JSON with the given status and Content-Type
// (a platform's own, text/plain say).
func WriteJSONAs(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only plain structs and maps get here
		panic("fakekit: " + err.Error())
	}
	WriteRaw(w, status, contentType, string(b))
}

// ParseCode splits a steering code into its outcome and argument.
func ParseCode(code string) (outcome, arg string) {
	outcome, arg, _ = strings.Cut(code, "-")
	return outcome, arg
}

// User returns the user name of "<user>[.nonce]" (letters, digits, '_'),
// and whether there is one.
func User(spec string) (string, bool) {
	name, _, _ := strings.Cut(spec, ".")
	if name == "" {
		return "", false
	}
	for _, c := range name {
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return "", false
		}
	}
	return name, true
}

// ParseSlow splits the argument of a slow- code, "<ms>-<rest>".
func ParseSlow(arg string) (time.Duration, string, bool) {
	msText, rest, ok := strings.Cut(arg, "-")
	ms, err := strconv.Atoi(msText)
	if !ok || err != nil || ms < 0 {
		return 0, "", false
	}
	return time.Duration(ms) * time.Millisecond, rest, true
}

// Digest is a deterministic URL-safe text of s (43 characters), for ids.
func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// HexDigest is a deterministic hex text of s (64 characters), for ids.
func HexDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// RandomBytes returns n bytes from crypto/rand.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// NewSessionKey returns a fresh session_key: base64 of 16 random bytes.
func NewSessionKey() string { return base64.StdEncoding.EncodeToString(RandomBytes(16)) }

// Steer splits a steering code into its outcome and argument
// (ParseCode), and resolves a slow-<ms>-<rest> code: it waits ms and
// returns "ok" and rest. A slow code that does not parse comes back as
// outcome "bad". It reports false when the wait was cut short (the client
// left, or Close answered 503): answer nothing more.
func (b *Base) Steer(w http.ResponseWriter, r *http.Request, code string) (string, string, bool) {
	outcome, arg := ParseCode(code)
	if outcome != "slow" {
		return outcome, arg, true
	}
	d, rest, ok := ParseSlow(arg)
	if !ok {
		return "bad", arg, true
	}
	if !b.Delay(w, r, d) {
		return "", "", false
	}
	return "ok", rest, true
}

// AppOf returns id if apps has it, or the only app's id when id is "" and
// there is one app (the /fake/ controls let a one-app fake omit it).
func AppOf[V any](apps map[string]V, id string) (string, bool) {
	if id == "" && len(apps) == 1 {
		for only := range apps {
			return only, true
		}
	}
	_, ok := apps[id]
	return id, ok
}

// Serve serves r with what f.Register registers on a fresh mux: a fake's
// ServeHTTP, for httptest.NewServer(fake).
func Serve(f interface{ Register(*http.ServeMux) }, w http.ResponseWriter, r *http.Request) {
	mux := http.NewServeMux()
	f.Register(mux)
	mux.ServeHTTP(w, r)
}

// Index maps apps by their id.
func Index[A any](apps []A, id func(A) string) map[string]A {
	m := make(map[string]A, len(apps))
	for _, a := range apps {
		m[id(a)] = a
	}
	return m
}
