package fakewx

import (
	"net/http"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// misbehave answers the outcomes shared by every steered endpoint: hang
// (no answer until the client leaves or Close, a 503 gateway page; a 504
// one after 10 minutes), http500, html. It reports whether outcome was one
// of them.
func (s *Server) misbehave(w http.ResponseWriter, r *http.Request, outcome string) bool {
	switch m := fakekit.Mode(outcome); m {
	case fakekit.ModeHang, fakekit.ModeHTTP500, fakekit.ModeHTML:
		return s.Misbehave(w, r, m)
	}
	return false
}

// validUser reports whether name is a user name: [A-Za-z0-9_]+.
func validUser(name string) bool {
	u, ok := fakekit.User(name)
	return ok && u == name
}

// stripNonce drops a ".nonce" suffix.
func stripNonce(s string) string {
	s, _, _ = strings.Cut(s, ".")
	return s
}
