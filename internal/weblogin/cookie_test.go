package weblogin

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
)

func TestCookies(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *http.Cookie
		want string
	}{
		{"session over HTTP", SessionCookie("tok", false, 0),
			"wx_session=tok; Path=/; HttpOnly; SameSite=Lax"},
		{"session over HTTPS", SessionCookie("tok", true, 0),
			"wx_session=tok; Path=/; HttpOnly; Secure; SameSite=Lax"},
		{"session with a lifetime", SessionCookie("tok", true, 90*time.Minute+time.Millisecond),
			"wx_session=tok; Path=/; Max-Age=5401; HttpOnly; Secure; SameSite=Lax"},
		{"session cleared", ClearSessionCookie(false),
			"wx_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"},
		{"session cleared over HTTPS", ClearSessionCookie(true),
			"wx_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"},
		{"state", StateCookie("b1", false, 10*time.Minute),
			"wx_state=b1; Path=/wx/web/; Max-Age=600; HttpOnly; SameSite=Lax"},
		{"state over HTTPS", StateCookie("b1", true, 10*time.Minute),
			"wx_state=b1; Path=/wx/web/; Max-Age=600; HttpOnly; Secure; SameSite=Lax"},
		{"state with no lifetime: the default", StateCookie("b1", false, 0),
			"wx_state=b1; Path=/wx/web/; Max-Age=600; HttpOnly; SameSite=Lax"},
		{"state, under a second", StateCookie("b1", false, time.Millisecond),
			"wx_state=b1; Path=/wx/web/; Max-Age=1; HttpOnly; SameSite=Lax"},
		{"state cleared", ClearStateCookie(true),
			"wx_state=; Path=/wx/web/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.name, got, tc.want)
		}
	}
}

func TestBrowserID(t *testing.T) {
	for _, tc := range []struct {
		cookie string
		want   string
		ok     bool
	}{
		{"", "", false},
		{"wx_state=abc123", "abc123", true},
		{"a=1; wx_state=abc123; b=2", "abc123", true},
		{"wx_state=bad-id", "", false},
		{"wx_state=bad-id; wx_state=good1", "good1", true},
		{"wx_state=", "", false},
	} {
		r := httptest.NewRequest("GET", "/wx/web/callback", nil)
		if tc.cookie != "" {
			r.Header.Set("Cookie", tc.cookie)
		}
		if got, ok := BrowserID(r); got != tc.want || ok != tc.ok {
			t.Errorf("BrowserID(Cookie: %q) = %q, %v; want %q, %v", tc.cookie, got, ok, tc.want, tc.ok)
		}
	}
}

func TestStripCookie(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string // Cookie lines
		want []string // nil: no Cookie header left
	}{
		{"no header", nil, nil},
		{"only it", []string{"wx_session=tok"}, nil},
		{"first", []string{"wx_session=tok; a=1; b=2"}, []string{"a=1; b=2"}},
		{"middle", []string{"a=1; wx_session=tok; b=2"}, []string{"a=1; b=2"}},
		{"last", []string{"a=1; b=2; wx_session=tok"}, []string{"a=1; b=2"}},
		{"twice", []string{"wx_session=x; a=1; wx_session=y"}, []string{"a=1"}},
		{"others byte for byte", []string{`a="q v";wx_session=tok;  b=x=y;c`},
			[]string{`a="q v";  b=x=y;c`}},
		{"absent: untouched", []string{"a=1;  b=2 ;c=3"}, []string{"a=1;  b=2 ;c=3"}},
		{"a similar name stays", []string{"wx_session2=a; xwx_session=b; WX_SESSION=c"},
			[]string{"wx_session2=a; xwx_session=b; WX_SESSION=c"}},
		{"no value", []string{"a=1; wx_session; b=2"}, []string{"a=1; b=2"}},
		{"spaces around the name", []string{"a=1;   wx_session =tok"}, []string{"a=1"}},
		{"several lines (HTTP/2)", []string{"a=1", "wx_session=tok", "b=2; wx_session=tok"},
			[]string{"a=1", "b=2"}},
	} {
		h := http.Header{}
		for _, l := range tc.in {
			h.Add("Cookie", l)
		}
		h.Set("X-Other", "kept")
		StripCookie(h, SessionCookieName)
		if got := h.Values("Cookie"); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s: StripCookie(%q) left %q, want %q", tc.name, tc.in, got, tc.want)
		}
		if _, present := h["Cookie"]; present && tc.want == nil {
			t.Errorf("%s: an empty Cookie header is left", tc.name)
		}
		if h.Get("X-Other") != "kept" {
			t.Errorf("%s: another header changed", tc.name)
		}
	}
}
