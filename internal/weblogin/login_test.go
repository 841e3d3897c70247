package weblogin

import (
	"net/http/httptest"
	"testing"
)

func TestLoginRecord(t *testing.T) {
	l := Login{Browser: NewState(), App: "wxweb00000000001", Next: "/orders?id=7"}
	got, ok := DecodeLogin(l.Encode())
	if !ok || got != l {
		t.Fatalf("DecodeLogin(Encode(%+v)) = %+v, %v", l, got, ok)
	}
	// a next that is not local comes back as /, whatever was stored
	bad := Login{Browser: l.Browser, App: l.App, Next: "//evil.example"}
	if got, ok := DecodeLogin(bad.Encode()); !ok || got.Next != "/" {
		t.Fatalf("a stored open redirect: %+v, %v", got, ok)
	}
	for _, b := range []string{
		"", "wl1", "wl1\x00b\x00", "wl2\x00" + l.Browser + "\x00app\x00/",
		"wl1\x00bad-id\x00app\x00/", "wl1\x00" + l.Browser + "\x00\x00/",
	} {
		if got, ok := DecodeLogin([]byte(b)); ok {
			t.Errorf("DecodeLogin(%q) = %+v, true", b, got)
		}
	}
}

func TestLoginFrom(t *testing.T) {
	l := Login{Browser: NewState(), App: "wx1", Next: "/"}
	for _, tc := range []struct {
		cookie string
		want   bool
	}{
		{"", false},
		{"wx_state=" + l.Browser, true},
		{"a=1; wx_state=" + NewState() + "; wx_state=" + l.Browser, true},
		{"wx_state=" + NewState(), false},
		{"wx_state=" + l.Browser[:20], false},
		{"wx_session=" + l.Browser, false},
	} {
		r := httptest.NewRequest("GET", "/wx/web/callback", nil)
		if tc.cookie != "" {
			r.Header.Set("Cookie", tc.cookie)
		}
		if got := l.From(r); got != tc.want {
			t.Errorf("From(Cookie: %q) = %v, want %v", tc.cookie, got, tc.want)
		}
	}
}
