package douyin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// loginAnswer is code2Session v2's answer: the err_no wrapper, and data
// (present with empty strings on errors too).
type loginAnswer struct {
	ErrNo   *int   `json:"err_no"`
	ErrTips string `json:"err_tips"`
	Data    *struct {
		SessionKey string `json:"session_key"`
		OpenID     string `json:"openid"`
		UnionID    string `json:"unionid"`
	} `json:"data"`
}

// Login trades tt.login's code at POST {login host}/api/apps/v2/jscode2session
// (JSON body; anonymous_code sent empty: wechat_auth logs in real users).
func (c *client) Login(ctx context.Context, code string) (platform.Identity, error) {
	if code == "" {
		return platform.Identity{}, c.caller.EmptyCode(EndpointCode2Session)
	}
	body, _ := json.Marshal(map[string]string{
		"appid": c.appID, "secret": c.secret, "code": code, "anonymous_code": "",
	})
	var ans loginAnswer
	if err := c.postJSON(ctx, EndpointCode2Session, c.loginBase, PathCode2Session, nil, body, &ans); err != nil {
		return platform.Identity{}, err
	}
	bad := func(why string) (platform.Identity, error) {
		return platform.Identity{}, c.caller.BadAnswer(EndpointCode2Session, http.StatusOK, errors.New(why))
	}
	switch {
	case ans.ErrNo == nil:
		return bad("answer without err_no")
	case *ans.ErrNo != 0:
		return platform.Identity{}, apiError(EndpointCode2Session, *ans.ErrNo, ans.ErrTips)
	case ans.Data == nil:
		return bad("answer without data")
	}
	p, _ := platform.Lookup(Name)
	d := ans.Data
	return c.caller.CheckIdentity(p, EndpointCode2Session,
		platform.Identity{OpenID: d.OpenID, UnionID: d.UnionID, SessionKey: d.SessionKey}, 16)
}

// postJSON POSTs a JSON body to base+path (with the extra headers) and
// decodes the answer into v; a JSON object that does not fit v is
// KindBadAnswer.
func (c *client) postJSON(ctx context.Context, endpoint, base, path string, header http.Header, body []byte, v any) error {
	return c.caller.Call(ctx, platform.Request{Endpoint: endpoint, Method: http.MethodPost, Base: base, Path: path,
		Body: body, ContentType: "application/json", Header: header}, v)
}
