package wechatauth

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/weblogin"
)

// respond counts the outcome of one of the handler's endpoints ("login",
// "phone", "logout", "session", "jwks", or "auth" for a request that was not let
// through) for app a (nil when the request named none: the block's app
// if it has one), and writes e when it is an error: the one place where
// the handler's error answers are written.
func (h *Handler) respond(w http.ResponseWriter, a *app, endpoint string, e *reply.Error) {
	h.answer(w, nil, a, endpoint, e)
}

// answer is respond, and for the endpoints a browser navigates to (page
// is then the request, nil otherwise) an error is an HTML page for a
// navigation (see weblogin.IsNavigation), JSON otherwise.
func (h *Handler) answer(w http.ResponseWriter, page *http.Request, a *app, endpoint string, e *reply.Error) {
	if a == nil && len(h.apps) == 1 {
		a = h.apps[0]
	}
	appID, plat := "", ""
	if a != nil {
		appID, plat = a.id, a.platform.Name
	}
	metrics.requests.WithLabelValues(appID, endpoint, result(e), plat).Inc()
	switch {
	case e == nil:
	case page != nil && weblogin.IsNavigation(page):
		reply.BoundUnreadBody(w)
		e.WritePage(w)
	default:
		reply.BoundUnreadBody(w)
		e.Write(w)
	}
}

// logPlatformFailure logs a failed platform call: the platform's own
// refusals of a user's code at INFO, trouble with the platform at WARN, a
// refusal only the operator can fix (credentials, keys, IP whitelist,
// quota) at ERROR with what to do. The platform's rate limit (WeChat's
// 45011, which counts per user: 100 logins a minute) gets one WARN line a
// minute per app, with how many were throttled since the line before.
// Never the request URL, which may hold the secret.
func (h *Handler) logPlatformFailure(a *app, msg string, err error, refusal *reply.Error) {
	fields := append([]zap.Field{zap.String("app_id", a.id), zap.String("answer", refusal.Code)}, reply.ErrorFields(err)...)
	switch {
	case refusal == reply.WeChatConfig:
		reply.LogConfigRefusal(h.logger, msg, err, fields)
	case platform.KindOf(err) == platform.KindRateLimited && a.client.Throttled != nil:
		if ok, n := a.client.Throttled.Allow(clockNow()); ok {
			code := ""
			var pe *platform.Error
			if errors.As(err, &pe) && pe.Code != "" {
				code = " (" + pe.Code + ")"
			}
			h.logger.Warn(msg+": this app's users hit "+reply.PlatformTitle(a.platform.Name)+"'s per-user login rate limit"+code,
				append(fields, zap.Int("throttled_since_last_line", n))...)
		} else {
			h.logger.Debug(msg, fields...)
		}
	case refusal.Status >= 500:
		h.logger.Warn(msg, fields...)
	default:
		h.logger.Info(msg, fields...)
	}
}
