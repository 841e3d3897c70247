package wechatauth

import (
	"net/http"
	"reflect"
	"testing"
)

func TestDropIdentityFromConnection(t *testing.T) {
	cases := []struct {
		in, want []string // nil want: no Connection header left
	}{
		{[]string{"keep-alive"}, []string{"keep-alive"}},
		{[]string{"keep-alive, X-WX-OpenID"}, []string{"keep-alive"}},
		{[]string{"X-WX-OpenID"}, nil},
		{[]string{"x-wx-openid, X_WX_UNIONID,X.Wx.Phone", "x-WX-phone-country"}, nil},
		{[]string{"keep-alive", "x-wx-openid, Upgrade", " X_wx_phone ,\tX-Custom , "}, []string{"keep-alive", "Upgrade", "X-Custom"}},
		{[]string{"close,X-WX-AppID"}, []string{"close"}},
		{[]string{"X-WXFOO, X-WX"}, []string{"X-WXFOO, X-WX"}}, // not X-WX-*: untouched
		{[]string{"x_wx_"}, nil},
		{[]string{""}, []string{""}},
	}
	for _, c := range cases {
		h := http.Header{"Connection": append([]string(nil), c.in...), "Accept": {"*/*"}}
		dropIdentityFromConnection(h)
		got, ok := h["Connection"]
		if c.want == nil {
			if ok {
				t.Errorf("%q: Connection %q left, want none", c.in, got)
			}
		} else if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: Connection %q, want %q", c.in, got, c.want)
		}
		if h.Get("Accept") != "*/*" {
			t.Errorf("%q: another header was touched", c.in)
		}
	}
	h := http.Header{"Accept": {"*/*"}}
	dropIdentityFromConnection(h)
	if _, ok := h["Connection"]; ok || len(h) != 1 {
		t.Errorf("a request without Connection got %v", h)
	}
}

// BenchmarkConnectionKeepAlive: what an HTTP/1.1 request with an ordinary
// "Connection: keep-alive" pays (nothing to drop: no allocation).
func BenchmarkConnectionKeepAlive(b *testing.B) {
	h := http.Header{"Connection": {"keep-alive"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dropIdentityFromConnection(h)
	}
	if h.Get("Connection") != "keep-alive" {
		b.Fatal("changed")
	}
}
