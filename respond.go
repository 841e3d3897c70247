package wechatauth

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// respond counts the outcome of one of the handler's endpoints ("login",
// "phone", "logout", "jwks", or "auth" for a request that was not let
// through), and writes e when it is an error: the one place where the
// handler's error answers are written.
func (h *Handler) respond(w http.ResponseWriter, endpoint string, e *reply.Error) {
	metrics.requests.WithLabelValues(h.appID, endpoint, result(e)).Inc()
	if e != nil {
		reply.BoundUnreadBody(w)
		e.Write(w)
	}
}

// logWeChatFailure logs a failed WeChat call: WeChat's own refusals of a
// user's code at INFO, trouble with WeChat at WARN, a refusal only the
// operator can fix (credentials, IP whitelist, quota) at ERROR with what to
// do. WeChat's rate limit (45011, which counts per app) gets one WARN line
// a minute per app, with how many were throttled since the line before.
// Never the request URL, which holds the secret.
func (h *Handler) logWeChatFailure(msg string, err error, refusal *reply.Error) {
	fields := append([]zap.Field{zap.String("app_id", h.appID), zap.String("answer", refusal.Code)}, reply.WeChatErrorFields(err)...)
	code := wechat.APICode(err)
	switch {
	case refusal == reply.WeChatConfig:
		reply.LogConfigRefusal(h.logger, msg, err, fields)
	case code == wechat.CodeRateLimited && h.throttled != nil:
		if ok, n := h.throttled.Allow(clockNow()); ok {
			h.logger.Warn(msg+": WeChat's rate limit (45011) throttles this app", append(fields, zap.Int("throttled_since_last_line", n))...)
		} else {
			h.logger.Debug(msg, fields...)
		}
	case refusal.Status >= 500:
		h.logger.Warn(msg, fields...)
	default:
		h.logger.Info(msg, fields...)
	}
}
