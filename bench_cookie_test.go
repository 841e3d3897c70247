package wechatauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/session"
)

// BenchmarkAuthenticatedCookie is BenchmarkAuthenticated/memory with the
// browser's wx_session cookie (among two others, which go on) instead of
// the Bearer token: the cookie read, the lookup, the cookie removed from
// the Cookie header passed on. go test -run '^$' -bench 'Authenticated' -benchmem .
func BenchmarkAuthenticatedCookie(b *testing.B) {
	mem, err := session.NewMemory(session.Limits{MaxSessions: 100000})
	if err != nil {
		b.Fatal(err)
	}
	defer mem.Close()
	h := testHandler(b, mem)
	s := session.Session{OpenID: "oBenchUser0000000000000000000", UnionID: "uBenchUnion000000000000000000"}
	token := mem.NewToken(s.OpenID)
	if _, err := mem.Login(context.Background(), token, s, ""); err != nil {
		b.Fatal(err)
	}
	next := nextFunc(func(w http.ResponseWriter, r *http.Request) error {
		if r.Header.Get(HeaderOpenID) == "" || r.Header.Get("Cookie") != "theme=dark; lang=zh" {
			b.Fatalf("upstream got %v", r.Header)
		}
		return nil
	})
	req := httptest.NewRequest(http.MethodGet, "/api/orders", nil)
	w := httptest.NewRecorder()
	cookie := []string{"theme=dark; wx_session=" + token + "; lang=zh"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.Header["Cookie"] = cookie
		if err := h.ServeHTTP(w, req, next); err != nil {
			b.Fatal(err)
		}
	}
}
