package baidu

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

const formType = "application/x-www-form-urlencoded"

// sessionKeySize: a Baidu session_key is base64 of 24 bytes (32
// characters).
const sessionKeySize = 24

// Login trades a swan.login code for the user's openid and session_key,
// then asks getunionid for the unionid. A failed getunionid leaves
// UnionID empty and does not fail the login (Observe and OnTokenError
// still hear of it).
func (c *Client) Login(ctx context.Context, code string) (platform.Identity, error) {
	ep := EndpointLogin
	if code == "" {
		return platform.Identity{}, c.call.EmptyCode(ep)
	}
	form := url.Values{"code": {code}, "client_id": {c.appKey}, "sk": {c.secret}}
	var ans struct {
		oauthError
		OpenID     string `json:"openid"`
		SessionKey string `json:"session_key"`
	}
	if err := c.call.Call(ctx, c.form(ep, c.loginBase, "/oauth/jscode2sessionkey", form), &ans); err != nil {
		return platform.Identity{}, err
	}
	if ans.Error != "" {
		return platform.Identity{}, oauthFailure(ep, ans.oauthError, "check app_id (the AppKey, not the numeric AppID) and app_secret in the smart program's console")
	}
	switch {
	case ans.OpenID == "":
		return platform.Identity{}, c.call.BadAnswer(ep, 200, errors.New("answer has no openid"))
	case !plat.ValidUserID(ans.OpenID):
		return platform.Identity{}, c.call.BadAnswer(ep, 200, errors.New("openid of an unexpected shape"))
	case !platform.ValidSessionKey(ans.SessionKey, sessionKeySize):
		return platform.Identity{}, c.call.BadAnswer(ep, 200, errors.New("session_key is not base64 of 24 bytes"))
	}
	id := platform.Identity{OpenID: ans.OpenID, SessionKey: ans.SessionKey}
	id.UnionID, _ = c.UnionID(ctx, ans.OpenID)
	return id, nil
}

// form is the POST of a form to base+path, as every Baidu API takes it.
func (c *Client) form(endpoint, base, path string, form url.Values) platform.Request {
	return platform.Request{Endpoint: endpoint, Method: http.MethodPost, Base: base, Path: path,
		Body: []byte(form.Encode()), ContentType: formType}
}

// oauthError is the OAuth-style failure of jscode2sessionkey and the
// token API.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// oauthFailure maps an OAuth-style error: invalid_grant is the code,
// invalid_client the app's credentials (Action), anything else a refusal.
func oauthFailure(ep string, e oauthError, action string) *platform.Error {
	pe := &platform.Error{Platform: Name, Endpoint: ep, Code: e.Error, Msg: e.Description, Kind: platform.KindRefused}
	switch e.Error {
	case "invalid_grant":
		pe.Kind = platform.KindInvalidCode
	case "invalid_client":
		pe.Kind, pe.Action = platform.KindConfig, action
	}
	return pe
}
