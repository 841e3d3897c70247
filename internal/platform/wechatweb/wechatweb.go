// Package wechatweb is WeChat in the browser behind the internal/platform
// seam: two platforms that log a user in through an authorize page of
// open.weixin.qq.com and trade the code the page returns at
// /sns/oauth2/access_token.
//
//   - wechat_oa: an Official Account's web authorization, inside WeChat's
//     own browser (/connect/oauth2/authorize, scope snsapi_base, or
//     snsapi_userinfo with the option scope userinfo);
//   - wechat_web: a website application's QR login, in any other browser
//     (/connect/qrconnect, scope snsapi_login).
//
// Options: scope base|userinfo (wechat_oa only, default base) and
// open_base <url> (where the authorize pages are, default
// https://open.weixin.qq.com). A client is also a platform.Authorizer.
// Neither platform has a phone flow (ErrNoPhoneFlow), and neither needs
// the app's access_token: the exchange's own access_token is the user's,
// and is dropped.
package wechatweb

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	wxapi "github.com/wechat-auth/wechat_auth/internal/wechat"
)

// The platform words.
const (
	NameOA  = "wechat_oa"
	NameWeb = "wechat_web"
)

// Defaults and paths.
const (
	DefaultOpenBase = "https://open.weixin.qq.com"
	DefaultAPIBase  = wxapi.DefaultBaseURL
	PathAuthorize   = "/connect/oauth2/authorize"
	PathQRConnect   = "/connect/qrconnect"
	PathOAuthToken  = "/sns/oauth2/access_token"
)

// EndpointOAuthToken names the code exchange, for errors and
// Config.Observe.
const EndpointOAuthToken = "oauth2_access_token"

// The options.
const (
	OptScope    = "scope"
	OptOpenBase = "open_base"
)

// AppID is the shape of an Official Account's or website application's
// AppID: WeChat's, "wx" and letters or digits.
var AppID = regexp.MustCompile(`^wx[0-9A-Za-z]{4,32}$`)

const appIDHint = `"wx" and 4 to 32 letters or digits, such as wx4f4bc4dec97d474b`

func init() {
	platform.Register(&platform.Platform{
		Name: NameOA, AppID: AppID, AppIDHint: appIDHint, NeedsSecret: true, WebLogin: true,
		Options: []string{OptScope, OptOpenBase},
		New:     func(cfg platform.Config) (platform.Client, error) { return newClient(NameOA, cfg) },
	})
	platform.Register(&platform.Platform{
		Name: NameWeb, AppID: AppID, AppIDHint: appIDHint, NeedsSecret: true, WebLogin: true,
		Options: []string{OptOpenBase},
		New:     func(cfg platform.Config) (platform.Client, error) { return newClient(NameWeb, cfg) },
	})
}

// client is one browser app.
type client struct {
	name, appID, secret string
	apiBase, openBase   string
	path, scope         string // the authorize page and its scope
	caller              platform.Caller
}

func newClient(name string, cfg platform.Config) (*client, error) {
	p, _ := platform.Lookup(name)
	if err := p.CheckConfig(cfg); err != nil {
		return nil, err
	}
	c := &client{
		name: name, appID: cfg.AppID, secret: cfg.Secret,
		apiBase: cmp.Or(cfg.APIBase, DefaultAPIBase), openBase: cfg.Options[OptOpenBase],
		caller: cfg.Caller(name),
	}
	if c.openBase == "" {
		c.openBase = DefaultOpenBase
	} else if !validBase(c.openBase) {
		return nil, fmt.Errorf("%s app %s: open_base %q: want an http:// or https:// URL with a host and no query (default %s)", name, cfg.AppID, c.openBase, DefaultOpenBase)
	}
	c.openBase = strings.TrimRight(c.openBase, "/")
	switch name {
	case NameWeb:
		c.path, c.scope = PathQRConnect, "snsapi_login"
	default:
		c.path = PathAuthorize
		switch s := cfg.Options[OptScope]; s {
		case "", "base":
			c.scope = "snsapi_base"
		case "userinfo":
			c.scope = "snsapi_userinfo"
		default:
			return nil, fmt.Errorf("%s app %s: scope %q: want base (snsapi_base, silent) or userinfo (snsapi_userinfo, the user confirms)", name, cfg.AppID, s)
		}
	}
	return c, nil
}

func validBase(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

// AuthorizeURL is the authorize page's URL, its parameters in WeChat's
// order (appid, redirect_uri, response_type, scope, state), ending in
// #wechat_redirect.
func (c *client) AuthorizeURL(redirectURI, state string) string {
	return c.openBase + c.path +
		"?appid=" + url.QueryEscape(c.appID) +
		"&redirect_uri=" + url.QueryEscape(redirectURI) +
		"&response_type=code&scope=" + c.scope +
		"&state=" + url.QueryEscape(state) +
		"#wechat_redirect"
}

// tokenAnswer is /sns/oauth2/access_token's answer (the user's
// access_token and refresh_token are not kept).
type tokenAnswer struct {
	ErrCode        *int   `json:"errcode"`
	ErrMsg         string `json:"errmsg"`
	OpenID         string `json:"openid"`
	UnionID        string `json:"unionid"`
	IsSnapshotUser int    `json:"is_snapshotuser"`
}

// Login trades the authorize page's code at
// GET {api_base}/sns/oauth2/access_token. is_snapshotuser 1 is
// platform.ErrSnapshotUser.
func (c *client) Login(ctx context.Context, code string) (platform.Identity, error) {
	if code == "" {
		return platform.Identity{}, c.caller.EmptyCode(EndpointOAuthToken)
	}
	q := "?appid=" + url.QueryEscape(c.appID) + "&secret=" + url.QueryEscape(c.secret) +
		"&code=" + url.QueryEscape(code) + "&grant_type=authorization_code"
	var ans tokenAnswer
	err := c.caller.Call(ctx, platform.Request{Endpoint: EndpointOAuthToken, Method: http.MethodGet, Base: c.apiBase, Path: PathOAuthToken + q}, &ans)
	switch {
	case err != nil:
		return platform.Identity{}, err
	case ans.ErrCode != nil && *ans.ErrCode != 0:
		return platform.Identity{}, c.apiError(*ans.ErrCode, ans.ErrMsg)
	case ans.IsSnapshotUser == 1:
		return platform.Identity{}, platform.ErrSnapshotUser
	}
	p, _ := platform.Lookup(c.name)
	return c.caller.CheckIdentity(p, EndpointOAuthToken, platform.Identity{OpenID: ans.OpenID, UnionID: ans.UnionID}, 0)
}

// apiError maps WeChat's errcode as the mini program platform does.
func (c *client) apiError(code int, msg string) *platform.Error {
	e := &platform.Error{Platform: c.name, Endpoint: EndpointOAuthToken, Code: strconv.Itoa(code), Msg: msg, HTTPStatus: http.StatusOK}
	switch {
	case code == wxapi.CodeInvalidCode:
		e.Kind = platform.KindInvalidCode
	case code == wxapi.CodeCodeUsed:
		e.Kind = platform.KindCodeUsed
	case code == wxapi.CodeBusy:
		e.Kind = platform.KindBusy
	case code == wxapi.CodeRateLimited:
		e.Kind = platform.KindRateLimited
	case wxapi.OperatorAction(code) != "":
		e.Kind = platform.KindConfig
		e.Action = strings.Replace(wxapi.OperatorAction(code), "mini program console", "Official Account or open platform console", 1)
	default:
		e.Kind = platform.KindRefused
	}
	return e
}

// Phone: the browser platforms have no phone flow.
func (c *client) Phone(context.Context, platform.PhoneRequest) (platform.Phone, error) {
	return platform.Phone{}, platform.ErrNoPhoneFlow
}

func (c *client) Close() { c.caller.CloseIdle() }

var _ platform.Authorizer = (*client)(nil)
