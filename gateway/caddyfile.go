package gateway

import (
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// init registers the module and its directive, which unmarshals a
// wechat_api block into a Gateway.
func init() {
	caddy.RegisterModule(Gateway{})
	httpcaddyfile.RegisterHandlerDirective("wechat_api", func(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		g := new(Gateway)
		return g, g.UnmarshalCaddyfile(h.Dispenser)
	})
	httpcaddyfile.RegisterDirectiveOrder("wechat_api", httpcaddyfile.Before, "reverse_proxy")
}

// UnmarshalCaddyfile sets up the gateway from Caddyfile tokens. Syntax:
//
//	wechat_api [<matcher>] {
//	    app_id     <appid>
//	    app_secret <secret>
//	    api_base   <url>
//	    allow_from <cidr...>
//	    timeout    <duration>
//	}
//
// allow_from takes IP addresses and CIDR ranges (private_ranges stands for
// loopback and the private ranges, the default), and may be repeated.
// Values with placeholders are checked when Caddy provisions the handler.
func (g *Gateway) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.Errf("wechat_api takes no arguments on its line, got %q: put the options in a block", d.Val())
	}
	seen := map[string]bool{}
	for d.NextBlock(0) {
		name := d.Val()
		args := d.RemainingArgs()
		if name == "allow_from" {
			if len(args) == 0 {
				return d.Errf("allow_from needs at least one IP address or CIDR range (such as 127.0.0.1, 10.0.0.0/8 or private_ranges)")
			}
			for _, a := range args {
				if !strings.Contains(a, "{") {
					if _, err := parseAllowFrom([]string{a}, nil); err != nil {
						return d.Err(err.Error())
					}
				}
			}
			g.AllowFrom = append(g.AllowFrom, args...)
			continue
		}
		switch name {
		case "app_id", "app_secret", "api_base", "timeout":
		default:
			return d.Errf("unknown wechat_api option %q: the options are app_id, app_secret, api_base, allow_from and timeout", name)
		}
		if len(args) != 1 {
			return d.Errf("%s takes exactly one value, got %d", name, len(args))
		}
		if seen[name] {
			return d.Errf("%s is given twice", name)
		}
		seen[name] = true
		val := args[0]
		switch name {
		case "app_id":
			g.AppID = val
		case "app_secret":
			g.AppSecret = val
		case "api_base":
			if !strings.Contains(val, "{") {
				if err := checkAPIBase(val); err != nil {
					return d.Err(err.Error())
				}
			}
			g.APIBase = val
		case "timeout":
			dur, err := caddy.ParseDuration(val)
			if err != nil || dur <= 0 {
				return d.Errf("timeout must be a positive duration such as 10s, got %q", val)
			}
			g.Timeout = caddy.Duration(dur)
		}
	}
	for _, required := range []string{"app_id", "app_secret"} {
		if !seen[required] {
			return d.Errf("wechat_api needs %s", required)
		}
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Gateway)(nil)
