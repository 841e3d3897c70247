package fakewx

import (
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// The browser login's test controls, for clients in other languages (see
// the package doc).

// webAppOf returns the browser app named by the request's appid, or
// answers 404.
func (s *Server) webAppOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	appid := r.URL.Query().Get("appid")
	if _, ok := s.web.apps[appid]; !ok {
		writeFakeError(w, http.StatusNotFound, "appid is not a browser app of the fake (Config.WebApps)")
		return "", false
	}
	return appid, true
}

// fakeWebUser serves POST /fake/web_user?appid=&user=<spec>&auto=1:
// SetWebUser (auto: 1 or true; user empty forgets the setting), 204.
func (s *Server) fakeWebUser(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	appid, ok := s.webAppOf(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	auto := q.Get("auto") == "1" || q.Get("auto") == "true"
	if !s.SetWebUser(appid, q.Get("user"), auto) {
		writeFakeError(w, http.StatusBadRequest, "user must be deny or [<outcome>-]<user>, user of [A-Za-z0-9_]")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fakeWebDomains serves POST /fake/web_domains?appid=&domain=<d>&domain=…:
// SetWebDomains (no domain: the defaults), 204.
func (s *Server) fakeWebDomains(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	if appid, ok := s.webAppOf(w, r); ok {
		s.SetWebDomains(appid, r.URL.Query()["domain"]...)
		w.WriteHeader(http.StatusNoContent)
	}
}

// fakeWebCode serves POST /fake/web_code?appid=&user=<spec>&scope=:
// MintWebCode, {"code": "..."}.
func (s *Server) fakeWebCode(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	appid, ok := s.webAppOf(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	code, err := s.MintWebCode(appid, q.Get("user"), q.Get("scope"))
	if err != nil {
		writeFakeError(w, http.StatusBadRequest, err.Error())
		return
	}
	fakekit.WriteJSONAs(w, http.StatusOK, "application/json", map[string]string{"code": code})
}
