package fakewx

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// maxWait caps slow- delays and hang- codes.
const maxWait = 10 * time.Minute

type waitResult int

const (
	waited      waitResult = iota // the delay passed
	clientGone                    // the client went away: answer nothing
	serverClose                   // Close was called
)

// wait sleeps d (capped at maxWait) unless the client goes away or the
// Server is closed first.
func (s *Server) wait(r *http.Request, d time.Duration) waitResult {
	t := time.NewTimer(min(d, maxWait))
	defer t.Stop()
	select {
	case <-t.C:
		return waited
	case <-r.Context().Done():
		return clientGone
	case <-s.closed:
		return serverClose
	}
}

// delay waits d; it reports whether the caller should go on answering, and
// answers a 503 gateway page itself if Close cut the wait short.
func (s *Server) delay(w http.ResponseWriter, r *http.Request, d time.Duration) bool {
	switch s.wait(r, d) {
	case waited:
		return true
	case serverClose:
		fakekit.WriteRaw(w, http.StatusServiceUnavailable, typeHTML, page503)
	}
	return false
}

// hang holds the request until the client goes away or Close is called (a
// 503 gateway page); after maxWait it answers a 504 gateway page.
func (s *Server) hang(w http.ResponseWriter, r *http.Request) {
	if s.delay(w, r, maxWait) {
		fakekit.WriteRaw(w, http.StatusGatewayTimeout, typeHTML, page504)
	}
}

// misbehave answers the outcomes shared by every steered endpoint: hang,
// http500, html. It reports whether outcome was one of them.
func (s *Server) misbehave(w http.ResponseWriter, r *http.Request, outcome string) bool {
	switch outcome {
	case "hang":
		s.hang(w, r)
	case "http500":
		fakekit.WriteRaw(w, http.StatusInternalServerError, typeHTML, page500)
	case "html":
		fakekit.WriteRaw(w, http.StatusOK, typeHTML, pageGW)
	default:
		return false
	}
	return true
}

// parseSlow splits the argument of a slow- code, "<ms>-<rest>".
func parseSlow(arg string) (time.Duration, string, bool) {
	msText, rest, ok := strings.Cut(arg, "-")
	if !ok {
		return 0, "", false
	}
	ms, err := strconv.Atoi(msText)
	if err != nil || ms < 0 {
		return 0, "", false
	}
	return time.Duration(ms) * time.Millisecond, rest, true
}

// stripNonce drops a ".nonce" suffix.
func stripNonce(s string) string {
	s, _, _ = strings.Cut(s, ".")
	return s
}

// validUser reports whether name is a user name: [A-Za-z0-9_]+.
func validUser(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// allDigits reports whether s is a non-empty string of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
