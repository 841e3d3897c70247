// Package douyin is the Douyin (ByteDance, Toutiao) mini program platform:
// login by tt.login's code at developer.toutiao.com's v2 code2Session, and
// the phone number both by a phone button's code (open.douyin.com's
// get_phonenumber_info with a client_token; the answer is RSA-sealed with
// the app's public key and opened with app_private_key) and by the legacy
// {"encryptedData","iv"} sealed with the session_key (AES-128-CBC,
// WeChat's scheme).
package douyin

import (
	"crypto/rsa"
	"regexp"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Name is the platform's name in the Caddyfile and X-WX-Platform.
const Name = "douyin"

// OptionPrivateKey is the app's RSA private key, whose public half is
// entered in the Douyin console (应用公钥): the phone answers by code are
// sealed with it. Without it a phone request by code is
// platform.ErrNoPhoneFlow; the legacy flow works.
const OptionPrivateKey = "app_private_key"

// The real hosts: login and the mini-app APIs on one, the open platform
// (client_token, the phone by code) on the other.
const (
	LoginHost = "https://developer.toutiao.com"
	OpenHost  = "https://open.douyin.com"
)

// The real paths.
const (
	PathCode2Session = "/api/apps/v2/jscode2session"
	PathClientToken  = "/oauth/client_token/"
	PathPhone        = "/api/apps/v1/get_phonenumber_info/"
)

// Endpoint names, for errors and Config.Observe.
const (
	EndpointCode2Session = "jscode2session"
	EndpointClientToken  = "client_token"
	EndpointPhone        = "get_phonenumber_info"
)

// AppID is the shape of a Douyin app id: "tt" and 16 lower-case hex digits.
var AppID = regexp.MustCompile(`^tt[0-9a-f]{16}$`)

func init() {
	platform.Register(&platform.Platform{
		Name:        Name,
		AppID:       AppID,
		AppIDHint:   `"tt" and 16 lower-case hex digits, such as tt5daf2b12c2857910`,
		NeedsSecret: true,
		Options:     []string{OptionPrivateKey},
		New:         New,
	})
}

// client is one Douyin app.
type client struct {
	appID, secret       string
	loginBase, openBase string
	key                 *rsa.PrivateKey // nil: no phone by code
	caller              platform.Caller
	tokens              *platform.TokenSource // nil without key
	phoneMaxAge         time.Duration
	now                 func() time.Time
}

// New makes the client of one app; an app_private_key that does not parse
// is refused, naming the app and the option.
func New(cfg platform.Config) (platform.Client, error) {
	c := &client{
		appID: cfg.AppID, secret: cfg.Secret,
		loginBase: LoginHost, openBase: OpenHost,
		caller:      cfg.Caller(Name),
		phoneMaxAge: cfg.PhoneMaxAge,
		now:         cfg.Clock(),
	}
	if cfg.APIBase != "" {
		c.loginBase, c.openBase = cfg.APIBase, cfg.APIBase
	}
	if text := cfg.Options[OptionPrivateKey]; text != "" {
		k, err := platform.ParseRSAPrivateKey(text)
		if err != nil {
			return nil, &optionError{app: cfg.AppID, err: err}
		}
		c.key = k
		c.tokens = &platform.TokenSource{
			Platform: Name, AppID: cfg.AppID, Endpoint: EndpointClientToken,
			Fetch:     c.fetchClientToken,
			IsInvalid: tokenDead,
			OnError:   cfg.OnTokenError,
			Now:       cfg.Now,
		}
	}
	return c, nil
}

// optionError is New's refusal of app_private_key; it never holds the key.
type optionError struct {
	app string
	err error
}

func (e *optionError) Error() string {
	return "douyin app " + e.app + ": option " + OptionPrivateKey + ": " + e.err.Error()
}

func (e *optionError) Unwrap() error { return e.err }

func (c *client) Close() { c.caller.CloseIdle() }
