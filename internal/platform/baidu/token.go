package baidu

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// fetchToken gets a client_credentials token (POST, the fields in the
// form body, as the doc recommends).
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	ep := EndpointToken
	form := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {c.appKey},
		"client_secret": {c.secret}, "scope": {"smartapp_snsapi_base"},
	}
	var ans struct {
		oauthError
		AccessToken string      `json:"access_token"`
		ExpiresIn   json.Number `json:"expires_in"`
	}
	if err := c.call.Call(ctx, c.form(ep, c.openBase, "/oauth/2.0/token", form), &ans); err != nil {
		return "", 0, err
	}
	if ans.Error != "" {
		return "", 0, oauthFailure(ep, ans.oauthError, "check app_id (the AppKey) and app_secret, and that the app may use developer service APIs")
	}
	secs, err := strconv.ParseInt(ans.ExpiresIn.String(), 10, 64)
	if ans.AccessToken == "" || err != nil || secs <= 0 {
		return "", 0, c.call.BadAnswer(ep, 200, errors.New("answer has no access_token or expires_in"))
	}
	return ans.AccessToken, time.Duration(secs) * time.Second, nil
}

// errTokenDead marks a getunionid answer that says the token is dead.
var errTokenDead = errors.New("access token invalid or expired")

// tokenIsInvalid: Baidu's open API answers 110 (invalid) and 111
// (expired) for a dead token (assumed from Baidu's open API error list).
func tokenIsInvalid(err error) bool { return errors.Is(err, errTokenDead) }

// UnionID asks getunionid for the unionid of an openid.
func (c *Client) UnionID(ctx context.Context, openid string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.unionTimeout)
	defer cancel()
	var union string
	err := c.tokens.Do(ctx, func(token string) error {
		var err error
		union, err = c.getUnionID(ctx, token, openid)
		return err
	})
	return union, err
}

func (c *Client) getUnionID(ctx context.Context, token, openid string) (string, error) {
	ep := EndpointUnionID
	var ans struct {
		Errno     *int64 `json:"errno"`
		Errmsg    string `json:"errmsg"`
		ErrorCode int64  `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
		Data      struct {
			UnionID string `json:"unionid"`
		} `json:"data"`
	}
	path := "/rest/2.0/smartapp/getunionid?access_token=" + url.QueryEscape(token)
	if err := c.call.Call(ctx, c.form(ep, c.openBase, path, url.Values{"openid": {openid}}), &ans); err != nil {
		return "", err
	}
	code, msg := ans.ErrorCode, ans.ErrorMsg
	if ans.Errno != nil && *ans.Errno != 0 {
		code, msg = *ans.Errno, ans.Errmsg
	}
	switch {
	case code == 110 || code == 111:
		return "", &platform.Error{Platform: Name, Endpoint: ep, Kind: platform.KindRefused, Code: strconv.FormatInt(code, 10), Msg: msg, Err: errTokenDead}
	case code != 0:
		return "", &platform.Error{Platform: Name, Endpoint: ep, Kind: platform.KindRefused, Code: strconv.FormatInt(code, 10), Msg: msg}
	case ans.Errno == nil:
		return "", c.call.BadAnswer(ep, 200, errors.New("answer has no errno"))
	case !plat.ValidUserID(ans.Data.UnionID):
		return "", c.call.BadAnswer(ep, 200, errors.New("unionid missing or of an unexpected shape"))
	}
	return ans.Data.UnionID, nil
}
