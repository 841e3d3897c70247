package wechatauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/appstate"
	"github.com/wechat-auth/wechat_auth/internal/platform"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI is the admin API module admin.api.wechat_auth: it serves, on
// Caddy's admin endpoint (with its listener, origin checks and remote
// admin access control),
//
//   - GET /wechat_auth/apps: each app this Caddy serves, with its
//     platform, its store and live session count (no openids);
//   - DELETE /wechat_auth/apps/<app_id>/users/<openid>: ends every
//     session of that user, in every Caddy sharing the store, and forgets
//     the user's bound phone and session_keys; 200 {"revoked": n}, 404
//     for an app this Caddy does not serve, 400 for an openid that is not
//     of the shape of the app's platform's user ids.
type adminAPI struct{}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.wechat_auth",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Routes returns the routes under /wechat_auth/.
func (a adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/wechat_auth/apps", Handler: caddy.AdminHandlerFunc(a.handleApps)},
		{Pattern: "/wechat_auth/apps/", Handler: caddy.AdminHandlerFunc(a.handleUser)},
	}
}

// appStatus is one app in GET /wechat_auth/apps.
type appStatus struct {
	AppID string `json:"app_id"`
	// Platform is the app's platform word (wechat, qq, ...).
	Platform string `json:"platform"`
	// Store is "memory" or "redis".
	Store string `json:"store"`
	// Sessions is the live session count; null where the store cannot
	// count them cheaply (Redis).
	Sessions *int64 `json:"sessions"`
}

func (adminAPI) handleApps(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed: GET lists the apps", r.Method)}
	}
	list := []appStatus{}
	for _, e := range appstate.Stores() {
		st := appStatus{AppID: e.AppID, Platform: e.Platform, Store: e.Kind}
		if n, ok := e.Len(); ok {
			st.Sessions = &n
		}
		list = append(list, st)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].AppID < list[j].AppID })
	return writeAdminJSON(w, list)
}

func (adminAPI) handleUser(w http.ResponseWriter, r *http.Request) error {
	rest := strings.TrimPrefix(r.URL.Path, "/wechat_auth/apps/")
	appID, openID, ok := strings.Cut(rest, "/users/")
	if !ok || appID == "" || strings.Contains(appID, "/") {
		return caddy.APIError{HTTPStatus: http.StatusNotFound,
			Err: fmt.Errorf("not found: use DELETE /wechat_auth/apps/<app_id>/users/<openid>")}
	}
	if r.Method != http.MethodDelete {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed,
			Err: fmt.Errorf("method %s not allowed: DELETE revokes the user", r.Method)}
	}
	var appStores []*appstate.Store
	for _, e := range appstate.Stores() {
		if e.AppID == appID {
			appStores = append(appStores, e)
		}
	}
	if len(appStores) == 0 {
		return caddy.APIError{HTTPStatus: http.StatusNotFound,
			Err: fmt.Errorf("app %q is not served by this Caddy", appID)}
	}
	if p, ok := platform.Lookup(appStores[0].Platform); ok && !p.ValidUserID(openID) {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest,
			Err: fmt.Errorf("openid %q is malformed: not a user id of the %s platform", openID, p.Name)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	total := 0
	for _, e := range appStores {
		n, err := e.RevokeUser(ctx, openID, true)
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable,
				Err: fmt.Errorf("app %s: the session store failed: %v", appID, err)}
		}
		total += n
	}
	caddy.Log().Named("admin.api.wechat_auth").Info("user revoked",
		zap.String("app_id", appID), zap.String("openid", openID), zap.Int("revoked", total))
	return writeAdminJSON(w, struct {
		Revoked int `json:"revoked"`
	}{total})
}

func writeAdminJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(v)
}

var _ caddy.AdminRouter = (*adminAPI)(nil)
