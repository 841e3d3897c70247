package reply

import (
	"errors"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// byKind is what a client gets for a failed platform call, by its Kind:
// the one table of it, for every platform and every endpoint (the phone
// endpoint adds its own first, see PhoneFailure).
var byKind = map[platform.Kind]*Error{
	platform.KindInvalidCode: InvalidCode,
	platform.KindCodeUsed:    CodeUsed,
	platform.KindRiskyUser:   RiskyUser,
	platform.KindRateLimited: RateLimited,
	platform.KindBusy:        WeChatBusy,
	platform.KindConfig:      WeChatConfig,
	platform.KindRefused:     WeChatOther,
	platform.KindBadAnswer:   WeChatBadAnswer,
	platform.KindTimeout:     WeChatTimeout,
	platform.KindUnreachable: WeChatUnreachable,
	platform.KindCanceled:    ClientGone,
}

// PlatformFailure maps a failed platform call (a *platform.Error) to the
// answer a client gets; anything else is wechat_error.
func PlatformFailure(err error) *Error {
	if e, ok := byKind[platform.KindOf(err)]; ok {
		return e
	}
	return WeChatOther
}

// byPhoneError is what the phone flows' own errors answer.
var byPhoneError = []struct {
	err   error
	reply *Error
}{
	{platform.ErrNoPhoneFlow, MissingPhoneData},
	{platform.ErrMalformed, MalformedData},
	{platform.ErrUndecryptable, Undecryptable},
	{platform.ErrSessionKeyExpired, SessionKeyExpired},
	{platform.ErrNoPhone, NoPhone},
	{platform.ErrWatermark, Watermark},
	{platform.ErrStale, StalePhoneData},
	{platform.ErrBadSignature, WeChatBadAnswer},
}

// PhoneFailure maps a failed phone flow to the answer: the phone flows'
// errors, a refused phone code (invalid or used) as invalid_phone_code,
// and the rest as a login's.
func PhoneFailure(err error) *Error {
	for _, m := range byPhoneError {
		if errors.Is(err, m.err) {
			return m.reply
		}
	}
	switch platform.KindOf(err) {
	case platform.KindInvalidCode, platform.KindCodeUsed:
		return InvalidPhoneCode
	}
	return PlatformFailure(err)
}

// StoreFailure maps a session store error to an answer.
func StoreFailure(err error) *Error {
	switch {
	case errors.Is(err, session.ErrNotFound):
		return InvalidToken
	case errors.Is(err, session.ErrFull):
		return SessionFull
	}
	return StoreUnavailable
}

// LogConfigRefusal logs at ERROR a platform's refusal only the operator
// can fix (credentials, keys, IP whitelist, quota), with what to do.
func LogConfigRefusal(log *zap.Logger, msg string, err error, fields []zap.Field) {
	action, who := "check app_id and app_secret", "WeChat"
	var pe *platform.Error
	if errors.As(err, &pe) {
		if pe.Action != "" {
			action = pe.Action
		}
		who = PlatformTitle(pe.Platform)
	}
	log.Error(msg+": "+who+" refused the app's configuration: "+action, append(fields, zap.String("action", action))...)
}

// PlatformTitle is how log lines name a platform: "WeChat" for WeChat's
// own (the mini program and the browser logins), else its word.
func PlatformTitle(name string) string {
	if name == "" || strings.HasPrefix(name, "wechat") {
		return "WeChat"
	}
	return name
}

// ErrorFields describes a failed platform call for a log line. Neither
// internal/wechat nor a platform ever puts a request URL, a secret or a
// token in an error.
func ErrorFields(err error) []zap.Field {
	var pe *platform.Error
	var we *wechat.Error
	var fields []zap.Field
	switch {
	case errors.As(err, &pe):
		fields = []zap.Field{zap.String("platform", pe.Platform), zap.String("endpoint", pe.Endpoint), zap.String("kind", pe.Kind.String())}
		if n, err := strconv.Atoi(pe.Code); err == nil {
			fields = append(fields, zap.Int("errcode", n))
		} else if pe.Code != "" {
			fields = append(fields, zap.String("errcode", pe.Code))
		}
		if pe.Msg != "" {
			fields = append(fields, zap.String("errmsg", pe.Msg))
		}
		if pe.HTTPStatus != 0 {
			fields = append(fields, zap.Int("http_status", pe.HTTPStatus))
		}
		if pe.Err != nil {
			fields = append(fields, zap.String("cause", pe.Err.Error()))
		}
	case errors.As(err, &we):
		fields = []zap.Field{zap.String("endpoint", we.Endpoint), zap.String("kind", we.Kind.String())}
		if we.Kind == wechat.KindAPI {
			fields = append(fields, zap.Int("errcode", we.Code), zap.String("errmsg", we.Msg))
		}
		if we.HTTPStatus != 0 {
			fields = append(fields, zap.Int("http_status", we.HTTPStatus))
		}
		if we.Err != nil {
			fields = append(fields, zap.String("cause", we.Err.Error()))
		}
	default:
		fields = []zap.Field{zap.Error(err)}
	}
	return fields
}
