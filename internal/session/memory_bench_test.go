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
// and reports the growth of the process's RSS per session: "login" is
// what /wx/login stores (a session with openid and unionid, and the
// user's session_key record), "no_unionid" the same for an app without
// an open platform account, "session_only" the session cache alone.
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
	// the tokens are made up front, outside the measurement
	tokens := make([]string, n)
	raw := make([]byte, 32)
	for i := range tokens {
		_, _ = rand.Read(raw)
		tokens[i] = base64.RawURLEncoding.EncodeToString(raw)
	}
	for _, c := range []struct {
		name          string
		unionID, keys bool
	}{{"login", true, true}, {"no_unionid", false, true}, {"session_only", true, false}} {
		b.Run(c.name, func(b *testing.B) { fill(b, tokens, c.unionID, c.keys) })
	}
}

func fill(b *testing.B, tokens []string, withUnionID, withKeys bool) {
	ctx := context.Background()
	n := len(tokens)
	for i := 0; i < b.N; i++ {
		before := rss(b)
		m, err := NewMemory(int64(n))
		if err != nil {
			b.Fatal(err)
		}
		empty := rss(b)
		key := make([]byte, 16)
		for j, tok := range tokens {
			openid := fmt.Sprintf("o%027d", j)
			if withKeys {
				_, _ = rand.Read(key)
				if err := m.PutUserKey(ctx, openid, base64.StdEncoding.EncodeToString(key), time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			s := Session{OpenID: openid}
			if withUnionID {
				s.UnionID = fmt.Sprintf("u%027d", j)
			}
			if err := m.Create(ctx, tok, s, time.Hour); err != nil {
				b.Fatalf("session %d: %v", j, err)
			}
		}
		full := rss(b)
		for _, j := range []int{0, n / 2, n - 1} {
			if _, err := m.Get(ctx, tokens[j]); err != nil {
				b.Fatalf("session %d lost: %v", j, err)
			}
		}
		b.ReportMetric(float64(full-empty)/float64(n), "B/session")
		b.ReportMetric(float64(empty-before)/(1<<20), "MiB-empty-store")
		runtime.KeepAlive(m)
		m.Close()
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
