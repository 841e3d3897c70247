package reply

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// ClientIP is Caddy's client IP of the request (the remote address, or
// the one a trusted proxy forwarded, per trusted_proxies and
// client_ip_headers); the remote address outside a Caddy server. An IPv6
// zone is dropped and an IPv4-mapped address read as IPv4. The zero Addr
// when there is none (a Unix socket). The failure limiter counts by it
// and the wechat_api gateway checks allow_from against it.
func ClientIP(r *http.Request) netip.Addr {
	s, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	if s == "" {
		s = r.RemoteAddr
		if host, _, err := net.SplitHostPort(s); err == nil {
			s = host
		}
	}
	s, _, _ = strings.Cut(s, "%") // an IPv6 zone
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}
