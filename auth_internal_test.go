package wechatauth

import (
	"net/http"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/session"
)

// The identity headers share one backing array: an append to one (as a
// later handler's Header.Add does) must not overwrite the next.
func TestIdentityHeadersDoNotAlias(t *testing.T) {
	h := http.Header{}
	setIdentityHeaders(h, &session.Session{OpenID: "o", UnionID: "u", Phone: "1", PhoneCountry: "86"}, "a", "wechat")
	h.Add(HeaderOpenID, "added")
	h.Add(HeaderUnionID, "added")
	if got := h.Values(HeaderAppID); len(got) != 1 || got[0] != "a" {
		t.Errorf("appid = %v", got)
	}
	if got := h.Values(HeaderUnionID); len(got) != 2 || got[0] != "u" {
		t.Errorf("unionid = %v", got)
	}
	if got := h.Values(HeaderPhone); len(got) != 1 || got[0] != "1" {
		t.Errorf("phone = %v", got)
	}
}

func TestIsIdentityHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Wx-Openid": true, "x_wx_phone": true, "X.WX.Foo": true, "X-WX-": true, "x-Wx_": true,
		"X-WXFOO": false, "X-W": false, "": false, "Authorization": false, "XX-WX-A": false,
	} {
		if got := isIdentityHeader(name); got != want {
			t.Errorf("isIdentityHeader(%q) = %v, want %v", name, got, want)
		}
	}
}
