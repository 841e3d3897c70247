package session

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// The contract's bound: every Caddy sees a logout or revocation within it.
const invalidationBound = 100 * time.Millisecond

// cached reads tok through a until its near cache answers.
func cached(tb testing.TB, a *Redis, tok string) Session {
	tb.Helper()
	var s Session
	waitFor(tb, 5*time.Second, "a near cache hit", func() bool {
		var hit bool
		var err error
		s, hit, err = a.get(context.Background(), tok)
		if err != nil {
			tb.Fatalf("Get: %v", err)
		}
		return hit
	})
	return s
}

// untilGone reads tok through a until it is gone, failing if a served the
// session from a call that began invalidationBound or more after changed.
// It returns the last session served.
func untilGone(tb testing.TB, a *Redis, tok string, changed time.Time, ok func(Session) bool) {
	tb.Helper()
	for {
		began := time.Now()
		s, hit, err := a.get(context.Background(), tok)
		if err == nil && ok(s) {
			return
		}
		if err == nil && began.Sub(changed) >= invalidationBound {
			tb.Fatalf("%v after the change, the other store still served %+v (near cache hit: %v)", began.Sub(changed), s, hit)
		}
		if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrUnavailable) {
			tb.Fatalf("Get: %v", err)
		}
		if errors.Is(err, ErrNotFound) && ok(Session{}) {
			return
		}
		if time.Since(changed) > 10*time.Second {
			tb.Fatalf("the other store never saw the change")
		}
		time.Sleep(time.Millisecond)
	}
}

func gone(s Session) bool { return s == Session{} }

// Two stores on one Redis (two Caddy instances): what one changes, the
// other sees within 100 ms though it has the session in its near cache.
func TestRedisNearCacheInvalidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	a := newRedisStore(t, srv.URL(), Limits{})
	b := newRedisStore(t, srv.URL(), Limits{})
	for _, tc := range []struct {
		name   string
		change func(tok string) error
		seen   func(Session) bool
	}{
		{"Delete", func(tok string) error { return b.Delete(ctx, tok) }, gone},
		{"RevokeUser", func(string) error { _, err := b.RevokeUser(ctx, "o-alice", false); return err }, gone},
		{"RevokeUser forget", func(string) error { _, err := b.RevokeUser(ctx, "o-alice", true); return err }, gone},
		{"BindPhone", func(tok string) error { return b.BindPhone(ctx, tok, "o-alice", "13800138000", "86") },
			func(s Session) bool { return s.Phone == "13800138000" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, _ := rlogin(t, b, "o-alice", skey(1))
			if s := cached(t, a, tok); s.OpenID != "o-alice" || s.Phone != "" {
				t.Fatalf("cached: %+v", s)
			}
			if err := tc.change(tok); err != nil {
				t.Fatal(err)
			}
			changed := time.Now()
			untilGone(t, a, tok, changed, tc.seen)
			t.Logf("seen after %v", time.Since(changed))
			if tc.name == "BindPhone" {
				// and it is cached again, with the phone
				if s := cached(t, a, tok); s.Phone != "13800138000" {
					t.Fatalf("cached again: %+v", s)
				}
			}
		})
	}
	t.Run("expiry", func(t *testing.T) {
		const ttl = time.Second
		b.SetLimits(Limits{SessionTTL: ttl})
		defer b.SetLimits(Limits{})
		tok, _ := rlogin(t, b, "o-alice", skey(1))
		loggedIn := time.Now()
		cached(t, a, tok)
		time.Sleep(time.Until(loggedIn.Add(ttl)))
		// the cache entry ends with the key's TTL
		untilGone(t, a, tok, loggedIn.Add(ttl), gone)
	})
}

// A link that dies silently (no FIN, no RST: no error anywhere) while
// another Caddy logs the user out: the near cache stops answering once the
// heartbeat cannot prove the link current, so the revoked session is
// never served past the bound; the store reports the outage and recovers.
func TestRedisNearCacheStaleLinkNotServed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	proxy := testredis.StartProxy(t, srv.Addr())
	var log stateLog
	a := newRedisStore(t, fmt.Sprintf("redis://%s", proxy.Addr()), Limits{}, func(o *RedisOptions) {
		o.Timeout = 500 * time.Millisecond
		o.OnStateChange = log.hook
	})
	b := newRedisStore(t, srv.URL(), Limits{})
	tok, _ := rlogin(t, b, "o-alice", skey(1))
	cached(t, a, tok)

	proxy.Freeze()
	if err := b.Delete(ctx, tok); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	// for a second, a may answer ErrUnavailable or ErrNotFound, never the
	// session past the bound
	for time.Since(changed) < time.Second {
		began := time.Now()
		s, hit, err := a.get(ctx, tok)
		if err == nil && began.Sub(changed) >= invalidationBound {
			t.Fatalf("%v after the logout, over a dead link, served %+v (near cache hit: %v)", began.Sub(changed), s, hit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitFor(t, 5*time.Second, "OnStateChange(down)", func() bool { ev, _ := log.get(); return len(ev) == 1 })
	proxy.Thaw()
	waitFor(t, 10*time.Second, "OnStateChange(up)", func() bool { ev, _ := log.get(); return fmt.Sprint(ev) == "[down up]" })
	wantNotFound(t, a, tok, "after the link came back")
}

// The near cache is bounded: far more sessions than it holds are read,
// and every one of them is still served right.
func TestRedisNearCacheBounded(t *testing.T) {
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL()+"?near_cache=16KB", Limits{})
	var toks []string
	for i := 0; i < 300; i++ {
		tok, _ := rlogin(t, st, fmt.Sprintf("o-user%03d", i), skey(i))
		toks = append(toks, tok)
	}
	hits := 0
	for round := 0; round < 2; round++ {
		for i, tok := range toks {
			s, hit, err := st.get(context.Background(), tok)
			if err != nil || s.OpenID != fmt.Sprintf("o-user%03d", i) {
				t.Fatalf("Get %d: %+v %v", i, s, err)
			}
			if hit {
				hits++
			}
		}
	}
	// 16 KB holds a few dozen sessions, not 300: most second reads miss
	if hits > 150 {
		t.Errorf("%d of 300 second reads hit a 16 KB near cache", hits)
	}
	off := newRedisStore(t, srv.URL()+"?near_cache=off", Limits{})
	for i := 0; i < 3; i++ {
		if _, hit, err := off.get(context.Background(), toks[0]); err != nil || hit {
			t.Fatalf("near_cache=off: hit %v, %v", hit, err)
		}
	}
}

// What a store changes itself, it sees at once: a logout is final for
// the very next request on the same Caddy, near cache or not.
func TestRedisNearCacheOwnWritesSeenAtOnce(t *testing.T) {
	ctx := context.Background()
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{})
	for i := 0; i < 200; i++ {
		tok, _ := rlogin(t, st, "o-alice", skey(1))
		cached(t, st, tok)
		if err := st.BindPhone(ctx, tok, "o-alice", "13800138000", "86"); err != nil {
			t.Fatal(err)
		}
		if s := rmustGet(t, st, tok); s.Phone != "13800138000" {
			t.Fatalf("round %d: right after BindPhone: %+v", i, s)
		}
		cached(t, st, tok)
		if i%2 == 0 {
			if err := st.Delete(ctx, tok); err != nil {
				t.Fatal(err)
			}
		} else if _, err := st.RevokeUser(ctx, "o-alice", false); err != nil {
			t.Fatal(err)
		}
		wantNotFound(t, st, tok, fmt.Sprintf("round %d: right after the logout", i))
	}
}

// A Redis without RESP3 (older than 6, or a proxy): no near cache, every
// Get a round trip, all the rest the same.
func TestRedisWithoutRESP3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.StartWith(t, testredis.Options{Args: []string{"--rename-command", "HELLO", ""}})
	a := newRedisStore(t, srv.URL(), Limits{})
	b := newRedisStore(t, srv.URL(), Limits{})
	if a.cache.Load() {
		t.Fatal("near cache on without RESP3")
	}
	tok, _ := rlogin(t, a, "o-alice", skey(1))
	for i := 0; i < 3; i++ {
		if _, hit, err := b.get(ctx, tok); err != nil || hit {
			t.Fatalf("Get: hit %v, %v", hit, err)
		}
	}
	if err := a.BindPhone(ctx, tok, "o-alice", "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	if s := rmustGet(t, b, tok); s.Phone != "13800138000" {
		t.Fatalf("%+v", s)
	}
	if n, err := a.RevokeUser(ctx, "o-alice", false); n != 1 || err != nil {
		t.Fatalf("RevokeUser = %d, %v", n, err)
	}
	wantNotFound(t, b, tok, "revoked")
}
