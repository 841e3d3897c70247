package kuaishou

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// loginAnswer is code2session's answer.
type loginAnswer struct {
	Result     *int            `json:"result"`
	ErrorMsg   string          `json:"error_msg"`
	Error      json.RawMessage `json:"error"` // some answers carry one
	OpenID     string          `json:"open_id"`
	UnionID    string          `json:"union_id"` // documented for mini games only
	SessionKey string          `json:"session_key"`
}

// Login trades ks.login's code at POST {host}/oauth2/mp/code2session
// (form app_id, app_secret, js_code).
//
// Kuaishou documents result 1 for success, and 100200100 (bad parameters)
// and 100200101 (app_id or app_secret rejected) on its token API; the
// values for a wrong, used or expired js_code are not documented. So
// 100200101 is KindConfig, 100200100 KindRefused, and every other result
// KindInvalidCode: the code is the one input a client controls, and
// wechat_auth's own parameters are fixed, so an unknown refusal of a
// well-formed call is most likely the code's. error_msg is kept in Msg.
func (c *client) Login(ctx context.Context, code string) (platform.Identity, error) {
	if code == "" {
		return platform.Identity{}, c.caller.EmptyCode(EndpointCode2Session)
	}
	form := url.Values{"app_id": {c.appID}, "app_secret": {c.secret}, "js_code": {code}}
	var ans loginAnswer
	err := c.caller.Call(ctx, platform.Request{Endpoint: EndpointCode2Session, Method: http.MethodPost, Base: c.base,
		Path: PathCode2Session, Body: []byte(form.Encode()), ContentType: "application/x-www-form-urlencoded"}, &ans)
	switch {
	case err != nil:
		return platform.Identity{}, err
	case ans.Result == nil:
		return platform.Identity{}, c.caller.BadAnswer(EndpointCode2Session, http.StatusOK, errors.New("answer without result"))
	case *ans.Result != ResultOK:
		return platform.Identity{}, loginError(*ans.Result, ans.message())
	}
	p, _ := platform.Lookup(Name)
	return c.caller.CheckIdentity(p, EndpointCode2Session,
		platform.Identity{OpenID: ans.OpenID, UnionID: ans.UnionID, SessionKey: ans.SessionKey}, 16)
}

// message is error_msg, or the error key's text when there is none.
func (a *loginAnswer) message() string {
	if a.ErrorMsg != "" {
		return a.ErrorMsg
	}
	var s string
	if json.Unmarshal(a.Error, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(a.Error))
}

// loginError maps a result other than 1 (see Login).
func loginError(result int, msg string) *platform.Error {
	e := &platform.Error{Platform: Name, Endpoint: EndpointCode2Session, Code: strconv.Itoa(result), Msg: msg}
	switch result {
	case ResultBadAppOrKey:
		e.Kind, e.Action = platform.KindConfig, actionCredentials
	case ResultBadParams:
		e.Kind = platform.KindRefused
	default:
		e.Kind = platform.KindInvalidCode
	}
	return e
}
