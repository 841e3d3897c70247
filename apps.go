package wechatauth

// The apps of a block: their config (AppConfig, or the v1 fields of the
// block for one WeChat app), their shared state (store, platform client,
// failure limiter, each the app's, in internal/appstate), and which app a
// login or a token belongs to.

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/wechat-auth/wechat_auth/internal/appstate"
	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// AppConfig is one app of a block (the Caddyfile's `app <app_id> {...}`).
type AppConfig struct {
	// The app's id on its platform, in the platform's shape (WeChat: "wx"
	// and letters or digits; QQ: digits; Douyin: "tt" and hex; Baidu: its
	// AppKey; Alipay: 16 digits). Required. Placeholders are replaced.
	AppID string `json:"app_id,omitempty"`

	// The platform: wechat (the default), qq, douyin, kuaishou, baidu,
	// alipay, or another compiled in (the error of an unknown one lists
	// them).
	Platform string `json:"platform,omitempty"`

	// The app's secret: required on every platform but alipay. Use a
	// placeholder such as {env.QQ_SECRET} or {file./run/secrets/qq} to
	// keep it out of the config. Never logged.
	AppSecret string `json:"app_secret,omitempty"`

	// Where every server API call of the app goes, each on its real path.
	// Default: the platform's real hosts.
	APIBase string `json:"api_base,omitempty"`

	// The platform options, by name: app_private_key (douyin, alipay),
	// alipay_public_key and aes_key (alipay), and those of other
	// platforms. Keys take placeholders ({file./path}, {env.X}); one that
	// does not parse is refused at load, naming the app and the option,
	// never the value. Never logged.
	Options map[string]string `json:"options,omitempty"`
}

// platformName is the app's platform word, the default if it names none.
func (c AppConfig) platformName() string { return cmp.Or(c.Platform, defaultPlatform) }

// app is one app of a provisioned block.
type app struct {
	id       string
	platform *platform.Platform
	// tag ends the tokens of the app's sessions (see tokenTag).
	tag      string
	store    session.Store
	client   *appstate.Client
	failures *failureGuard

	secret    string // storeSecret: what a Redis store's keys derive from
	cfg       appstate.ClientConfig
	storeKey  string
	clientKey string
}

// defaultPlatform is the platform of an app that names none, and of the
// v1 form.
const defaultPlatform = "wechat"

// tagLen is the length of a token's app tag.
const tagLen = 4

// tokenTag is the app tag that ends the tokens of appID's sessions: 24
// bits of SHA-256 of the app id, base64url. A block of several apps finds
// a token's app by it, with one store lookup; it says nothing secret (app
// ids are public).
func tokenTag(appID string) string {
	sum := sha256.Sum256([]byte("wechat_auth app tag\x00" + appID))
	return base64.RawURLEncoding.EncodeToString(sum[:3])
}

// tagged returns token with its last tagLen characters replaced by the
// app's tag. The token stays well-formed and keeps TokenBytes*8 - 24 bits
// of randomness; the Redis store's routing tag, at its start, is kept.
func (a *app) tagged(token string) string {
	return token[:len(token)-tagLen] + a.tag
}

// appConfigs are the block's apps as configured: Apps, or the v1 fields
// as one WeChat app. A block that gives both is refused.
func (h *Handler) appConfigs() ([]AppConfig, error) {
	v1 := h.AppID != "" || h.AppSecret != "" || h.APIBase != ""
	switch {
	case v1 && len(h.Apps) > 0:
		var given []string
		for name, v := range map[string]string{"app_id": h.AppID, "app_secret": h.AppSecret, "api_base": h.APIBase} {
			if v != "" {
				given = append(given, name)
			}
		}
		sort.Strings(given)
		return nil, fmt.Errorf("wechat_auth: the block has both %s and app blocks (%s): give each app in an app block, or use the one-app form without app blocks", strings.Join(given, ", "), h.Apps[0].AppID)
	case len(h.Apps) > 0:
		return h.Apps, nil
	case h.AppID == "":
		return nil, errors.New("wechat_auth: app_id is required (or app <app_id> { ... } blocks)")
	}
	return []AppConfig{{AppID: h.AppID, Platform: defaultPlatform, AppSecret: h.AppSecret, APIBase: h.APIBase}}, nil
}

// resolveApps resolves and checks the block's apps, before any shared
// state is taken: placeholders replaced, the platform known, the app id
// of its shape, the secret and options those it takes, no app twice, no
// two with one tag. What it returns holds no shared state yet.
func (h *Handler) resolveApps(repl *caddy.Replacer) ([]*app, error) {
	cfgs, err := h.appConfigs()
	if err != nil {
		return nil, err
	}
	v1 := len(h.Apps) == 0
	var apps []*app
	seen := map[string]bool{}
	tags := map[string]string{}
	for _, c := range cfgs {
		a, err := resolveApp(repl, c, v1)
		if err != nil {
			return nil, err
		}
		if seen[a.id] {
			return nil, fmt.Errorf("wechat_auth: app %s is given twice in one block", a.id)
		}
		seen[a.id] = true
		if other, dup := tags[a.tag]; dup {
			return nil, fmt.Errorf("wechat_auth: apps %s and %s have the same token tag %q, so one block cannot tell their tokens apart: serve them in two blocks", other, a.id, a.tag)
		}
		tags[a.tag] = a.id
		apps = append(apps, a)
	}
	return apps, nil
}

// resolveApp resolves one app's settings and checks them against its
// platform. Errors name the app and the setting, never a secret or key.
func resolveApp(repl *caddy.Replacer, c AppConfig, v1 bool) (*app, error) {
	name := c.platformName()
	p, ok := platform.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("wechat_auth: app %s: unknown platform %q: want one of %s", c.AppID, name, strings.Join(platform.Names(), ", "))
	}
	var id, secret, base string
	if v1 {
		id, secret, base = appstate.ResolveApp(repl, c.AppID, c.AppSecret, c.APIBase)
	} else {
		id = repl.ReplaceKnown(c.AppID, "")
		secret = repl.ReplaceKnown(c.AppSecret, "")
		base = repl.ReplaceKnown(c.APIBase, "")
	}
	if id == "" {
		return nil, errors.New("wechat_auth: app_id is required")
	}
	if !p.AppID.MatchString(id) {
		if v1 {
			return nil, fmt.Errorf("wechat_auth: app_id %q is not a mini program AppID: want %s", id, p.AppIDHint)
		}
		return nil, fmt.Errorf("wechat_auth: app %q: not a %s app id: want %s", id, p.Name, p.AppIDHint)
	}
	what := "wechat_auth: "
	if !v1 {
		what = fmt.Sprintf("wechat_auth: app %s: ", id)
	}
	if p.NeedsSecret {
		if err := checkSecret(c.AppSecret, secret); err != nil {
			return nil, errors.New(what + err.Error())
		}
	} else if c.AppSecret != "" {
		return nil, fmt.Errorf("%sthe %s platform takes no app_secret (it signs with app_private_key)", what, p.Name)
	}
	if base != "" && !appstate.ValidAPIBase(base) {
		return nil, fmt.Errorf("%sapi_base %q is not an http:// or https:// URL with a host and no query (default: the platform's own hosts)", what, base)
	}
	var opts map[string]string
	if len(c.Options) > 0 {
		opts = make(map[string]string, len(c.Options))
		for k, v := range c.Options {
			opts[k] = repl.ReplaceKnown(v, "")
			if v != "" && opts[k] == "" {
				return nil, fmt.Errorf("%soption %s %s resolves to an empty value", what, k, placeholderHint(v))
			}
		}
	}
	cfg := appstate.ClientConfig{AppID: id, Secret: secret, APIBase: base, Options: opts}
	if err := p.CheckConfig(platform.Config{AppID: id, Secret: secret, APIBase: base, Options: opts}); err != nil {
		return nil, fmt.Errorf("wechat_auth: %v", err)
	}
	return &app{id: id, platform: p, tag: tokenTag(id), secret: storeSecret(secret, opts), cfg: cfg}, nil
}

// storeSecret is what a Redis store derives its keys from: the app's
// secret, or for a platform without one (Alipay) its options (its keys),
// so that it is the app's credential either way.
func storeSecret(secret string, opts map[string]string) string {
	if secret != "" || len(opts) == 0 {
		return secret
	}
	names := make([]string, 0, len(opts))
	for n := range opts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + "\x00" + opts[n] + "\x00")
	}
	return b.String()
}

// placeholderHint shows a configured value only when it is a placeholder
// (which names where the secret comes from, not the secret).
func placeholderHint(v string) string {
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") && !strings.ContainsAny(v, " \n") {
		return v
	}
	return "(as configured)"
}

// app returns the block's app of that id, nil if it serves none.
func (h *Handler) app(id string) *app {
	for _, a := range h.apps {
		if a.id == id {
			return a
		}
	}
	return nil
}

// appOfToken returns the app whose store holds token's session: a block
// of one app has only one place to look (any well-formed token is looked
// up there, so sessions from before the tags survive), a block of several
// finds it by the token's tag; nil when the tag names none of its apps.
func (h *Handler) appOfToken(token string) *app {
	if len(h.apps) == 1 {
		return h.apps[0]
	}
	tag := token[len(token)-tagLen:]
	for _, a := range h.apps {
		if a.tag == tag {
			return a
		}
	}
	return nil
}

// codeLoginApps are the block's apps that log in by a code at /wx/login.
func (h *Handler) codeLoginApps() []*app {
	var list []*app
	for _, a := range h.apps {
		if !a.platform.WebLogin {
			list = append(list, a)
		}
	}
	return list
}

// acquireApps takes the block's references to each app's shared state:
// its store, its platform client and its failure limiter (the claims
// that the app's blocks agree were made before). Cleanup gives back what
// was taken, also after a failure here.
func (h *Handler) acquireApps() error {
	settings := h.storeSettings()
	for _, a := range h.apps {
		var err error
		a.storeKey, a.store, err = appstate.AcquireStore(a.id, a.platform.Name, a.secret, settings, h.redisTimeout())
		if err != nil {
			return fmt.Errorf("wechat_auth: app %s: session store: %v", a.id, err)
		}
		a.clientKey, a.client, err = appstate.AcquireClient(a.platform, a.cfg)
		if err != nil {
			return fmt.Errorf("wechat_auth: %v", err)
		}
		a.failures = acquireFailureLimiter(a.id, h.failureLimit)
	}
	return nil
}

// releaseApps gives back every reference acquireApps took.
func (h *Handler) releaseApps() {
	for _, a := range h.apps {
		if a.storeKey != "" {
			appstate.ReleaseStore(a.storeKey)
			a.storeKey = ""
		}
		if a.clientKey != "" {
			appstate.ReleaseClient(a.clientKey)
			a.clientKey = ""
		}
		a.failures.release()
	}
}
