// Package kuaishou is the Kuaishou mini program platform: login by
// ks.login's code at open.kuaishou.com's code2session (POST form, result
// == 1 on success), and the phone number by the legacy
// {"encryptedData","iv"} sealed with the session_key (AES-128-CBC), whose
// plaintext is {"countryCode","phoneNumber"} only: no watermark, so the
// app cannot be checked, and no timestamp, so Config.PhoneMaxAge does not
// apply. Neither flow needs an access token.
package kuaishou

import (
	"cmp"
	"regexp"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Name is the platform's name in the Caddyfile and X-WX-Platform.
const Name = "kuaishou"

// Host is the real host; PathCode2Session the login API's path.
const (
	Host             = "https://open.kuaishou.com"
	PathCode2Session = "/oauth2/mp/code2session"
)

// EndpointCode2Session names the login API, for errors and Config.Observe.
const EndpointCode2Session = "code2session"

// The result values of Kuaishou's documented errors (on the token API; the
// login API's own page was not found, see Login).
const (
	ResultOK          = 1
	ResultBadParams   = 100200100
	ResultBadAppOrKey = 100200101
)

// AppID is the shape of a Kuaishou app id: "ks" and digits.
var AppID = regexp.MustCompile(`^ks[0-9]{6,24}$`)

const actionCredentials = "Kuaishou refused app_id or app_secret: check both against the app in the Kuaishou mini program console (mp.kuaishou.com), and update the config if the secret was reset"

func init() {
	platform.Register(&platform.Platform{
		Name:        Name,
		AppID:       AppID,
		AppIDHint:   `"ks" and 6 to 24 digits, such as ks707065143182458884`,
		NeedsSecret: true,
		New:         New,
	})
}

type client struct {
	appID, secret, base string
	caller              platform.Caller
}

// New makes the client of one app. Kuaishou has no options.
func New(cfg platform.Config) (platform.Client, error) {
	return &client{appID: cfg.AppID, secret: cfg.Secret, base: cmp.Or(cfg.APIBase, Host), caller: cfg.Caller(Name)}, nil
}

func (c *client) Close() { c.caller.CloseIdle() }
