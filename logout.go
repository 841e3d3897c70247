package wechatauth

import (
	"net/http"

	"go.uber.org/zap"
)

// logout answers POST /wx/logout: the token dies in the shared store, so
// on every block and every Caddy that uses it.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) *apiError {
	token, s, e := h.sessionPOST(r)
	if e != nil {
		return e
	}
	if err := h.store.Delete(r.Context(), token); err != nil {
		h.logger.Error("logout: session not deleted", zap.Error(err))
		return storeFailure(err)
	}
	h.logger.Info("logout", zap.String("openid", s.OpenID))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
