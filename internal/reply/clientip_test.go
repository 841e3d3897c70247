package reply

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// Outside a Caddy server (no client_ip variable) the remote address is the
// client address.
func TestClientIPFallsBackToRemoteAddr(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/wx/login", nil)
	r.RemoteAddr = "203.0.113.9:4711"
	if got := ClientIP(r); got != netip.MustParseAddr("203.0.113.9") {
		t.Errorf("client IP %v", got)
	}
	r.RemoteAddr = "@"
	if got := ClientIP(r); got.IsValid() {
		t.Errorf("client IP of a Unix socket: %v", got)
	}
}
