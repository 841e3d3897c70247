package session

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// stores returns one of each Store kind, fresh.
func stores(t *testing.T) map[string]Store {
	t.Helper()
	m, err := NewMemory(100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if _, err := exec.LookPath("redis-server"); err != nil {
		// the memory store is still tested; the "redis" subtest skips
		// saying how to install it (or fails if WXAUTH_REQUIRE_TOOLS=1)
		t.Run("redis", func(t *testing.T) { testredis.Start(t) })
		return map[string]Store{"memory": m}
	}
	srv := testredis.Start(t)
	r, err := NewRedis(srv.URL(), "wxapp", "app-secret", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return map[string]Store{"memory": m, "redis": r}
}

func TestStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if err := st.Create(ctx, "tok", Session{OpenID: "o1", UnionID: "u1"}, time.Hour); err != nil {
				t.Fatal(err)
			}
			s, err := st.Get(ctx, "tok")
			if err != nil || s.OpenID != "o1" || s.UnionID != "u1" {
				t.Fatalf("Get = %+v, %v", s, err)
			}
			if m, ok := st.(*Memory); ok && m.Len() != 1 {
				t.Errorf("Len = %d after one Create", m.Len())
			}
			s.Phone, s.PhoneCountry = "13800138000", "86"
			if err := st.Update(ctx, "tok", s); err != nil {
				t.Fatal(err)
			}
			if s2, _ := st.Get(ctx, "tok"); s2 != s {
				t.Errorf("after Update: %+v, want %+v", s2, s)
			}
			if _, err := st.Get(ctx, "other"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(unknown) = %v", err)
			}
			if err := st.Delete(ctx, "tok"); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after Delete: %v", err)
			}
			if m, ok := st.(*Memory); ok && m.Len() != 0 {
				t.Errorf("Len = %d after Delete", m.Len())
			}
			// an update racing a logout must not bring the session back
			if err := st.Update(ctx, "tok", s); !errors.Is(err, ErrNotFound) {
				t.Errorf("Update after Delete: %v", err)
			}
			if m, ok := st.(*Memory); ok {
				m.sessions.Wait()
			}
			if _, err := st.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
				t.Errorf("session came back after Update: %v", err)
			}
			if err := st.Delete(ctx, "never-there"); err != nil {
				t.Errorf("Delete(unknown) = %v", err)
			}
		})
	}
}

func TestStoreTTL(t *testing.T) {
	ctx := context.Background()
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if err := st.Create(ctx, "short", Session{OpenID: "o1"}, time.Second); err != nil {
				t.Fatal(err)
			}
			s, _ := st.Get(ctx, "short")
			s.Phone = "1"
			if err := st.Update(ctx, "short", s); err != nil { // keeps the TTL
				t.Fatal(err)
			}
			time.Sleep(1200 * time.Millisecond)
			if _, err := st.Get(ctx, "short"); !errors.Is(err, ErrNotFound) {
				t.Errorf("expired session still there: %v", err)
			}
		})
	}
}

// session_keys as WeChat hands them out: base64 of 16 bytes.
const (
	k1 = "MTExMTExMTExMTExMTExMQ=="
	k2 = "MjIyMjIyMjIyMjIyMjIyMg=="
	k3 = "MzMzMzMzMzMzMzMzMzMzMw=="
)

func TestStoreUserKeysRotate(t *testing.T) {
	ctx := context.Background()
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if _, _, err := st.UserKeys(ctx, "o1"); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown user: %v", err)
			}
			if err := st.PutUserKey(ctx, "o1", k1, time.Hour); err != nil {
				t.Fatal(err)
			}
			if n, p, _ := st.UserKeys(ctx, "o1"); n != k1 || p != "" {
				t.Errorf("after one key: %q %q", n, p)
			}
			for _, k := range []string{k2, k3} {
				if err := st.PutUserKey(ctx, "o1", k, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			newest, prev, err := st.UserKeys(ctx, "o1")
			if err != nil || newest != k3 || prev != k2 {
				t.Errorf("UserKeys = %q, %q, %v; want k3, k2", newest, prev, err)
			}
		})
	}
}

// What lands in Redis: keys namespaced by app, no token and no
// session_key in clear anywhere, TTLs set by Redis.
func TestRedisHoldsNoSecretInClear(t *testing.T) {
	ctx := context.Background()
	srv := testredis.Start(t)
	st, err := NewRedis(srv.URL(), "wxapp", "app-secret", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const token, sessionKey = "TOKEN-abcdefghijklmnopqrstuvwxyz0123456789", "c2Vzc2lvbi1rZXktMTIzNA=="
	if err := st.Create(ctx, token, Session{OpenID: "o1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.PutUserKey(ctx, "o1", sessionKey, time.Hour); err != nil {
		t.Fatal(err)
	}
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys %v", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "wxauth:wxapp:") {
			t.Errorf("key %q is not namespaced by app", k)
		}
		if strings.Contains(k, token) {
			t.Errorf("key %q holds the token", k)
		}
		if ttl := raw.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("key %q has TTL %v", k, ttl)
		}
		var dump string
		if raw.Type(ctx, k).Val() == "hash" {
			for f, v := range raw.HGetAll(ctx, k).Val() {
				dump += f + "=" + v + ";"
			}
		} else {
			dump = raw.Get(ctx, k).Val()
		}
		if dump == "" {
			t.Errorf("could not read %q", k)
		}
		if strings.Contains(dump, token) || strings.Contains(dump, sessionKey) {
			t.Errorf("value of %q holds a secret in clear", k)
		}
	}
	// another secret cannot open the keys: they count as absent
	other, _ := NewRedis(srv.URL(), "wxapp", "another-secret", time.Second)
	defer other.Close()
	if _, _, err := other.UserKeys(ctx, "o1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("keys opened under another secret: %v", err)
	}
	// and another app sees nothing of this one
	otherApp, _ := NewRedis(srv.URL(), "wxother", "app-secret", time.Second)
	defer otherApp.Close()
	if _, err := otherApp.Get(ctx, token); !errors.Is(err, ErrNotFound) {
		t.Errorf("another app read the session: %v", err)
	}
}

func TestRedisDownIsUnavailableNotNotFound(t *testing.T) {
	ctx := context.Background()
	srv := testredis.Start(t)
	st, _ := NewRedis(srv.URL(), "wxapp", "s", 300*time.Millisecond)
	defer st.Close()
	if err := st.Create(ctx, "tok", Session{OpenID: "o1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		start := time.Now()
		_, err := st.Get(ctx, "tok")
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: Get = %v, want ErrUnavailable", what, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: Get took %v", what, d)
		}
	}
	srv.Pause()
	check("paused")
	srv.Resume()
	if _, err := st.Get(ctx, "tok"); err != nil {
		t.Errorf("after resume: %v", err)
	}
	srv.Stop()
	check("stopped")
	srv.Restart()
	if _, err := st.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after restart (empty): %v", err)
	}
}
