package reply

import (
	"errors"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// WeChatFailure maps a failed WeChat call to the answer a client gets;
// byCode maps the errcodes the endpoint knows specially.
func WeChatFailure(err error, byCode map[int]*Error) *Error {
	var we *wechat.Error
	if !errors.As(err, &we) {
		return WeChatOther
	}
	switch we.Kind {
	case wechat.KindTimeout:
		return WeChatTimeout
	case wechat.KindUnreachable:
		return WeChatUnreachable
	case wechat.KindBadAnswer:
		return WeChatBadAnswer
	case wechat.KindCanceled:
		return ClientGone
	}
	if e, ok := byCode[we.Code]; ok {
		return e
	}
	switch {
	case we.Code == wechat.CodeBusy:
		return WeChatBusy
	case we.Code == wechat.CodeRateLimited:
		return RateLimited
	case wechat.IsOperatorError(err): // 40013, 40125, 40164, 45009, 41002, 41004
		return WeChatConfig
	}
	return WeChatOther
}

// StoreFailure maps a session store error to an answer.
func StoreFailure(err error) *Error {
	if errors.Is(err, session.ErrNotFound) {
		return InvalidToken
	}
	return StoreUnavailable
}

// LogConfigRefusal logs at ERROR a WeChat refusal only the operator can
// fix (credentials, IP whitelist, quota), with what to do.
func LogConfigRefusal(log *zap.Logger, msg string, err error, fields []zap.Field) {
	action := wechat.OperatorAction(wechat.APICode(err))
	if action == "" {
		action = "check app_id and app_secret"
	}
	log.Error(msg+": WeChat refused the app's configuration: "+action, append(fields, zap.String("action", action))...)
}

// WeChatErrorFields describes a failed WeChat call for a log line. The
// wechat package never puts a request URL, a secret or a token in an error.
func WeChatErrorFields(err error) []zap.Field {
	var we *wechat.Error
	if !errors.As(err, &we) {
		return []zap.Field{zap.Error(err)}
	}
	fields := []zap.Field{zap.String("endpoint", we.Endpoint), zap.String("kind", we.Kind.String())}
	if we.Kind == wechat.KindAPI {
		fields = append(fields, zap.Int("errcode", we.Code), zap.String("errmsg", we.Msg))
	}
	if we.HTTPStatus != 0 {
		fields = append(fields, zap.Int("http_status", we.HTTPStatus))
	}
	if we.Err != nil {
		fields = append(fields, zap.String("cause", we.Err.Error()))
	}
	return fields
}
