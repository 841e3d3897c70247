package wechatauth

// From the mini program into its <web-view>: POST /wx/ticket (Bearer)
// hands out a one-time ticket for 60 s; GET /wx/web/handoff?ticket=&next=
// turns it into a cookie session of the same user, in the same app's
// store (so logout everywhere and the admin API's revocation end it too).

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/weblogin"
)

// onceTicket is the kind of a ticket's record (its lifetime: ticketTTL).
const onceTicket = "web_ticket"

// ticket answers POST /wx/ticket with a Bearer token: 200 {"ticket",
// "expires_in"}.
func (h *Handler) ticket(w http.ResponseWriter, r *http.Request) (*app, *reply.Error) {
	a, _, s, e := h.sessionPOST(r)
	if e != nil {
		return a, e
	}
	t := weblogin.NewState()
	rec := []byte(a.id + "\x00" + s.OpenID + "\x00" + s.UnionID)
	if err := onceOf(a.store).PutOnce(r.Context(), onceTicket, t, rec, ticketTTL()); err != nil {
		h.logger.Error("ticket not stored", zap.String("app_id", a.id), zap.Error(err))
		return a, reply.StoreFailure(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	reply.JSON(w, http.StatusOK, struct {
		Ticket    string `json:"ticket"`
		ExpiresIn int    `json:"expires_in"`
	}{t, int(ticketTTL() / time.Second)})
	return a, nil
}

// handoff answers GET /wx/web/handoff?ticket=&next=: an unused, unexpired
// ticket becomes a cookie session of its user; 302 to next.
func (h *Handler) handoff(w http.ResponseWriter, r *http.Request) (*app, *reply.Error) {
	if r.Method != http.MethodGet {
		return nil, reply.MethodNotAllowed
	}
	q := r.URL.Query()
	t := q.Get("ticket")
	if t == "" {
		return nil, reply.MissingTicket
	}
	if !weblogin.ValidState(t) {
		return nil, reply.InvalidTicket
	}
	for _, a := range h.apps {
		if a.platform.WebLogin {
			continue
		}
		raw, err := onceOf(a.store).TakeOnce(r.Context(), onceTicket, t)
		if errors.Is(err, session.ErrNotFound) {
			continue
		}
		if err != nil {
			h.logger.Error("ticket not read", zap.String("app_id", a.id), zap.Error(err))
			return a, reply.StoreFailure(err)
		}
		f := strings.Split(string(raw), "\x00")
		if len(f) != 3 || f[0] != a.id || f[1] == "" {
			return a, reply.InvalidTicket
		}
		return a, h.startCookieSession(w, r, a, session.Session{OpenID: f[1], UnionID: f[2]}, q.Get("next"))
	}
	return nil, reply.InvalidTicket
}
