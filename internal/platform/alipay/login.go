package alipay

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Endpoint names, for errors and Observe.
const (
	EndpointOAuthToken = "alipay.system.oauth.token"
)

// responseKey is the member of the answer that holds the method's result
// (the method with '.' → '_', plus "_response").
const responseKey = "alipay_system_oauth_token_response"

// tokenAnswer is the part of alipay.system.oauth.token's result used
// here; expires_in (a string in the doc, a number in real answers) and
// the user's access_token are not.
type tokenAnswer struct {
	Code    string `json:"code"`
	Msg     string `json:"msg"`
	SubCode string `json:"sub_code"`
	SubMsg  string `json:"sub_msg"`
	UserID  string `json:"user_id"`
	OpenID  string `json:"open_id"`
	UnionID string `json:"union_id"`
}

// Login trades an auth code of my.getAuthCode for the user's ids.
func (c *Client) Login(ctx context.Context, code string) (platform.Identity, error) {
	ep := EndpointOAuthToken
	if code == "" {
		return platform.Identity{}, c.call.EmptyCode(ep)
	}
	params := c.commonParams("alipay.system.oauth.token")
	params.Set("grant_type", "authorization_code")
	params.Set("code", code)
	body, err := c.signedForm(params)
	if err != nil {
		return platform.Identity{}, &platform.Error{Platform: Name, Endpoint: ep, Kind: platform.KindConfig, Action: "check app_private_key", Err: err}
	}
	raw, err := c.call.Send(ctx, platform.Request{Endpoint: ep, Method: http.MethodPost, Base: c.base, Path: gatewayPath,
		Body: body, ContentType: "application/x-www-form-urlencoded;charset=utf-8"})
	if err != nil {
		return platform.Identity{}, err
	}
	return c.identity(ep, raw)
}

// identity reads a verified oauth.token answer.
func (c *Client) identity(ep string, raw []byte) (platform.Identity, error) {
	var ans tokenAnswer
	if err := c.openAnswer(ep, raw, responseKey, &ans); err != nil {
		return platform.Identity{}, err
	}
	id := platform.Identity{OpenID: ans.OpenID, UnionID: ans.UnionID}
	if id.OpenID == "" {
		id.OpenID = ans.UserID
	}
	switch {
	case id.OpenID == "":
		return platform.Identity{}, c.call.BadAnswer(ep, 200, errors.New("answer has neither open_id nor user_id"))
	case !plat.ValidUserID(id.OpenID):
		return platform.Identity{}, c.call.BadAnswer(ep, 200, errors.New("open_id or user_id of an unexpected shape"))
	case id.UnionID != "" && !plat.ValidUserID(id.UnionID):
		return platform.Identity{}, c.call.BadAnswer(ep, 200, errors.New("union_id of an unexpected shape"))
	}
	return id, nil
}

// commonParams are the parameters of every gateway request.
func (c *Client) commonParams(method string) url.Values {
	return url.Values{
		"app_id":    {c.appID},
		"method":    {method},
		"format":    {"JSON"},
		"charset":   {"utf-8"},
		"sign_type": {"RSA2"},
		"timestamp": {c.now().In(beijing).Format("2006-01-02 15:04:05")},
		"version":   {"1.0"},
	}
}

// signedForm signs params and encodes them, sign included, as a form body.
func (c *Client) signedForm(params url.Values) ([]byte, error) {
	for k, v := range params {
		if len(v) == 0 || v[0] == "" {
			delete(params, k) // sent params and signed params must be the same
		}
	}
	sign, err := signRSA2(c.appKey, []byte(SignContent(params)))
	if err != nil {
		return nil, err
	}
	params.Set("sign", sign)
	return []byte(params.Encode()), nil
}

// openAnswer checks a gateway answer and decodes the method's result
// into v. The result (under key) must carry a sign that verifies with
// Alipay's public key over its exact bytes, before anything of it is
// read; an error_response may come unsigned (it is then only trusted to
// say "failed"), and is verified when it is signed. A result with a
// sub_code, or a code other than 10000, is the mapped *Error.
func (c *Client) openAnswer(ep string, raw []byte, key string, v *tokenAnswer) error {
	members, err := topLevel(raw)
	if err != nil {
		return c.call.BadAnswer(ep, 200, err)
	}
	sign, hasSign := jsonString(members["sign"])
	obj, ok := members[key]
	if !ok {
		obj, ok = members["error_response"]
		if !ok {
			return c.call.BadAnswer(ep, 200, errors.New("answer has neither "+key+" nor error_response"))
		}
		if _, present := members["sign"]; present && !(hasSign && verifyRSA2(c.alipayKey, obj, sign)) {
			return c.call.BadAnswer(ep, 200, errors.New("error_response signature does not verify with alipay_public_key"))
		}
		var e tokenAnswer
		if err := json.Unmarshal(obj, &e); err != nil {
			return c.call.BadAnswer(ep, 200, errors.New("error_response is not an object"))
		}
		if e.Code == "" && e.SubCode == "" {
			return c.call.BadAnswer(ep, 200, errors.New("error_response without a code"))
		}
		return mapError(ep, e)
	}
	if !hasSign {
		return c.call.BadAnswer(ep, 200, errors.New("answer is not signed"))
	}
	if !verifyRSA2(c.alipayKey, obj, sign) {
		return c.call.BadAnswer(ep, 200, errors.New("answer signature does not verify with alipay_public_key"))
	}
	if err := json.Unmarshal(obj, v); err != nil {
		return c.call.BadAnswer(ep, 200, errors.New(key+" is not an object of the expected form"))
	}
	if v.SubCode != "" || (v.Code != "" && v.Code != "10000") {
		return mapError(ep, *v)
	}
	return nil
}

// mapError maps a gateway error (platforms.md §3's table) to an *Error.
func mapError(ep string, e tokenAnswer) *platform.Error {
	msg := e.SubCode
	if e.SubMsg != "" {
		msg = strings.TrimSpace(msg + " " + e.SubMsg)
	}
	pe := &platform.Error{Platform: Name, Endpoint: ep, Code: e.Code, Msg: msg, Kind: platform.KindRefused}
	switch {
	case e.SubCode == "isv.code-invalid", e.SubCode == "isv.unmatched-app-id":
		pe.Kind = platform.KindInvalidCode
	case e.SubCode == "isv.invalid-signature":
		pe.Kind = platform.KindConfig
		pe.Action = "check that app_private_key matches the app public key (应用公钥) uploaded in the app's console (开发设置 → 接口加签方式)"
	case e.SubCode == "isv.invalid-app-id":
		pe.Kind = platform.KindConfig
		pe.Action = "check the app id: Alipay does not know it (a sandbox app must use the sandbox gateway as api_base)"
	case e.Code == "20000", e.SubCode == "isp.unknow-error", e.SubCode == "aop.unknow-error":
		pe.Kind = platform.KindBusy
	case e.Code == "40005":
		pe.Kind = platform.KindRateLimited
	case e.Code == "40006":
		pe.Kind = platform.KindConfig
		pe.Action = "the app lacks the permission for alipay.system.oauth.token: bind the login product (获取会员信息) to the app in the console"
	}
	return pe
}
