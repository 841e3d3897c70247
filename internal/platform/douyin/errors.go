package douyin

import (
	"errors"
	"strconv"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Douyin's error numbers that wechat_auth acts on.
const (
	// code2Session (err_no).
	ErrNoBusy             = -1
	ErrNoBadParams        = 40014
	ErrNoBadAppID         = 40015
	ErrNoBadSecret        = 40017
	ErrNoBadCode          = 40018 // wrong, expired or used: Douyin tells no "used" apart
	ErrNoBadAnonymousCode = 40019

	// client_token (data.error_code). The page's example answers 10003;
	// its error table (the local-life copy) says 20010002, 20010003 and
	// 20010013: both are read.
	TokenBadParams    = 10002
	TokenUnknownKey   = 10003
	TokenBadSecret    = 10013
	TokenTooManyCalls = 10020 // more than 500 calls in 5 minutes
	TokenBadParams2   = 20010002
	TokenUnknownKey2  = 20010003
	TokenBadSecret2   = 20010013

	// open.douyin.com APIs (err_no).
	OpenTokenInvalid   = 28001003
	OpenBusy           = 28001005
	OpenBadParams      = 28001007
	OpenTokenExpired   = 28001008
	OpenNoAbility      = 28001014 // the app has no ability granted at all
	OpenAppBanned      = 28001016 // the app is banned or offline
	OpenNoAbilityScope = 28001018 // the app lacks this ability
	OpenQuotaUsed      = 28003017
	OpenRateLimited    = 28003018
	OldBusy            = 2100004  // the older generic table's "system busy"
	OpenBadPhoneCode   = 28005187 // the phone code is wrong, expired or used
)

// Actions for the operator; none names the secret.
const (
	actionAppID   = "Douyin does not know this app_id: check app_id against the Douyin console (控制台 > 小程序详情 > 开发 > 开发配置)"
	actionSecret  = "Douyin refused the app_secret: check app_secret against the Douyin console (控制台 > 小程序详情 > 开发 > 开发配置), and update the config if it was reset"
	actionAbility = "the app may not read phone numbers: apply for the phone number ability (获取用户手机号) in the Douyin console, and wait for it to be granted"
	actionKey     = "the phone answer does not open with app_private_key: the app public key entered in the Douyin console (控制台 > 小程序详情 > 开发 > 开发配置 > 应用公钥) must be the public half of app_private_key"
	actionBanned  = "Douyin says the app is banned or offline: see the Douyin developer console and the platform's messages"
	actionQuota   = "the quota of this Douyin API is used up: find what calls it so often, or ask Douyin for more"
	actionToken   = "Douyin called a fresh client_token dead: is another server fetching client_token for this app? Douyin keeps only the two newest alive"
)

// kindOf maps an error number of any of Douyin's APIs to a Kind and, for
// KindConfig, an Action.
func kindOf(code int) (platform.Kind, string) {
	switch code {
	case ErrNoBadCode, ErrNoBadAnonymousCode, OpenBadPhoneCode:
		return platform.KindInvalidCode, ""
	case ErrNoBadAppID, TokenUnknownKey, TokenUnknownKey2:
		return platform.KindConfig, actionAppID
	case ErrNoBadSecret, TokenBadSecret, TokenBadSecret2:
		return platform.KindConfig, actionSecret
	case OpenNoAbility, OpenNoAbilityScope:
		return platform.KindConfig, actionAbility
	case OpenAppBanned:
		return platform.KindConfig, actionBanned
	case OpenQuotaUsed:
		return platform.KindConfig, actionQuota
	case OpenTokenInvalid, OpenTokenExpired:
		// Reached only after TokenSource.Do retried with a fresh token.
		return platform.KindConfig, actionToken
	case ErrNoBusy, OpenBusy, OldBusy:
		return platform.KindBusy, ""
	case OpenRateLimited, TokenTooManyCalls:
		return platform.KindRateLimited, ""
	}
	return platform.KindRefused, ""
}

// apiError is the *Error of an answer with a non-zero error number.
func apiError(endpoint string, code int, msg string) *platform.Error {
	kind, action := kindOf(code)
	return &platform.Error{
		Platform: Name, Endpoint: endpoint, Kind: kind,
		Code: strconv.Itoa(code), Msg: msg, Action: action,
	}
}

// tokenDead reports whether err is get_phonenumber_info calling its
// client_token invalid or expired (TokenSource.IsInvalid).
func tokenDead(err error) bool {
	var pe *platform.Error
	if !errors.As(err, &pe) || pe.Endpoint != EndpointPhone {
		return false
	}
	return pe.Code == strconv.Itoa(OpenTokenInvalid) || pe.Code == strconv.Itoa(OpenTokenExpired)
}
