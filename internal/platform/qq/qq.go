// Package qq is the QQ mini program platform behind the internal/platform
// seam: login by QQ's jscode2session (a clone of WeChat's, on
// api.q.qq.com), phone by the sealed {"encryptedData", "iv"} payload in
// WeChat's scheme. QQ documents no phone button and no server phone API,
// so a payload without a number (qq.getUserInfo data) is ErrNoPhone and a
// {"code"} names no flow of this platform.
package qq

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Name is the platform word.
const Name = "qq"

// DefaultBaseURL is QQ's real server API.
const DefaultBaseURL = "https://api.q.qq.com"

// EndpointLogin names jscode2session in an *Error.
const EndpointLogin = "jscode2session"

// AppID is the shape of a QQ mini program's app id: a decimal string,
// such as 1112214148.
var AppID = regexp.MustCompile(`^[0-9]{6,12}$`)

// QQ's errcodes of jscode2session.
const (
	CodeBusy         = -1
	CodeInvalidCode  = 40029
	CodeRateLimited  = 45011 // 100 logins a minute per user
	CodeBadParameter = -101222100
)

// desc is the platform's description; init registers it.
var desc = platform.Platform{
	Name:        Name,
	AppID:       AppID,
	AppIDHint:   "6 to 12 digits, such as 1112214148",
	NeedsSecret: true,
}

func init() {
	desc.New = New
	platform.Register(&desc)
}

type client struct {
	appID, secret, base string
	call                platform.Caller
	maxAge              time.Duration
	now                 func() time.Time
}

// New makes the client of one QQ mini program. QQ takes no options.
func New(cfg platform.Config) (platform.Client, error) {
	if err := desc.CheckConfig(cfg); err != nil {
		return nil, err
	}
	return &client{
		appID: cfg.AppID, secret: cfg.Secret, base: cmp.Or(cfg.APIBase, DefaultBaseURL),
		call: cfg.Caller(Name), maxAge: cfg.PhoneMaxAge, now: cfg.Clock(),
	}, nil
}

// Login trades a qq.login code for the user's openid, unionid and
// session_key. An answer without errcode, or with errcode 0, is a
// success (QQ's answers are seen both ways).
func (c *client) Login(ctx context.Context, code string) (platform.Identity, error) {
	q := url.Values{"appid": {c.appID}, "secret": {c.secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	var ans struct {
		ErrCode    *int64 `json:"errcode"`
		ErrMsg     string `json:"errmsg"`
		OpenID     string `json:"openid"`
		SessionKey string `json:"session_key"`
		UnionID    string `json:"unionid"`
	}
	err := c.call.Call(ctx, platform.Request{Endpoint: EndpointLogin, Method: http.MethodGet, Base: c.base,
		Path: "/sns/jscode2session?" + q.Encode()}, &ans)
	if err != nil {
		return platform.Identity{}, err
	}
	if ans.ErrCode != nil && *ans.ErrCode != 0 {
		return platform.Identity{}, refusal(*ans.ErrCode, ans.ErrMsg)
	}
	if !desc.ValidUserID(ans.OpenID) || (ans.UnionID != "" && !desc.ValidUserID(ans.UnionID)) {
		return platform.Identity{}, c.call.BadAnswer(EndpointLogin, http.StatusOK, errors.New("answer has no openid, or an id of an unexpected shape"))
	}
	if key, err := base64.StdEncoding.DecodeString(ans.SessionKey); err != nil || len(key) != 16 {
		return platform.Identity{}, c.call.BadAnswer(EndpointLogin, http.StatusOK, errors.New("answer has no valid session_key"))
	}
	return platform.Identity{OpenID: ans.OpenID, UnionID: ans.UnionID, SessionKey: ans.SessionKey}, nil
}

// actionBadParameter is what the operator must check on -101222100.
const actionBadParameter = "QQ refused the app's parameters (errcode -101222100): check app_id and app_secret against the QQ mini program console (q.qq.com, Development > Development Settings); a code from the IDE's test project also gets this"

// refusal is the *Error of QQ's errcode.
func refusal(code int64, msg string) *platform.Error {
	e := &platform.Error{Platform: Name, Endpoint: EndpointLogin, Code: strconv.FormatInt(code, 10), Msg: msg, HTTPStatus: http.StatusOK}
	switch code {
	case CodeInvalidCode:
		e.Kind = platform.KindInvalidCode
	case CodeRateLimited:
		e.Kind = platform.KindRateLimited
	case CodeBusy:
		e.Kind = platform.KindBusy
	case CodeBadParameter:
		e.Kind, e.Action = platform.KindConfig, actionBadParameter
	default:
		e.Kind = platform.KindRefused
	}
	return e
}

// Phone opens the sealed {"encryptedData", "iv"} payload with the user's
// keys, newest first (WeChat's scheme: AES-128-CBC, PKCS#7, the
// watermarked JSON). It is the only phone flow QQ has.
func (c *client) Phone(_ context.Context, req platform.PhoneRequest) (platform.Phone, error) {
	if req.EncryptedData == "" || req.IV == "" {
		return platform.Phone{}, platform.ErrNoPhoneFlow
	}
	check := platform.PhoneCheck{AppID: c.appID, RequireWatermark: true, MaxAge: c.maxAge, Now: c.now()}
	return platform.OpenSealedPhone(req.Keys, req.IV, req.EncryptedData, check)
}

// Close releases nothing: the HTTP client is the caller's.
func (c *client) Close() {}
