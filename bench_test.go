package wechatauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// BenchmarkAuthenticated measures the hot path of every proxied request:
// strip client X-WX-* headers, check the bearer token in the store, set
// the identity headers, call the next handler. One sub-benchmark per
// store (memory_idle: with idle_timeout 30m; redis: a hot token in the
// near cache). go test -run '^$' -bench Authenticated -benchmem .
func BenchmarkAuthenticated(b *testing.B) {
	mem, err := session.NewMemory(session.Limits{MaxSessions: 100000})
	if err != nil {
		b.Fatal(err)
	}
	defer mem.Close()
	idle, err := session.NewMemory(session.Limits{MaxSessions: 100000, IdleTimeout: 30 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer idle.Close()
	rd := testredis.Start(b)
	red, err := session.NewRedis(session.RedisOptions{URL: rd.URL(), AppID: fuzzApp, KeySecret: fuzzSecret, Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer red.Close()
	for _, c := range []struct {
		name  string
		store session.Store
	}{{"memory", mem}, {"memory_idle", idle}, {"redis", red}} {
		b.Run(c.name, func(b *testing.B) {
			h := testHandler(b, c.store)
			s := session.Session{OpenID: "oBenchUser0000000000000000000", UnionID: "uBenchUnion000000000000000000"}
			token := storeSession(b, c.store, s)
			if err := c.store.BindPhone(context.Background(), token, s.OpenID, "13800138000", "86"); err != nil {
				b.Fatal(err)
			}
			benchServe(b, h, token, "X-Wx-Openid", HeaderOpenID)
		})
	}
}

// benchServe runs authenticated requests with token through h, each with
// a client's spoof header (for h to strip), and checks that the next
// handler gets every header of want.
func benchServe(b *testing.B, h *Handler, token, spoof string, want ...string) {
	next := nextFunc(func(w http.ResponseWriter, r *http.Request) error {
		for _, name := range want {
			if r.Header.Get(name) == "" {
				b.Fatalf("no %s", name)
			}
		}
		return nil
	})
	req := httptest.NewRequest(http.MethodGet, "/api/orders", nil)
	w := httptest.NewRecorder()
	auth := []string{"Bearer " + token}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.Header["Authorization"] = auth
		req.Header[spoof] = auth
		if err := h.ServeHTTP(w, req, next); err != nil {
			b.Fatal(err)
		}
	}
}

// storeSession logs s in to store directly, as /wx/login would, and
// returns its token.
func storeSession(tb testing.TB, store session.Store, s session.Session) string {
	tb.Helper()
	token := store.NewToken(s.OpenID)
	if _, err := store.Login(context.Background(), token, s, "AAAAAAAAAAAAAAAAAAAAAA=="); err != nil {
		tb.Fatal(err)
	}
	return token
}

type nextFunc func(http.ResponseWriter, *http.Request) error

func (f nextFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) error { return f(w, r) }

// BenchmarkBearerToken: parsing and shape-checking the Authorization header.
func BenchmarkBearerToken(b *testing.B) {
	h := http.Header{"Authorization": {"Bearer " + strings.Repeat("T", session.TokenLen)}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if t, ok := bearerToken(h); !ok || t == "" {
			b.Fatal("no token")
		}
	}
}

// BenchmarkTokenValidation: the token check against the in-memory store
// (parse, ristretto lookup, unpack).
func BenchmarkTokenValidation(b *testing.B) {
	m, err := session.NewMemory(session.Limits{MaxSessions: 1000})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	token := storeSession(b, m, session.Session{OpenID: "oBenchUser0000000000000000000"})
	h := http.Header{"Authorization": {"Bearer " + token}}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, _ := bearerToken(h)
		if _, err := m.Get(ctx, t); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeaderInjection: stripping a client's X-WX-* headers among
// ordinary ones and setting the five identity headers.
func BenchmarkHeaderInjection(b *testing.B) {
	s := session.Session{OpenID: "oBenchUser0000000000000000000", UnionID: "uBenchUnion000000000000000000", Phone: "13800138000", PhoneCountry: "86"}
	base := http.Header{
		"Accept": {"*/*"}, "User-Agent": {"bench"}, "Content-Type": {"application/json"},
		"X-Forwarded-For": {"10.0.0.1"}, "Referer": {"https://servicewechat.com/wx/1/page-frame.html"},
	}
	spoof := []string{"x"}
	h := http.Header{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		clear(h)
		for k, v := range base {
			h[k] = v
		}
		h["X-Wx-Openid"] = spoof
		stripIdentityHeaders(h)
		setIdentityHeaders(h, &s, fuzzApp, "wechat")
	}
	if h.Get(HeaderPhone) != "13800138000" || h.Get(HeaderOpenID) != s.OpenID {
		b.Fatalf("headers %v", h)
	}
}

// BenchmarkAuthenticatedApps: the authenticated path of a block with one
// app and of a block with five (the token of the last: the tag is found
// after four others), each app its own memory store. Issue 22 wants the
// two within 5%. go test -run '^$' -bench AuthenticatedApps -benchmem .
func BenchmarkAuthenticatedApps(b *testing.B) {
	for _, n := range []int{1, 5} {
		b.Run(fmt.Sprintf("apps=%d", n), func(b *testing.B) {
			first, err := session.NewMemory(session.Limits{MaxSessions: 100000})
			if err != nil {
				b.Fatal(err)
			}
			defer first.Close()
			h := testHandler(b, first)
			for i := 1; i < n; i++ {
				store, err := session.NewMemory(session.Limits{MaxSessions: 100000})
				if err != nil {
					b.Fatal(err)
				}
				defer store.Close()
				a := *h.apps[0]
				a.id = fmt.Sprintf("wxbenchapp%06d", i)
				a.tag, a.store = tokenTag(a.id), store
				h.apps = append(h.apps, &a)
			}
			last := h.apps[len(h.apps)-1]
			s := session.Session{OpenID: "oBenchUser0000000000000000000", UnionID: "uBenchUnion000000000000000000"}
			token := last.tagged(last.store.NewToken(s.OpenID))
			if _, err := last.store.Login(context.Background(), token, s, "AAAAAAAAAAAAAAAAAAAAAA=="); err != nil {
				b.Fatal(err)
			}
			benchServe(b, h, token, "X-Wx-Openid", HeaderOpenID, HeaderAppID)
		})
	}
}
