// Package wechat is the WeChat mini program platform behind the
// internal/platform seam: login by jscode2session, phone by a
// getPhoneNumber code (getuserphonenumber, with the app's stable_token)
// or by the legacy sealed payload (AES-128-CBC with the user's
// session_key, asking /wxa/checksession when no key held opens it).
//
// The HTTP calls are internal/wechat's Client, which the root package and
// the Open API gateway use too; this package adds what the seam asks: the
// errcodes mapped to platform Kinds, the checks of the answers, and the
// issue-21 behaviours (a retried phone code, checksession).
package wechat

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	wxapi "github.com/wechat-auth/wechat_auth/internal/wechat"
)

// Name is the platform word.
const Name = "wechat"

// AppID is the shape of a mini program AppID: "wx" and 4 to 32 letters or
// digits (real ones have 16 hex digits; the fakes and older apps vary).
var AppID = regexp.MustCompile(`^wx[0-9A-Za-z]{4,32}$`)

// desc is the platform's description; init registers it.
var desc = platform.Platform{
	Name:        Name,
	AppID:       AppID,
	AppIDHint:   `"wx" and 4 to 32 letters or digits, such as wx4f4bc4dec97d474b`,
	NeedsSecret: true,
	UserID:      wxapi.UserID,
}

func init() {
	desc.New = New
	platform.Register(&desc)
}

// client is one mini program.
type client struct {
	appID  string
	api    *wxapi.Client
	tokens *platform.TokenSource
	maxAge time.Duration
	now    func() time.Time
}

// New makes the client of one mini program. WeChat takes no options.
func New(cfg platform.Config) (platform.Client, error) {
	if err := desc.CheckConfig(cfg); err != nil {
		return nil, err
	}
	api := &wxapi.Client{
		BaseURL: cfg.APIBase, // "" is WeChat's

		AppID:      cfg.AppID,
		Secret:     cfg.Secret,
		HTTPClient: cfg.HTTPClient,
		Observe:    cfg.Observe,
	}
	c := &client{appID: cfg.AppID, api: api, maxAge: cfg.PhoneMaxAge, now: cfg.Clock()}
	c.tokens = &platform.TokenSource{
		Platform: Name,
		AppID:    cfg.AppID,
		Endpoint: wxapi.EndpointStableToken,
		// stable_token without force_refresh: every server of the app
		// gets the same token, and none kills the others'.
		Fetch: func(ctx context.Context) (string, time.Duration, error) {
			at, err := api.StableToken(ctx, false)
			if err != nil {
				return "", 0, failure(err)
			}
			return at.Value, at.ExpiresIn, nil
		},
		IsInvalid: tokenInvalid,
		OnError:   cfg.OnTokenError,
		Now:       cfg.Now,
	}
	return c, nil
}

// Login trades a wx.login code for the user's openid, unionid and
// session_key.
func (c *client) Login(ctx context.Context, code string) (platform.Identity, error) {
	s, err := c.api.Code2Session(ctx, code)
	if err != nil {
		return platform.Identity{}, failure(err)
	}
	// Code2Session checks the ids by this platform's rule already; checked
	// again here so that the rule holds whatever the API client does.
	if !desc.ValidUserID(s.OpenID) || (s.UnionID != "" && !desc.ValidUserID(s.UnionID)) {
		return platform.Identity{}, &platform.Error{Platform: Name, Endpoint: wxapi.EndpointCode2Session,
			Kind: platform.KindBadAnswer, Err: errors.New("openid or unionid of an unexpected shape")}
	}
	return platform.Identity{OpenID: s.OpenID, UnionID: s.UnionID, SessionKey: s.SessionKey}, nil
}

// TokenSource is the app's access_token source (stable_token), for the
// Open API gateway, which calls WeChat with the same token.
func (c *client) TokenSource() *platform.TokenSource { return c.tokens }

// Close releases nothing: the HTTP client is the caller's, and the token
// source runs no goroutine of its own between fetches.
func (c *client) Close() {}
