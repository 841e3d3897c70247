package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// onceKind is a store of one-time records, with a way to age its records
// (expire them without waiting).
type onceKind struct {
	store   OnceStore
	advance func(time.Duration)
}

// onceKinds makes each kind of OnceStore, fresh.
var onceKinds = map[string]func(t *testing.T) onceKind{
	"memory": func(t *testing.T) onceKind {
		clock := newTestClock()
		return onceKind{NewMemoryOnce(0, clock.now), clock.advance}
	},
	"redis": func(t *testing.T) onceKind {
		srv := testredis.Start(t)
		r := newRedisStore(t, srv.URL(), Limits{})
		// Redis expires keys on its own clock: aging them is shortening
		// their TTLs.
		return onceKind{r, func(d time.Duration) { advanceRedisOnce(t, srv, d) }}
	},
}

func eachOnce(t *testing.T, f func(t *testing.T, k onceKind)) {
	names := make([]string, 0, len(onceKinds))
	for n := range onceKinds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Run(n, func(t *testing.T) { f(t, onceKinds[n](t)) })
	}
}

type testClock struct{ at atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.at.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}
func (c *testClock) now() time.Time          { return time.Unix(0, c.at.Load()) }
func (c *testClock) advance(d time.Duration) { c.at.Add(int64(d)) }

// advanceRedisOnce ages every one-time record of the server by d: each
// key's PTTL shrinks by d (a key left with none is deleted, as Redis
// would have expired it).
func advanceRedisOnce(t *testing.T, srv *testredis.Server, d time.Duration) {
	t.Helper()
	keys, _ := srv.MustDo("KEYS", "wxauth:*:o:*").([]any)
	for _, k := range keys {
		name := k.(string)
		left := srv.MustDo("PTTL", name).(int64) - d.Milliseconds()
		if left <= 0 {
			srv.MustDo("DEL", name)
		} else {
			srv.MustDo("PEXPIRE", name, fmt.Sprint(left))
		}
	}
}

func TestOnceTakeIsSingleUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachOnce(t, func(t *testing.T, k onceKind) {
		st := k.store
		val := []byte("next=/orders\x00browser=b1\xff") // binary-safe
		if err := st.PutOnce(ctx, "state", "s1", val, time.Minute); err != nil {
			t.Fatal(err)
		}
		// the same key of another kind is another record
		if err := st.PutOnce(ctx, "ticket", "s1", []byte("t"), time.Minute); err != nil {
			t.Fatal(err)
		}
		got, err := st.TakeOnce(ctx, "state", "s1")
		if err != nil || !bytes.Equal(got, val) {
			t.Fatalf("TakeOnce = %q, %v; want %q", got, err, val)
		}
		if got, err := st.TakeOnce(ctx, "state", "s1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second TakeOnce = %q, %v; want ErrNotFound", got, err)
		}
		if got, err := st.TakeOnce(ctx, "ticket", "s1"); err != nil || string(got) != "t" {
			t.Fatalf("TakeOnce of the other kind = %q, %v", got, err)
		}
		if _, err := st.TakeOnce(ctx, "state", "never-put"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("TakeOnce of a key never put: %v; want ErrNotFound", err)
		}
		// an empty value is a value
		if err := st.PutOnce(ctx, "state", "empty", nil, time.Minute); err != nil {
			t.Fatal(err)
		}
		if got, err := st.TakeOnce(ctx, "state", "empty"); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("TakeOnce of an empty value = %#v, %v", got, err)
		}
	})
}

func TestOnceExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachOnce(t, func(t *testing.T, k onceKind) {
		st := k.store
		for _, key := range []string{"short", "long"} {
			ttl := time.Minute
			if key == "long" {
				ttl = 10 * time.Minute
			}
			if err := st.PutOnce(ctx, "state", key, []byte(key), ttl); err != nil {
				t.Fatal(err)
			}
		}
		k.advance(time.Minute + time.Second)
		if _, err := st.TakeOnce(ctx, "state", "short"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("TakeOnce after its TTL: %v; want ErrNotFound", err)
		}
		if got, err := st.TakeOnce(ctx, "state", "long"); err != nil || string(got) != "long" {
			t.Fatalf("TakeOnce within its TTL = %q, %v", got, err)
		}
	})
}

func TestOnceRefusesALiveKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachOnce(t, func(t *testing.T, k onceKind) {
		st := k.store
		if err := st.PutOnce(ctx, "ticket", "t1", []byte("first"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := st.PutOnce(ctx, "ticket", "t1", []byte("second"), time.Minute); !errors.Is(err, ErrOnceExists) {
			t.Fatalf("PutOnce over a live record: %v; want ErrOnceExists", err)
		}
		if got, _ := st.TakeOnce(ctx, "ticket", "t1"); string(got) != "first" {
			t.Fatalf("the record was replaced: %q", got)
		}
		// once taken (or expired), the key may be used again
		if err := st.PutOnce(ctx, "ticket", "t1", []byte("third"), time.Minute); err != nil {
			t.Fatal(err)
		}
		k.advance(2 * time.Minute)
		if err := st.PutOnce(ctx, "ticket", "t1", []byte("fourth"), time.Minute); err != nil {
			t.Fatalf("PutOnce over an expired record: %v", err)
		}
	})
}

func TestOnceBadArguments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachOnce(t, func(t *testing.T, k onceKind) {
		st := k.store
		for _, tc := range []struct {
			kind, key string
			value     []byte
			ttl       time.Duration
			want      string
		}{
			{"", "k", nil, time.Minute, "kind"},
			{"St-ate", "k", nil, time.Minute, "kind"},
			{strings.Repeat("a", 33), "k", nil, time.Minute, "kind"},
			{"state", "", nil, time.Minute, "key"},
			{"state", strings.Repeat("k", MaxOnceKeyLen+1), nil, time.Minute, "key"},
			{"state", "k", make([]byte, MaxOnceValueLen+1), time.Minute, "value"},
			{"state", "k", nil, 0, "TTL"},
			{"state", "k", nil, time.Microsecond, "TTL"},
		} {
			err := st.PutOnce(ctx, tc.kind, tc.key, tc.value, tc.ttl)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("PutOnce(%q, %d-byte key, %d-byte value, %v) = %v; want an error naming the %s",
					tc.kind, len(tc.key), len(tc.value), tc.ttl, err, tc.want)
			}
			if _, err := st.TakeOnce(ctx, tc.kind, tc.key); !errors.Is(err, ErrNotFound) {
				t.Errorf("TakeOnce(%q, %d-byte key) = %v; want ErrNotFound", tc.kind, len(tc.key), err)
			}
		}
	})
}

// Of many concurrent takers of one record, exactly one gets it.
func TestOnceConcurrentTakers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachOnce(t, func(t *testing.T, k onceKind) {
		st := k.store
		for round := 0; round < 20; round++ {
			key := fmt.Sprint("race", round)
			if err := st.PutOnce(ctx, "ticket", key, []byte("v"), time.Minute); err != nil {
				t.Fatal(err)
			}
			var won atomic.Int32
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := st.TakeOnce(ctx, "ticket", key); err == nil {
						won.Add(1)
					} else if !errors.Is(err, ErrNotFound) {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if won.Load() != 1 {
				t.Fatalf("round %d: %d takers got the record", round, won.Load())
			}
		}
	})
}

func TestMemoryOnceIsBounded(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	m := NewMemoryOnce(3, clock.now)
	put := func(key string, ttl time.Duration) {
		t.Helper()
		if err := m.PutOnce(ctx, "state", key, []byte(key), ttl); err != nil {
			t.Fatal(err)
		}
	}
	put("a", time.Minute)
	put("b", time.Hour)
	put("c", time.Hour)
	put("d", time.Hour) // full: a, the oldest, goes
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
	if _, err := m.TakeOnce(ctx, "state", "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the oldest record survived a full store: %v", err)
	}
	for _, k := range []string{"b", "c", "d"} {
		if got, err := m.TakeOnce(ctx, "state", k); err != nil || string(got) != k {
			t.Fatalf("TakeOnce(%s) = %q, %v", k, got, err)
		}
	}
	// expired records at the old end leave at the next put
	put("e", time.Minute)
	put("f", time.Minute)
	clock.advance(2 * time.Minute)
	put("g", time.Hour)
	if m.Len() != 1 {
		t.Fatalf("Len = %d after the expired records' TTL, want 1", m.Len())
	}
}

// The record's key is not in Redis in clear, nor its value, and its TTL is
// the one asked for.
func TestRedisOnceKeepsNothingInClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	r := newRedisStore(t, srv.URL(), Limits{})
	if err := r.PutOnce(ctx, "ticket", "SECRETTICKET", []byte("openid=oSECRET"), 90*time.Second); err != nil {
		t.Fatal(err)
	}
	keys := srv.MustDo("KEYS", "*").([]any)
	if len(keys) != 1 {
		t.Fatalf("keys: %v", keys)
	}
	name := keys[0].(string)
	if !strings.HasPrefix(name, "wxauth:{wxapp:") || !strings.Contains(name, "}:o:ticket:") || strings.Contains(name, "SECRET") {
		t.Fatalf("key name %q", name)
	}
	if v := srv.MustDo("GET", name).(string); strings.Contains(v, "SECRET") {
		t.Fatalf("value in clear: %q", v)
	}
	if ms := srv.MustDo("PTTL", name).(int64); ms <= 85_000 || ms > 90_000 {
		t.Fatalf("PTTL %d ms, want about 90 s", ms)
	}
	// a store with another key secret does not find it
	other := newRedisStore(t, srv.URL(), Limits{}, func(o *RedisOptions) { o.KeySecret = "other-secret" })
	if _, err := other.TakeOnce(ctx, "ticket", "SECRETTICKET"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TakeOnce with another secret: %v", err)
	}
	// a value copied under another record's name does not open there
	if err := r.PutOnce(ctx, "ticket", "OTHER", []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.MustDo("SET", r.keys.onceKey("ticket", "OTHER"), srv.MustDo("GET", name).(string))
	if _, err := r.TakeOnce(ctx, "ticket", "OTHER"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a value copied under another key opened: %v", err)
	}
	if got, err := r.TakeOnce(ctx, "ticket", "SECRETTICKET"); err != nil || string(got) != "openid=oSECRET" {
		t.Fatalf("TakeOnce = %q, %v", got, err)
	}
}

// Redis down: ErrUnavailable, not ErrNotFound (a login must not read an
// outage as a forged state).
func TestRedisOnceUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	r := newRedisStore(t, srv.URL(), Limits{}, func(o *RedisOptions) { o.Timeout = 300 * time.Millisecond })
	if err := r.PutOnce(ctx, "state", "s", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := r.PutOnce(ctx, "state", "s2", []byte("v"), time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("PutOnce with Redis down: %v", err)
	}
	if _, err := r.TakeOnce(ctx, "state", "s"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("TakeOnce with Redis down: %v", err)
	}
}

// In a Cluster the records spread over the nodes, and a record put
// through one store is taken through another, once.
func TestRedisOnceCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := testredis.StartCluster(t, 3)
	a := newRedisStore(t, cl.URL(), Limits{})
	b := newRedisStore(t, cl.URL(), Limits{})
	if c, err := a.ready(); err != nil || c.Mode() != rueidis.ClientModeCluster {
		t.Fatalf("not in Cluster mode: %v", err)
	}
	for i := 0; i < 30; i++ {
		if err := a.PutOnce(ctx, "state", fmt.Sprint("s", i), []byte(fmt.Sprint(i)), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	spread := 0
	for _, n := range cl.Nodes {
		if n.MustDo("DBSIZE").(int64) > 0 {
			spread++
		}
	}
	if spread < 2 {
		t.Fatalf("30 records are on %d of 3 nodes", spread)
	}
	for i := 0; i < 30; i++ {
		key := fmt.Sprint("s", i)
		if got, err := b.TakeOnce(ctx, "state", key); err != nil || string(got) != fmt.Sprint(i) {
			t.Fatalf("TakeOnce(%s) through another store = %q, %v", key, got, err)
		}
		if _, err := a.TakeOnce(ctx, "state", key); !errors.Is(err, ErrNotFound) {
			t.Fatalf("TakeOnce(%s) again: %v", key, err)
		}
	}
}

func TestOnceFor(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	r := newRedisStore(t, srv.URL(), Limits{})
	if OnceFor(r) != OnceStore(r) {
		t.Fatal("OnceFor(a Redis store) is not the store")
	}
	m := newTestMemory(t, Limits{})
	if _, ok := OnceFor(m).(*MemoryOnce); !ok {
		t.Fatalf("OnceFor(a Memory store) = %T", OnceFor(m))
	}
}

// Through Sentinels: a record put on the primary is taken once, by
// another store found through the same Sentinels.
func TestRedisOnceSentinel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := testredis.StartSentinel(t)
	a := newRedisStore(t, sent.URL(), Limits{})
	b := newRedisStore(t, sent.URL(), Limits{})
	if c, err := a.ready(); err != nil || c.Mode() != rueidis.ClientModeSentinel {
		t.Fatalf("not in Sentinel mode: %v", err)
	}
	if err := a.PutOnce(ctx, "ticket", "t", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := b.TakeOnce(ctx, "ticket", "t"); err != nil || string(got) != "v" {
		t.Fatalf("TakeOnce through another store = %q, %v", got, err)
	}
	if _, err := a.TakeOnce(ctx, "ticket", "t"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TakeOnce again: %v", err)
	}
}
