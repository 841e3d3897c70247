package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkMemoryPerSession fills a Memory store with a million logins
// of a million distinct users and reports the growth of the process's
// RSS per login: everything /wx/login stores (the session, and the user's
// record: session_keys, generation, live count). "login" is an app with
// an open platform account (openid and unionid), "no_unionid" one
// without, "phone" the same as "login" with a phone bound to every user.
// Run it alone:
//
//	go test -run '^$' -bench MemoryPerSession -benchtime 1x ./internal/session
//
// SESSIONS=n changes the count.
func BenchmarkMemoryPerSession(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SESSIONS")); err == nil && v > 0 {
		n = v
	}
	// the tokens, ids and keys are made up front, outside the measurement
	tokens := make([]string, n)
	keys := make([]string, n)
	openIDs := make([]string, n)
	unionIDs := make([]string, n)
	raw := make([]byte, 32)
	for i := range tokens {
		_, _ = rand.Read(raw)
		tokens[i] = base64.RawURLEncoding.EncodeToString(raw)
		keys[i] = base64.StdEncoding.EncodeToString(raw[:16])
		openIDs[i] = fmt.Sprintf("o%027d", i)
		unionIDs[i] = fmt.Sprintf("u%027d", i)
	}
	for _, c := range []struct {
		name             string
		unionIDs, phones bool
	}{{"login", true, false}, {"no_unionid", false, false}, {"phone", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			ids := unionIDs
			if !c.unionIDs {
				ids = nil
			}
			fill(b, tokens, keys, openIDs, ids, c.phones)
		})
	}
}

func fill(b *testing.B, tokens, keys, openIDs, unionIDs []string, phones bool) {
	ctx := context.Background()
	n := len(tokens)
	for i := 0; i < b.N; i++ {
		before := rss(b)
		m, err := NewMemory(Limits{MaxSessions: int64(n)})
		if err != nil {
			b.Fatal(err)
		}
		empty := rss(b)
		for j, tok := range tokens {
			s := Session{OpenID: openIDs[j]}
			if unionIDs != nil {
				s.UnionID = unionIDs[j]
			}
			if _, err := m.Login(ctx, tok, s, keys[j]); err != nil {
				b.Fatalf("session %d: %v", j, err)
			}
			if phones {
				if err := m.BindPhone(ctx, tok, s.OpenID, "13800138000", "86"); err != nil {
					b.Fatal(err)
				}
			}
		}
		full := rss(b)
		for _, j := range []int{0, n / 2, n - 1} {
			if _, err := m.Get(ctx, tokens[j]); err != nil {
				b.Fatalf("session %d lost: %v", j, err)
			}
		}
		if l, _ := m.Len(); l != int64(n) {
			b.Fatalf("Len = %d after %d logins", l, n)
		}
		b.ReportMetric(float64(full-empty)/float64(n), "B/login")
		b.ReportMetric(float64(empty-before)/(1<<20), "MiB-empty-store")
		runtime.KeepAlive(m)
		m.Close()
	}
}

// BenchmarkMemoryGet is the hot path: Get of a live session that needs
// no renewal, in a store of 100,000 sessions (of as many users) read in
// a scattered order ("one": a single session, all in the CPU's caches).
// Run it with -benchmem:
//
//	go test -run '^$' -bench MemoryGet -benchmem ./internal/session
func BenchmarkMemoryGet(b *testing.B) {
	for _, c := range []struct {
		name  string
		idle  time.Duration
		phone bool
		n     int
	}{{"plain", 0, false, 100_000}, {"phone", 0, true, 100_000}, {"idle", time.Hour, true, 100_000}, {"one", 0, true, 1}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			m, err := NewMemory(Limits{MaxSessions: 200_000, IdleTimeout: c.idle})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			n := c.n
			tokens := make([]string, n)
			for i := range tokens {
				tokens[i] = m.NewToken("")
				s := Session{OpenID: fmt.Sprintf("o%027d", i), UnionID: fmt.Sprintf("u%027d", i)}
				if _, err := m.Login(ctx, tokens[i], s, k1); err != nil {
					b.Fatal(err)
				}
				if c.phone {
					if err := m.BindPhone(ctx, tokens[i], s.OpenID, "13800138000", "86"); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					s, err := m.Get(ctx, tokens[i%n])
					if err != nil || s.OpenID == "" {
						b.Fatal(err)
					}
					i += 7919
				}
			})
		})
	}
}

// rss returns the resident set size after a full GC that returns freed
// memory to the OS.
func rss(b *testing.B) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Skip("no /proc/self/statm")
	}
	f := strings.Fields(string(raw))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// BenchmarkMemorySweep is the sweep (every sessionSweep) of a store of
// 200,000 live sessions that finds nothing to remove: its cost per pass,
// and per session (ns/session).
func BenchmarkMemorySweep(b *testing.B) {
	const n = 200_000
	ctx := context.Background()
	m, err := NewMemory(Limits{MaxSessions: n})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	for i := 0; i < n; i++ {
		s := Session{OpenID: fmt.Sprintf("o%027d", i), UnionID: fmt.Sprintf("u%027d", i)}
		if _, err := m.Login(ctx, m.NewToken(""), s, k1); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got := m.sweep(); got != 0 {
			b.Fatalf("the sweep removed %d live sessions", got)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/session")
}
