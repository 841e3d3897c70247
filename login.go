package wechatauth

import (
	"context"
	"net/http"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// maxCodeLen bounds a wx.login or getPhoneNumber code (real ones are 32
// characters).
const maxCodeLen = 512

// loginErrors are jscode2session's errcodes with a meaning of their own;
// the rest are mapped by weChatFailure.
var loginErrors = map[int]*reply.Error{
	wechat.CodeInvalidCode: reply.InvalidCode,
	wechat.CodeCodeUsed:    reply.CodeUsed,
	wechat.CodeRiskyUser:   reply.RiskyUser,
}

// login answers POST /wx/login {"code"}: it trades the code with WeChat,
// stores the session server side and answers a fresh token.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) *reply.Error {
	var req struct {
		Code any `json:"code"`
	}
	if e := readJSON(w, r, &req); e != nil {
		return e
	}
	code, ok := req.Code.(string)
	if !ok || code == "" || len(code) > maxCodeLen {
		return reply.MissingCode
	}
	token, s, e := h.startSession(r, code)
	if e != nil {
		return e
	}
	reply.JSON(w, http.StatusOK, struct {
		Token      string `json:"token"`
		ExpiresIn  int64  `json:"expires_in"`
		PhoneBound bool   `json:"phone_bound"` // from phone_ttl: no billed phone button needed
	}{token, int64(h.sessionTTL.Seconds()), s.Phone != ""})
	return nil
}

// startSession trades a login code with WeChat and stores the session:
// a new token and the session (with the user's bound phone), or the error
// to answer.
func (h *Handler) startSession(r *http.Request, code string) (string, session.Session, *reply.Error) {
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	ws, err := h.wx.Code2Session(ctx, code)
	if err != nil {
		e := reply.WeChatFailure(err, loginErrors)
		h.logWeChatFailure("login failed", err, e)
		return "", session.Session{}, e
	}

	token := h.store.NewToken(ws.OpenID)
	s, err := h.store.Login(r.Context(), token, session.Session{OpenID: ws.OpenID, UnionID: ws.UnionID}, ws.SessionKey)
	if err != nil {
		h.logger.Error("login: session not stored", zap.String("openid", ws.OpenID), zap.Error(err))
		return "", session.Session{}, reply.StoreFailure(err)
	}
	h.logger.Info("login", zap.String("openid", ws.OpenID), zap.Bool("unionid", ws.UnionID != ""),
		zap.Bool("phone_bound", s.Phone != ""))
	return token, s, nil
}
