package fakewx

import (
	"net/http"
	"net/url"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// The browser login's test controls, for clients in other languages (see
// the package doc).

// webControl begins a browser control: a POST (405 otherwise) naming a
// browser app in its appid (404 otherwise). It returns the app and the
// query.
func (s *Server) webControl(w http.ResponseWriter, r *http.Request) (string, url.Values, bool) {
	if !allowMethod(w, r, http.MethodPost) {
		return "", nil, false
	}
	q := r.URL.Query()
	appid := q.Get("appid")
	if _, ok := s.web.apps[appid]; !ok {
		writeFakeError(w, http.StatusNotFound, "appid is not a browser app of the fake (Config.WebApps)")
		return "", nil, false
	}
	return appid, q, true
}

// fakeWebUser serves POST /fake/web_user?appid=&user=<spec>&auto=1:
// SetWebUser (auto: 1 or true; user empty forgets the setting), 204.
func (s *Server) fakeWebUser(w http.ResponseWriter, r *http.Request) {
	appid, q, ok := s.webControl(w, r)
	if !ok {
		return
	}
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
	if appid, q, ok := s.webControl(w, r); ok {
		s.SetWebDomains(appid, q["domain"]...)
		w.WriteHeader(http.StatusNoContent)
	}
}

// fakeWebCode serves POST /fake/web_code?appid=&user=<spec>&scope=:
// MintWebCode, {"code": "..."}.
func (s *Server) fakeWebCode(w http.ResponseWriter, r *http.Request) {
	appid, q, ok := s.webControl(w, r)
	if !ok {
		return
	}
	code, err := s.MintWebCode(appid, q.Get("user"), q.Get("scope"))
	if err != nil {
		writeFakeError(w, http.StatusBadRequest, err.Error())
		return
	}
	fakekit.WriteJSONAs(w, http.StatusOK, "application/json", map[string]string{"code": code})
}
