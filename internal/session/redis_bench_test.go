package session

import (
	"context"
	"fmt"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// BenchmarkRedisGet measures Get against a local redis-server:
//
//	hot           one token, served by the near cache (no round trip)
//	hot_parallel  the same from GOMAXPROCS goroutines
//	cold          1000 tokens through a 1 KB near cache: (nearly) every
//	              Get misses and takes the caching round trip
//	              (PTTL + GET + tracking in one MULTI)
//	no_cache      near_cache=off: a plain round trip (PTTL + GET)
//
//	go test -run '^$' -bench RedisGet -benchmem ./internal/session
func BenchmarkRedisGet(b *testing.B) {
	srv := testredis.Start(b)
	ctx := context.Background()
	tokens := func(st *Redis, n int) []string {
		var toks []string
		for i := 0; i < n; i++ {
			tok, _ := rlogin(b, st, fmt.Sprintf("o-bench%05d", i), skey(i))
			toks = append(toks, tok)
		}
		return toks
	}
	b.Run("hot", func(b *testing.B) {
		st := newRedisStore(b, srv.URL(), Limits{})
		tok := tokens(st, 1)[0]
		cached(b, st, tok)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := st.Get(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hot_parallel", func(b *testing.B) {
		st := newRedisStore(b, srv.URL(), Limits{})
		tok := tokens(st, 1)[0]
		cached(b, st, tok)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := st.Get(ctx, tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("cold", func(b *testing.B) {
		st := newRedisStore(b, srv.URL()+"?near_cache=1KB", Limits{})
		toks := tokens(st, 1000)
		hits := 0
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, hit, err := st.get(ctx, toks[i%len(toks)])
			if err != nil {
				b.Fatal(err)
			}
			if hit {
				hits++
			}
		}
		b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
	})
	b.Run("no_cache", func(b *testing.B) {
		st := newRedisStore(b, srv.URL()+"?near_cache=off", Limits{})
		tok := tokens(st, 1)[0]
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := st.Get(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRedisLogin measures Login (one script round trip).
func BenchmarkRedisLogin(b *testing.B) {
	srv := testredis.Start(b)
	st := newRedisStore(b, srv.URL(), Limits{})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		openID := fmt.Sprintf("o-bench%05d", i%10000)
		if _, err := st.Login(ctx, st.NewToken(openID), Session{OpenID: openID}, skey(i)); err != nil {
			b.Fatal(err)
		}
	}
}
