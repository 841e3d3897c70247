// Package kuaishou is the Kuaishou mini program platform: login by
// ks.login's code at open.kuaishou.com's code2session (POST form, result
// == 1 on success), and the phone number by the legacy
// {"encryptedData","iv"} sealed with the session_key (AES-128-CBC), whose
// plaintext is {"countryCode","phoneNumber"} only: no watermark, so the
// app cannot be checked, and no timestamp, so Config.PhoneMaxAge does not
// apply. Neither flow needs an access token.
package kuaishou

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

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
	hc                  *http.Client
}

// New makes the client of one app. Kuaishou has no options.
func New(cfg platform.Config) (platform.Client, error) {
	base := cfg.APIBase
	if base == "" {
		base = Host
	}
	return &client{
		appID: cfg.AppID, secret: cfg.Secret, base: base,
		caller: platform.Caller{Platform: Name, HTTPClient: cfg.HTTPClient, Observe: cfg.Observe},
		hc:     cfg.HTTPClient,
	}, nil
}

func (c *client) Close() {
	if c.hc != nil {
		c.hc.CloseIdleConnections()
	}
}

// loginAnswer is code2session's answer.
type loginAnswer struct {
	Result     *int            `json:"result"`
	ErrorMsg   string          `json:"error_msg"`
	Error      json.RawMessage `json:"error"` // some answers carry one
	OpenID     string          `json:"open_id"`
	UnionID    string          `json:"union_id"` // documented for mini games only
	SessionKey string          `json:"session_key"`
}

// Login trades ks.login's code at POST {host}/oauth2/mp/code2session
// (form app_id, app_secret, js_code).
//
// Kuaishou documents result 1 for success, and 100200100 (bad parameters)
// and 100200101 (app_id or app_secret rejected) on its token API; the
// values for a wrong, used or expired js_code are not documented. So
// 100200101 is KindConfig, 100200100 KindRefused, and every other result
// KindInvalidCode: the code is the one input a client controls, and
// wechat_auth's own parameters are fixed, so an unknown refusal of a
// well-formed call is most likely the code's. error_msg is kept in Msg.
func (c *client) Login(ctx context.Context, code string) (platform.Identity, error) {
	if code == "" {
		return platform.Identity{}, &platform.Error{Platform: Name, Endpoint: EndpointCode2Session,
			Kind: platform.KindInvalidCode, Err: errors.New("empty code")}
	}
	form := url.Values{"app_id": {c.appID}, "app_secret": {c.secret}, "js_code": {code}}
	req, err := c.caller.NewRequest(ctx, EndpointCode2Session, http.MethodPost, c.base, PathCode2Session,
		[]byte(form.Encode()), "application/x-www-form-urlencoded")
	if err != nil {
		return platform.Identity{}, err
	}
	raw, err := c.caller.Do(EndpointCode2Session, req)
	if err != nil {
		return platform.Identity{}, err
	}
	bad := func(why string) (platform.Identity, error) {
		return platform.Identity{}, c.caller.BadAnswer(EndpointCode2Session, http.StatusOK, errors.New(why))
	}
	var ans loginAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return bad("answer does not fit the documented fields")
	}
	if ans.Result == nil {
		return bad("answer without result")
	}
	if *ans.Result != ResultOK {
		return platform.Identity{}, loginError(*ans.Result, ans.message())
	}
	p, _ := platform.Lookup(Name)
	switch {
	case !p.ValidUserID(ans.OpenID):
		return bad("open_id missing or of the wrong shape")
	case ans.UnionID != "" && !p.ValidUserID(ans.UnionID):
		return bad("union_id of the wrong shape")
	case !platform.ValidSessionKey(ans.SessionKey, 16):
		return bad("session_key missing or not base64 of 16 bytes")
	}
	return platform.Identity{OpenID: ans.OpenID, UnionID: ans.UnionID, SessionKey: ans.SessionKey}, nil
}

// message is error_msg, or the error key's text when there is none.
func (a *loginAnswer) message() string {
	if a.ErrorMsg != "" {
		return a.ErrorMsg
	}
	var s string
	if json.Unmarshal(a.Error, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(a.Error))
}

// loginError maps a result other than 1 (see Login).
func loginError(result int, msg string) *platform.Error {
	e := &platform.Error{Platform: Name, Endpoint: EndpointCode2Session, Code: strconv.Itoa(result), Msg: msg}
	switch result {
	case ResultBadAppOrKey:
		e.Kind, e.Action = platform.KindConfig, actionCredentials
	case ResultBadParams:
		e.Kind = platform.KindRefused
	default:
		e.Kind = platform.KindInvalidCode
	}
	return e
}
