package fakewx

import (
	"bytes"
	"net/url"
	"testing"
)

func TestMsgSecCheck(t *testing.T) {
	f := newFixture(t, 0)
	tok := f.stableToken(false).str("access_token")
	call := func(token string, body any) answer {
		t.Helper()
		return f.do("POST", "/wxa/msg_sec_check?access_token="+url.QueryEscape(token), body)
	}

	// version 1: 87014 for risky content
	if a := call(tok, map[string]any{"content": "hello"}); a.errcode() != 0 || a.str("errmsg") != "ok" {
		t.Errorf("v1 pass: %s", a.body)
	}
	wantErrcode(t, call(tok, map[string]any{"content": "very RISKY text"}), 87014)

	// version 2: errcode 0 and a verdict
	v2 := func(content string) string {
		t.Helper()
		a := call(tok, map[string]any{"content": content, "version": 2, "scene": 2, "openid": "oUser"})
		if a.errcode() != 0 || a.str("trace_id") == "" {
			t.Fatalf("v2: %s", a.body)
		}
		return a.m["result"].(map[string]any)["suggest"].(string)
	}
	if got := v2("hello"); got != "pass" {
		t.Errorf("v2 hello: %s", got)
	}
	if got := v2("来赌博吧"); got != "risky" {
		t.Errorf("v2 risky: %s", got)
	}
	wantErrcode(t, call(tok, map[string]any{"content": "x", "version": 2, "scene": 2}), 40003)
	wantErrcode(t, call(tok, map[string]any{"content": "x", "version": 2, "scene": 9, "openid": "o"}), 40097)
	wantErrcode(t, call(tok, "not json"), 47001)
	wantErrcode(t, call(tok, map[string]any{"content": ""}), 47001)
	wantErrcode(t, f.do("GET", "/wxa/msg_sec_check?access_token="+tok, nil), 43002)

	// tokens: none, unknown, expired, and fine again after a new one
	wantErrcode(t, f.do("POST", "/wxa/msg_sec_check", map[string]any{"content": "x"}), 41001)
	wantErrcode(t, call("", map[string]any{"content": "x"}), 41001)
	wantErrcode(t, call("forged", map[string]any{"content": "x"}), 40001)
	f.wx.ExpireToken(testApp)
	wantErrcode(t, call(tok, map[string]any{"content": "x"}), 42001)
	tok2 := f.stableToken(false).str("access_token")
	if tok2 == tok {
		t.Fatal("no new token after expiry")
	}
	if a := call(tok2, map[string]any{"content": "x"}); a.errcode() != 0 {
		t.Errorf("new token: %s", a.body)
	}

	seen := f.wx.LastSeen(EndpointMsgSecCheck)
	if seen.Method != "POST" || seen.RawQuery != "access_token="+url.QueryEscape(tok2) || string(seen.Body) != `{"content":"x"}` {
		t.Errorf("last seen %+v", seen)
	}
	if n := f.wx.Count(EndpointMsgSecCheck); n != 14 {
		t.Errorf("count %d", n)
	}
	if _, ok := f.wx.countsSnapshot()[EndpointMsgSecCheck]; !ok {
		t.Errorf("stats lack %s", EndpointMsgSecCheck)
	}
}

func TestWxaCodeUnlimited(t *testing.T) {
	f := newFixture(t, 0)
	tok := f.stableToken(false).str("access_token")
	call := func(body any) answer {
		t.Helper()
		return f.do("POST", "/wxa/getwxacodeunlimit?access_token="+url.QueryEscape(tok), body)
	}
	a := call(map[string]any{"scene": "id=42", "page": "pages/index/index"})
	want := WxaCode(testApp, "id=42", "pages/index/index", 0)
	if a.status != 200 || a.ctype != "image/jpeg" || a.body != string(want) {
		t.Fatalf("image: %d %s, %d bytes", a.status, a.ctype, len(a.body))
	}
	if len(want) != 430*430/8 || !bytes.HasPrefix(want, []byte{0xFF, 0xD8}) || !bytes.HasSuffix(want, []byte{0xFF, 0xD9}) {
		t.Errorf("not JPEG-framed, or %d bytes", len(want))
	}
	if big := call(map[string]any{"scene": "a", "width": 5000}); len(big.body) != 1280*1280/8 {
		t.Errorf("widest: %d bytes", len(big.body))
	}
	if bytes.Equal(want, WxaCode(testApp, "id=43", "pages/index/index", 0)) || bytes.Equal(want, WxaCode(otherApp, "id=42", "pages/index/index", 0)) {
		t.Errorf("the image does not depend on the app and the scene")
	}
	wantErrcode(t, call(map[string]any{"scene": ""}), 40169)
	wantErrcode(t, call(map[string]any{"scene": "123456789012345678901234567890123"}), 40169)
	wantErrcode(t, call(map[string]any{"scene": "a", "page": "/pages/x"}), 41030)
	wantErrcode(t, call("nope"), 47001)
	wantErrcode(t, f.do("POST", "/wxa/getwxacodeunlimit", map[string]any{"scene": "a"}), 41001)
	f.wx.ExpireToken(testApp)
	if a := call(map[string]any{"scene": "a"}); a.ctype == "image/jpeg" || a.errcode() != 42001 {
		t.Errorf("expired token: %s %q", a.ctype, a.body)
	}
}
