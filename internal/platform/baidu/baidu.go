// Package baidu is the Baidu smart program platform ("baidu"): login by
// jscode2sessionkey (the app's id is its AppKey), the unionid by a second
// call (getunionid, with a client_credentials access token), and the
// phone number from the AES-192 sealed payload of Baidu's own layout.
package baidu

import (
	"fmt"
	"regexp"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Name is the platform's name.
const Name = "baidu"

// Default hosts: login on spapi, the token and getunionid on openapi.
const (
	DefaultLoginBase = "https://spapi.baidu.com"
	DefaultOpenBase  = "https://openapi.baidu.com"
)

// Endpoint names, for errors and Observe.
const (
	EndpointLogin   = "jscode2sessionkey"
	EndpointToken   = "oauth_token"
	EndpointUnionID = "getunionid"
)

// defaultUnionTimeout bounds the getunionid call (and the token fetch it may
// wait for): the login succeeded already and must not hang on it.
const defaultUnionTimeout = 3 * time.Second

// AppIDPattern is the shape of an AppKey: letters and digits, 32 in the
// examples (the numeric AppID does not match).
var AppIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{16,40}$`)

const appIDHint = "the app's AppKey (16 to 40 letters and digits, such as 4fecoAqgCIUtzIyA4FAPgoyrc4oUc25c; not the numeric AppID)"

var plat = &platform.Platform{
	Name:        Name,
	AppID:       AppIDPattern,
	AppIDHint:   appIDHint,
	NeedsSecret: true,
	New:         New,
}

func init() { platform.Register(plat) }

// Client is one Baidu smart program.
type Client struct {
	appKey, secret      string
	loginBase, openBase string
	call                platform.Caller
	tokens              *platform.TokenSource
	unionTimeout        time.Duration
}

// New makes the client of one app.
func New(cfg platform.Config) (platform.Client, error) {
	if !AppIDPattern.MatchString(cfg.AppID) {
		return nil, fmt.Errorf("baidu app %q: app id: want %s", cfg.AppID, appIDHint)
	}
	if cfg.Secret == "" {
		return nil, fmt.Errorf("baidu app %s: app_secret: required (the AppSecret of the smart program's console)", cfg.AppID)
	}
	c := &Client{
		appKey: cfg.AppID, secret: cfg.Secret,
		loginBase: DefaultLoginBase, openBase: DefaultOpenBase, unionTimeout: defaultUnionTimeout,
		call: cfg.Caller(Name),
	}
	if cfg.APIBase != "" {
		c.loginBase, c.openBase = cfg.APIBase, cfg.APIBase
	}
	c.tokens = &platform.TokenSource{
		Platform: Name, AppID: cfg.AppID, Endpoint: EndpointToken,
		Fetch: c.fetchToken, IsInvalid: tokenIsInvalid,
		// Baidu's token lives 30 days; whether a new one kills the old is
		// not documented: replace it a day early.
		RefreshBefore: 24 * time.Hour,
		OnError:       cfg.OnTokenError,
		Now:           cfg.Now,
	}
	return c, nil
}

// Close does nothing: the token source has no goroutine of its own
// between fetches, and the HTTP client is the caller's.
func (c *Client) Close() {}

var _ platform.Client = (*Client)(nil)
