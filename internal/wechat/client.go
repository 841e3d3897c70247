// Package wechat is a small client for the WeChat mini program server API:
// jscode2session (login), stable_token (access_token), getuserphonenumber
// (phone by code) and checksession. The wechat platform
// (internal/platform/wechat) and the Open API gateway use it; the legacy
// decryption of sealed phone data is internal/platform's.
//
// It knows nothing of Caddy or of HTTP servers; errors it returns are
// *Error values that say what went wrong (WeChat's errcode, a timeout, an
// unreachable or misbehaving endpoint), so that a caller can map them to
// its own answers. No error text it produces ever contains the app secret,
// an access_token or a session_key: request URLs, which carry some of
// them, are never part of an error.
package wechat

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// DefaultBaseURL is the real WeChat API.
const DefaultBaseURL = "https://api.weixin.qq.com"

// Client calls the WeChat API for one mini program. It is safe for
// concurrent use. Deadlines come from the contexts passed to its methods.
type Client struct {
	// BaseURL is the API base, DefaultBaseURL when empty.
	BaseURL string
	// AppID and Secret identify the mini program.
	AppID  string
	Secret string
	// HTTPClient is used for every call; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Observe, when set, is told of every call: the endpoint, how long it
	// took and its error (nil on success). For metrics.
	Observe func(endpoint string, took time.Duration, err error)
}

// Session is what jscode2session answers for a login code.
type Session struct {
	OpenID     string
	UnionID    string // empty unless the app is bound to an open platform account
	SessionKey string // base64 of 16 bytes, exactly as WeChat sent it
}

// Code2Session trades a wx.login code for the user's openid and session_key.
func (c *Client) Code2Session(ctx context.Context, code string) (Session, error) {
	q := url.Values{}
	q.Set("appid", c.AppID)
	q.Set("secret", c.Secret)
	q.Set("js_code", code)
	q.Set("grant_type", "authorization_code")
	var ans struct {
		apiStatus
		OpenID     string `json:"openid"`
		SessionKey string `json:"session_key"`
		UnionID    string `json:"unionid"`
	}
	if err := c.call(ctx, EndpointCode2Session, http.MethodGet, "/sns/jscode2session?"+q.Encode(), nil, &ans); err != nil {
		return Session{}, err
	}
	if ans.OpenID == "" {
		return Session{}, &Error{Endpoint: EndpointCode2Session, Kind: KindBadAnswer, Err: errors.New("answer has no openid")}
	}
	if key, err := base64.StdEncoding.DecodeString(ans.SessionKey); err != nil || len(key) != 16 {
		return Session{}, &Error{Endpoint: EndpointCode2Session, Kind: KindBadAnswer, Err: errors.New("answer has no valid session_key")}
	}
	return Session{OpenID: ans.OpenID, UnionID: ans.UnionID, SessionKey: ans.SessionKey}, nil
}

// AccessToken is an access_token and how long WeChat said it lives.
type AccessToken struct {
	Value     string
	ExpiresIn time.Duration
}

// StableToken fetches the app's access_token from /cgi-bin/stable_token.
// Without forceRefresh WeChat answers the token it already has while that
// lives, so every server of an app gets the same one; forceRefresh kills
// the current token for everyone and is rate limited by WeChat.
func (c *Client) StableToken(ctx context.Context, forceRefresh bool) (AccessToken, error) {
	body, _ := json.Marshal(map[string]any{
		"grant_type":    "client_credential",
		"appid":         c.AppID,
		"secret":        c.Secret,
		"force_refresh": forceRefresh,
	})
	var ans struct {
		apiStatus
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := c.call(ctx, EndpointStableToken, http.MethodPost, "/cgi-bin/stable_token", body, &ans); err != nil {
		return AccessToken{}, err
	}
	if ans.AccessToken == "" || ans.ExpiresIn <= 0 {
		return AccessToken{}, &Error{Endpoint: EndpointStableToken, Kind: KindBadAnswer, Err: errors.New("answer has no access_token")}
	}
	return AccessToken{Value: ans.AccessToken, ExpiresIn: time.Duration(ans.ExpiresIn) * time.Second}, nil
}

// PhoneNumber trades a getPhoneNumber button code for the user's phone,
// using the app's access_token. With openid set, WeChat checks that the
// code was handed out to that user and refuses it otherwise, so that a
// code obtained by someone else cannot bind their number to this user.
//
// WeChat's documentation of getuserphonenumber (the current page,
// developers.weixin.qq.com/miniprogram/dev/server/API/user-info/phone-number/api_getphonenumber.html)
// lists openid as an optional body field: "用户openid，填入后会校验openid和code的
// 绑定关系" (filled in, the binding of openid and code is checked); older
// pages listed the field without a description, and one community report
// (developers.weixin.qq.com/community/develop/doc/000eaacbb64e80182ee01561d6bc00)
// says a non-empty openid got a format error then. SDKs now send it
// (WxJava, issue #4076, PR #4078: getPhoneNumber(code, openid)). The
// errcode of a mismatch is not documented; the fake answers 40003
// (CodeInvalidOpenID), WeChat's usual "invalid openid".
func (c *Client) PhoneNumber(ctx context.Context, accessToken, code, openid string) (Phone, error) {
	req := map[string]string{"code": code}
	if openid != "" {
		req["openid"] = openid
	}
	body, _ := json.Marshal(req)
	var ans struct {
		apiStatus
		PhoneInfo *phonePayload `json:"phone_info"`
	}
	path := "/wxa/business/getuserphonenumber?access_token=" + url.QueryEscape(accessToken)
	if err := c.call(ctx, EndpointPhoneNumber, http.MethodPost, path, body, &ans); err != nil {
		return Phone{}, err
	}
	if ans.PhoneInfo == nil {
		return Phone{}, &Error{Endpoint: EndpointPhoneNumber, Kind: KindBadAnswer, Err: errors.New("answer has no phone_info")}
	}
	p, err := ans.PhoneInfo.phone(c.AppID)
	if err != nil {
		return Phone{}, &Error{Endpoint: EndpointPhoneNumber, Kind: KindBadAnswer, Err: err}
	}
	return p, nil
}

// apiStatus is the errcode/errmsg pair every WeChat answer may carry.
type apiStatus struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (s apiStatus) status() apiStatus { return s }

type statusCarrier interface{ status() apiStatus }

// call does one request and decodes the answer into out, whatever its
// Content-Type (jscode2session answers text/plain). out must embed
// apiStatus. The HTTP part is platform.Caller's, the one of every
// platform; its errors come back as this package's *Error.
func (c *Client) call(ctx context.Context, endpoint, method, pathAndQuery string, body []byte, out statusCarrier) (err error) {
	if c.Observe != nil {
		start := time.Now()
		defer func() { c.Observe(endpoint, time.Since(start), err) }()
	}
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	contentType := ""
	if body != nil {
		contentType = "application/json"
	}
	caller := platform.Caller{Platform: "wechat", HTTPClient: c.HTTPClient}
	req, err := caller.NewRequest(ctx, endpoint, method, base, pathAndQuery, body, contentType)
	if err != nil {
		return fromPlatform(err)
	}
	raw, err := caller.Do(endpoint, req)
	if err != nil {
		return fromPlatform(err)
	}
	if json.Unmarshal(raw, out) != nil {
		return &Error{Endpoint: endpoint, Kind: KindBadAnswer, HTTPStatus: http.StatusOK,
			Err: fmt.Errorf("answer is not a JSON object of the expected shape (%d bytes)", len(raw))}
	}
	if st := out.status(); st.ErrCode != 0 {
		return &Error{Endpoint: endpoint, Kind: KindAPI, Code: st.ErrCode, Msg: st.ErrMsg}
	}
	return nil
}

// fromPlatform turns a *platform.Error (of platform.Caller, or of a
// platform.TokenSource wait) into an *Error; any other error, nil
// included, it returns as it is.
func fromPlatform(err error) error {
	pe, ok := err.(*platform.Error)
	if !ok {
		return err
	}
	kind := KindBadAnswer
	switch pe.Kind {
	case platform.KindTimeout:
		kind = KindTimeout
	case platform.KindUnreachable:
		kind = KindUnreachable
	case platform.KindCanceled:
		kind = KindCanceled
	}
	return &Error{Endpoint: pe.Endpoint, Kind: kind, HTTPStatus: pe.HTTPStatus, Err: pe.Err}
}
