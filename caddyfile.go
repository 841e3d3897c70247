package wechatauth

import (
	"slices"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/wechat-auth/wechat_auth/internal/failurelimit"
	"github.com/wechat-auth/wechat_auth/internal/platform"
)

func init() {
	caddy.RegisterModule(Handler{})
	httpcaddyfile.RegisterHandlerDirective("wechat_auth", parseCaddyfile)
	httpcaddyfile.RegisterDirectiveOrder("wechat_auth", httpcaddyfile.After, "basic_auth")
}

// caddyfileOptions are the options of a wechat_auth block, in the order
// the reference lists them.
var caddyfileOptions = []string{
	"app", "app_id", "app_secret", "api_base", "require", "session_ttl", "timeout",
	"max_sessions", "idle_timeout", "phone_ttl", "redis", "redis_timeout", "phone_data_max_age", "failure_limit",
	"assertion",
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	wechat_auth [<matcher>] {
//		app <app_id> {
//			platform   wechat|qq|douyin|kuaishou|baidu|alipay|...
//			app_secret <secret>
//			api_base   <url>
//			<platform option> <value>
//		}
//		app_id        <appid>
//		app_secret    <secret>
//		api_base      <url>
//		require       openid|phone|none
//		session_ttl   <duration>
//		timeout       <duration>
//		max_sessions  <n>
//		idle_timeout  <duration>
//		phone_ttl     <duration>
//		redis         <url>
//		redis_timeout <duration>
//		phone_data_max_age <duration>
//		failure_limit <n>/<duration>|off
//		assertion     on|off
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.Errf("wechat_auth takes no arguments on its line, got %q: its options go in a block", d.Val())
	}
	for d.NextBlock(0) {
		name := d.Val()
		if name == "app" {
			a, err := parseApp(d)
			if err != nil {
				return err
			}
			for _, other := range h.Apps {
				if other.AppID == a.AppID {
					return d.Errf("app %s is given twice in one wechat_auth block", a.AppID)
				}
			}
			h.Apps = append(h.Apps, a)
			continue
		}
		var val string
		if !d.Args(&val) {
			return d.Errf("%s needs a value", name)
		}
		if d.NextArg() {
			return d.Errf("%s takes one value, got another: %q", name, d.Val())
		}
		// the positive durations: one rule, one message
		if dst, ok := map[string]*caddy.Duration{
			"session_ttl": &h.SessionTTL, "timeout": &h.Timeout, "idle_timeout": &h.IdleTimeout,
			"phone_ttl": &h.PhoneTTL, "redis_timeout": &h.RedisTimeout,
		}[name]; ok {
			if name == "idle_timeout" && (val == "0" || val == "off") {
				*dst = 0
				continue
			}
			dur, err := parseDuration(d, name, val)
			if err != nil {
				return err
			}
			*dst = dur
			continue
		}
		switch name {
		case "app_id":
			h.AppID = val
		case "app_secret":
			h.AppSecret = val
		case "api_base":
			h.APIBase = val
		case "redis":
			h.Redis = val
		case "require":
			switch val {
			case RequireOpenID, RequirePhone, RequireNone:
				h.Require = val
			default:
				return d.Errf("require %q: want openid, phone or none", val)
			}
		case "phone_data_max_age":
			dur, err := caddy.ParseDuration(val)
			if err != nil || dur < 0 {
				return d.Errf("phone_data_max_age %q: want a duration such as 10m, or 0 for any age", val)
			}
			h.PhoneDataMaxAge = caddy.Duration(dur)
		case "assertion":
			switch val {
			case "on":
				h.Assertion = true
			case "off":
				h.Assertion = false
			default:
				return d.Errf("assertion %q: want on or off (default off)", val)
			}
		case "max_sessions":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n <= 0 {
				return d.Errf("max_sessions %q: want a positive whole number, such as 1000000", val)
			}
			h.MaxSessions = n
		case "failure_limit":
			if _, err := failurelimit.Parse(val); err != nil {
				return d.Err(err.Error())
			}
			h.FailureLimit = val
		default:
			return d.Errf("unknown wechat_auth option %q: the options are %s", name, strings.Join(caddyfileOptions, ", "))
		}
	}
	return nil
}

// parseApp reads an `app <app_id> { ... }` block: platform, app_secret,
// api_base and the platform's options, each with one value.
func parseApp(d *caddyfile.Dispenser) (AppConfig, error) {
	var a AppConfig
	if !d.NextArg() {
		return a, d.Err("app needs the app's id: app <app_id> { platform ...; app_secret ... }")
	}
	a.AppID = d.Val()
	if d.NextArg() {
		return a, d.Errf("app takes one argument, the app's id, got another: %q (its settings go in a block)", d.Val())
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		var val string
		if !d.Args(&val) {
			return a, d.Errf("app %s: %s needs a value", a.AppID, name)
		}
		if d.NextArg() {
			return a, d.Errf("app %s: %s takes one value, got another", a.AppID, name)
		}
		switch name {
		case "platform":
			if _, ok := platform.Lookup(val); !ok {
				return a, d.Errf("app %s: unknown platform %q: want one of %s", a.AppID, val, strings.Join(platform.Names(), ", "))
			}
			a.Platform = val
		case "app_secret":
			a.AppSecret = val
		case "api_base":
			a.APIBase = val
		default:
			if a.Options == nil {
				a.Options = map[string]string{}
			}
			// never echoed: an option may be a key
			a.Options[name] = val
		}
	}
	p, _ := platform.Lookup(a.platformName())
	for name := range a.Options {
		if !slices.Contains(p.Options, name) {
			takes := "no options"
			if len(p.Options) > 0 {
				takes = strings.Join(p.Options, ", ")
			}
			return a, d.Errf("app %s: unknown option %q: the %s platform takes platform, app_secret, api_base and %s", a.AppID, name, p.Name, takes)
		}
	}
	return a, nil
}

// parseDuration reads a positive duration such as 30s, 15m or 720h.
func parseDuration(d *caddyfile.Dispenser, name, val string) (caddy.Duration, error) {
	dur, err := caddy.ParseDuration(val)
	if err != nil || dur <= 0 {
		return 0, d.Errf("%s %q: want a positive duration, such as 30s, 15m or 720h", name, val)
	}
	return caddy.Duration(dur), nil
}

// parseCaddyfile unmarshals tokens from h into a new Handler.
func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var m Handler
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return &m, err
}

var _ caddyfile.Unmarshaler = (*Handler)(nil)
