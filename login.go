package wechatauth

import (
	"context"
	"net/http"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// maxCodeLen bounds a login or phone code (WeChat's are 32 characters,
// Alipay's auth codes about as long).
const maxCodeLen = 512

// login answers POST /wx/login {"code", "app_id"}: it trades the code
// with the app's platform, stores the session server side and answers a
// fresh token. app_id picks the app; it may be left out where the block
// has exactly one app that logs in by code.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) (*app, *reply.Error) {
	var req struct {
		Code  any `json:"code"`
		AppID any `json:"app_id"`
	}
	if e := readJSON(w, r, &req); e != nil {
		return nil, e
	}
	a, e := h.loginApp(req.AppID)
	if e != nil {
		return nil, e
	}
	return a, h.limitFailures(a, w, r, "login", func() *reply.Error {
		code, e := stringField(req.Code, reply.MissingCode, maxCodeLen)
		if e != nil {
			return e
		}
		token, e := h.startSession(r, a, code)
		if e != nil {
			return e
		}
		reply.JSON(w, http.StatusOK, struct {
			Token     string `json:"token"`
			ExpiresIn int64  `json:"expires_in"`
		}{token, int64(h.sessionTTL.Seconds())})
		return nil
	})
}

// stringField is the one rule for the string fields of a request body
// (the codes of /wx/login and /wx/phone, the phone payloads, app_id): a
// non-empty JSON string of at most max bytes; anything else, a number or
// an object included, counts as missing.
func stringField(v any, missing *reply.Error, max int) (string, *reply.Error) {
	s, ok := v.(string)
	if !ok || s == "" || len(s) > max {
		return "", missing
	}
	return s, nil
}

// loginApp is the app a login names: by app_id, or the block's one app
// that logs in by code when app_id is left out (null counts as left out).
// An app_id that is not a non-empty string is missing_app_id.
func (h *Handler) loginApp(id any) (*app, *reply.Error) {
	if id == nil {
		if apps := h.codeLoginApps(); len(apps) == 1 {
			return apps[0], nil
		}
		return nil, reply.MissingAppID
	}
	s, e := stringField(id, reply.MissingAppID, maxCodeLen)
	if e != nil {
		return nil, e
	}
	a := h.app(s)
	if a == nil || a.platform.WebLogin {
		return nil, reply.UnknownApp
	}
	return a, nil
}

// startSession trades a login code with the app's platform and stores the
// session: a new token (ending in the app's tag), or the error to answer.
func (h *Handler) startSession(r *http.Request, a *app, code string) (string, *reply.Error) {
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	id, err := a.client.Login(ctx, code)
	if err != nil {
		e := reply.PlatformFailure(err)
		h.logPlatformFailure(a, "login failed", err, e)
		return "", e
	}

	token := a.tagged(a.store.NewToken(id.OpenID))
	s, err := a.store.Login(r.Context(), token, session.Session{OpenID: id.OpenID, UnionID: id.UnionID}, id.SessionKey)
	if err != nil {
		h.logger.Error("login: session not stored", zap.String("app_id", a.id), zap.String("openid", id.OpenID), zap.Error(err))
		return "", reply.StoreFailure(err)
	}
	h.logger.Info("login", zap.String("app_id", a.id), zap.String("platform", a.platform.Name),
		zap.String("openid", id.OpenID), zap.Bool("unionid", id.UnionID != ""), zap.Bool("phone_bound", s.Phone != ""))
	return token, nil
}
