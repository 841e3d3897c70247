package wechat

import (
	"errors"
	"fmt"
)

// The endpoints an *Error can name.
const (
	EndpointCode2Session = "jscode2session"
	EndpointStableToken  = "stable_token"
	EndpointPhoneNumber  = "getuserphonenumber"
)

// Kind says what sort of failure an *Error is.
type Kind int

const (
	// KindAPI: WeChat answered with a non-zero errcode (in Code and Msg).
	KindAPI Kind = iota + 1
	// KindTimeout: no answer before the context's deadline.
	KindTimeout
	// KindUnreachable: the connection failed (DNS, refused, reset, TLS).
	KindUnreachable
	// KindBadAnswer: an answer came but was not usable: an HTTP status
	// other than 200, a body that is not a JSON object (a gateway's HTML
	// page), or JSON without the fields a success must have.
	KindBadAnswer
	// KindCanceled: the caller's context was canceled.
	KindCanceled
)

func (k Kind) String() string {
	switch k {
	case KindAPI:
		return "api_error"
	case KindTimeout:
		return "timeout"
	case KindUnreachable:
		return "unreachable"
	case KindBadAnswer:
		return "bad_answer"
	case KindCanceled:
		return "canceled"
	}
	return "unknown"
}

// WeChat errcodes that callers act on.
const (
	CodeBusy               = -1    // system busy, retry later
	CodeInvalidCredential  = 40001 // access_token invalid or not the latest
	CodeInvalidOpenID      = 40003 // getuserphonenumber: the openid sent is not the code's user
	CodeInvalidAppSecret   = 40125
	CodeInvalidAppID       = 40013
	CodeInvalidAccessToken = 40014
	CodeInvalidCode        = 40029
	CodeCodeUsed           = 40163
	CodeIPNotWhitelisted   = 40164 // the server's IP is not in the app's whitelist
	CodeRiskyUser          = 40226
	CodeMissingAppID       = 41002
	CodeMissingSecret      = 41004
	CodeAccessTokenExpired = 42001
	CodeDailyQuota         = 45009 // the API's daily quota is spent
	CodeRateLimited        = 45011
)

// OperatorAction tells, for the errcodes that only the app's operator can
// fix (credentials, IP whitelist, quota), what to do, for a log line; ""
// for the others. No action needs the secret, and none names it.
func OperatorAction(code int) string {
	switch code {
	case CodeInvalidAppID:
		return "WeChat does not know this app_id: check app_id against the mini program console (Development > Development Management > Development Settings)"
	case CodeInvalidAppSecret:
		return "WeChat refused the app_secret: check app_secret (or reset it in the mini program console, Development Settings, and update the config)"
	case CodeMissingAppID, CodeMissingSecret:
		return "the request to WeChat lacked the app_id or app_secret: check the configuration"
	case CodeIPNotWhitelisted:
		return "whitelist this server's outbound IP (errmsg names it) in the mini program console: Development > Development Management > Development Settings > IP whitelist"
	case CodeDailyQuota:
		return "the daily quota of this WeChat API is spent (it resets at midnight, Beijing time): find what calls it so often (another server using /cgi-bin/token or force_refresh?), or reset the quota in the console"
	}
	return ""
}

// Error is a failed call to WeChat. Its text never holds a secret.
type Error struct {
	Endpoint   string // one of the Endpoint constants
	Kind       Kind
	Code       int    // WeChat's errcode, with KindAPI
	Msg        string // WeChat's errmsg, with KindAPI
	HTTPStatus int    // the answer's status, when one came
	Err        error  // the underlying cause, when there is one
}

func (e *Error) Error() string {
	switch e.Kind {
	case KindAPI:
		return fmt.Sprintf("wechat %s: errcode %d: %s", e.Endpoint, e.Code, e.Msg)
	default:
		if e.Err != nil {
			return fmt.Sprintf("wechat %s: %s: %v", e.Endpoint, e.Kind, e.Err)
		}
		return fmt.Sprintf("wechat %s: %s", e.Endpoint, e.Kind)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// APICode returns WeChat's errcode if err is an *Error of KindAPI, else 0.
func APICode(err error) int {
	var we *Error
	if errors.As(err, &we) && we.Kind == KindAPI {
		return we.Code
	}
	return 0
}

// TokenInvalidCode reports whether an errcode says the access_token used
// is dead (40001, 42001, 40014), for callers that read an answer's errcode
// themselves (the wechat_api gateway).
func TokenInvalidCode(code int) bool {
	switch code {
	case CodeInvalidCredential, CodeAccessTokenExpired, CodeInvalidAccessToken:
		return true
	}
	return false
}
