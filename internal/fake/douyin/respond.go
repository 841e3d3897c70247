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
// are c) and checks the app: the app, or false once fail answered (40014
// a body that is not JSON, 40015 bad appid, 40017 bad secret).
func (s *Server) readApp(r *http.Request, req any, c *credentials, fail func(int, string)) (App, bool) {
	if !readBody(r, req) {
		fail(40014, "bad params")
		return App{}, false
	}
	app, known := s.apps[c.AppID]
	switch {
	case !known:
		fail(40015, "bad appid")
	case c.Secret != app.Secret:
		fail(40017, "bad secret")
	default:
		return app, true
	}
	return App{}, false
}

// errAnswer is an error answer: its number and message.
type errAnswer struct {
	no  int
	msg string
}

// begin counts a call of endpoint and answers its next forced answer
// (Force), if one is queued: a broken one as fakekit writes it, busy and
// limit with fail and the endpoint's own error answers. It reports whether
// it answered.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, endpoint string, fail func(int, string), busy, limit errAnswer) bool {
	s.Hit(endpoint)
	m, ok := s.Forced(endpoint)
	switch {
	case !ok:
		return false
	case m == fakekit.ModeBusy:
		fail(busy.no, busy.msg)
	case m == fakekit.ModeLimit:
		fail(limit.no, limit.msg)
	default:
		s.Misbehave(w, r, m)
	}
	return true
}

// Douyin's answers: HTTP 200 always, the error number and message beside
// the data.

// loginData is code2Session's data: every field present, "" when absent.
type loginData struct {
	SessionKey      string `json:"session_key"`
	OpenID          string `json:"openid"`
	AnonymousOpenID string `json:"anonymous_openid"`
	UnionID         string `json:"unionid"`
}

type loginAnswer struct {
	ErrNo   int       `json:"err_no"`
	ErrTips string    `json:"err_tips"`
	LogID   string    `json:"log_id"`
	Data    loginData `json:"data"`
}

// phoneAnswer is get_phonenumber_info's answer.
type phoneAnswer struct {
	ErrNo   int    `json:"err_no"`
	ErrMsg  string `json:"err_msg"`
	ErrTips string `json:"err_tips"`
	LogID   string `json:"log_id"`
	Data    string `json:"data"`
}
