package wechatauth

// The hot path benchmark of X-WX-Assertion (the keyring's own tests, and
// BenchmarkAssertion/sign, are internal/assertion's).

import (
	"context"
	"testing"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/assertion"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// BenchmarkAssertion: the authenticated hot path with assertion on and
// the assertion cached (cached), and the same with assertion off (off).
// go test -run '^$' -bench Assertion -benchmem . ./internal/assertion
func BenchmarkAssertion(b *testing.B) {
	mem, err := session.NewMemory(session.Limits{MaxSessions: 100000})
	if err != nil {
		b.Fatal(err)
	}
	defer mem.Close()
	k := assertion.NewKeyring()
	k.Use(&certmagic.FileStorage{Path: b.TempDir()}, zap.NewNop())
	if err := k.Load(context.Background(), true); err != nil {
		b.Fatal(err)
	}
	s := session.Session{OpenID: "oBenchUser0000000000000000000", UnionID: "uBenchUnion000000000000000000"}
	token := storeSession(b, mem, s)
	if err := mem.BindPhone(context.Background(), token, s.OpenID, "13800138000", "86"); err != nil {
		b.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) {
			h := testHandler(b, mem)
			h.Assertion, h.keys = on, k
			want := []string{HeaderOpenID}
			if on {
				want = append(want, HeaderAssertion)
			}
			benchServe(b, h, token, "X-Wx-Assertion", want...)
		})
	}
}
