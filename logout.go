package wechatauth

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// logout answers POST /wx/logout: the token dies in the shared store, so
// on every block and every Caddy that uses it (204). With the body
// {"all": true}, every session of the caller's user dies: 200
// {"revoked": n}. An empty body, or {"all": false}, is a plain logout.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) (*app, *reply.Error) {
	a, token, s, e := h.sessionPOST(r)
	if e != nil {
		return a, e
	}
	return a, h.endSession(w, r, a, token, s)
}

// endSession ends the session of token (or, with {"all": true}, every
// session of its user) in the app's store.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request, a *app, token string, s session.Session) *reply.Error {
	var req struct {
		All bool `json:"all"`
	}
	if e := readOptionalJSON(w, r, &req); e != nil {
		return e
	}
	if req.All {
		n, err := a.store.RevokeUser(r.Context(), s.OpenID, false)
		if err != nil {
			h.logger.Error("logout everywhere: sessions not revoked", zap.Error(err))
			return reply.StoreFailure(err)
		}
		h.logger.Info("logout everywhere", zap.String("app_id", a.id), zap.String("openid", s.OpenID), zap.Int("revoked", n))
		reply.JSON(w, http.StatusOK, struct {
			Revoked int `json:"revoked"`
		}{n})
		return nil
	}
	if err := a.store.Delete(r.Context(), token); err != nil {
		h.logger.Error("logout: session not deleted", zap.Error(err))
		return reply.StoreFailure(err)
	}
	h.logger.Info("logout", zap.String("app_id", a.id), zap.String("openid", s.OpenID))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
