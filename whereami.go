package wechatauth

import (
	"net/http"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/reply"
)

// whereAmI answers GET /wx/session with a Bearer token: where the client
// stands, 200 {"app_id", "platform", "expires_in", "phone_bound"}, so
// that it need not guess. expires_in is the seconds the session has left
// if it is not used again: the earlier of its session_ttl and, with
// idle_timeout, its idle expiry (this request renews it when due, and the
// answer counts from the renewal). Without a valid session: 401, as for
// any request. It returns the session's app, for the metrics.
func (h *Handler) whereAmI(w http.ResponseWriter, r *http.Request) (*app, *reply.Error) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return nil, reply.MethodNotAllowed
	}
	a, _, s, e := h.authenticate(r)
	if e != nil {
		return a, e
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, struct {
		AppID      string `json:"app_id"`
		Platform   string `json:"platform"`
		ExpiresIn  int64  `json:"expires_in"`
		PhoneBound bool   `json:"phone_bound"`
	}{a.id, a.platform.Name, int64(s.ExpiresIn / time.Second), s.Phone != ""})
	return a, nil
}
