package fakedouyin

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// logID is a log_id in the real format: the time to the second and hex.
func (s *Server) logID() string {
	return s.Now().Format("20060102150405") + strings.ToUpper(hex.EncodeToString(fakekit.RandomBytes(9)))
}

// readBody decodes a JSON request body into v: Douyin's APIs take JSON
// only, so a form body, a query or no body at all does not fit.
func readBody(r *http.Request, v any) bool {
	if r.Method != http.MethodPost {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	return err == nil && json.Unmarshal(b, v) == nil
}

// answer writes a Douyin answer: always HTTP 200.
func answer(w http.ResponseWriter, v any) { fakekit.WriteJSON(w, http.StatusOK, v) }

// credentials are the app fields of a mini-app API's JSON body.
type credentials struct {
	AppID  string `json:"appid"`
	Secret string `json:"secret"`
}

// readApp decodes a mini-app API's JSON body into req (whose credentials
// are c) and checks the app: the app, or the err_no and err_tips to answer
// (40014 a body that is not JSON, 40015 bad appid, 40017 bad secret).
func (s *Server) readApp(r *http.Request, req any, c *credentials) (App, int, string) {
	if !readBody(r, req) {
		return App{}, 40014, "bad params"
	}
	app, known := s.apps[c.AppID]
	switch {
	case !known:
		return App{}, 40015, "bad appid"
	case c.Secret != app.Secret:
		return App{}, 40017, "bad secret"
	}
	return app, 0, ""
}
