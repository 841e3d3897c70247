package baidu

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

const formType = "application/x-www-form-urlencoded"

// oauthError is the OAuth-style failure of jscode2sessionkey and the
// token API.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Login trades a swan.login code for the user's openid and session_key,
// then asks getunionid for the unionid. A failed getunionid leaves
// UnionID empty and does not fail the login (Observe and OnTokenError
// still hear of it).
func (c *Client) Login(ctx context.Context, code string) (platform.Identity, error) {
	ep := EndpointLogin
	if code == "" {
		return platform.Identity{}, &platform.Error{Platform: Name, Endpoint: ep, Kind: platform.KindInvalidCode, Msg: "empty code"}
	}
	form := url.Values{"code": {code}, "client_id": {c.appKey}, "sk": {c.secret}}
	req, err := c.call.NewRequest(ctx, ep, "POST", c.loginBase, "/oauth/jscode2sessionkey", []byte(form.Encode()), formType)
	if err != nil {
		return platform.Identity{}, err
	}
	raw, err := c.call.Do(ep, req)
	if err != nil {
		return platform.Identity{}, err
	}
	var ans struct {
		oauthError
		OpenID     string `json:"openid"`
		SessionKey string `json:"session_key"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return platform.Identity{}, c.call.BadAnswer(ep, 200, errors.New("answer is not of the expected form"))
	}
	if ans.Error != "" {
		return platform.Identity{}, oauthFailure(ep, ans.oauthError, "check app_id (the AppKey, not the numeric AppID) and app_secret in the smart program's console")
	}
	switch {
	case ans.OpenID == "":
		return platform.Identity{}, c.call.BadAnswer(ep, 200, errors.New("answer has no openid"))
	case !plat.ValidUserID(ans.OpenID):
		return platform.Identity{}, c.call.BadAnswer(ep, 200, errors.New("openid of an unexpected shape"))
	case !validSessionKey(ans.SessionKey):
		return platform.Identity{}, c.call.BadAnswer(ep, 200, errors.New("session_key is not base64 of 24 bytes"))
	}
	id := platform.Identity{OpenID: ans.OpenID, SessionKey: ans.SessionKey}
	id.UnionID, _ = c.UnionID(ctx, ans.OpenID)
	return id, nil
}

// validSessionKey: base64 of 24 bytes (32 characters).
func validSessionKey(k string) bool {
	b, err := base64.StdEncoding.DecodeString(k)
	return err == nil && len(b) == 24
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
