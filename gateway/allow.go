package gateway

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/wechat-auth/wechat_auth/internal/reply"
)

// defaultAllowFrom is where calls to the gateway may come from unless
// allow_from says otherwise: loopback and the private ranges.
var defaultAllowFrom = []string{
	"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
}

// parseAllowFrom turns allow_from into prefixes; none given means the
// default. "private_ranges" stands for the default list.
func parseAllowFrom(values []string, repl *caddy.Replacer) ([]netip.Prefix, error) {
	if len(values) == 0 {
		values = defaultAllowFrom
	}
	var out []netip.Prefix
	for _, v := range values {
		if repl != nil {
			v = repl.ReplaceKnown(v, "")
		}
		for _, item := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			if item == "private_ranges" {
				for _, d := range defaultAllowFrom {
					out = append(out, netip.MustParsePrefix(d))
				}
				continue
			}
			p, err := caddyhttp.CIDRExpressionToPrefix(item)
			if err != nil {
				return nil, fmt.Errorf("allow_from: %q is not an IP address or CIDR range (such as 127.0.0.1, 10.0.0.0/8, fc00::/7 or private_ranges)", item)
			}
			out = append(out, p.Masked())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("allow_from: %q names no address; give IP addresses or CIDR ranges, or leave allow_from out for loopback and the private ranges", strings.Join(values, " "))
	}
	return out, nil
}

// allowed reports whether the request's client address (Caddy's client
// IP: the peer, or with trusted_proxies the address the proxy names) is in
// allow_from. An address that cannot be read is not.
func (g *Gateway) allowed(r *http.Request) (netip.Addr, bool) {
	ip := reply.ClientIP(r)
	if !ip.IsValid() {
		return ip, false
	}
	for _, p := range g.allow {
		if p.Contains(ip) {
			return ip, true
		}
	}
	return ip, false
}
