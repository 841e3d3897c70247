package session

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMemoryLifecycle(t *testing.T) {
	ctx := context.Background()
	m, err := NewMemory(100)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	if err := m.Create(ctx, "tok", Session{OpenID: "o1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	s, err := m.Get(ctx, "tok")
	if err != nil || s.OpenID != "o1" {
		t.Fatalf("Get = %+v, %v", s, err)
	}
	s.Phone = "13800138000"
	if err := m.Update(ctx, "tok", s); err != nil {
		t.Fatal(err)
	}
	if s2, _ := m.Get(ctx, "tok"); s2.Phone != "13800138000" || s2.Expires != s.Expires {
		t.Errorf("after Update: %+v", s2)
	}
	if err := m.Delete(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	// an update racing a logout must not bring the session back
	if err := m.Update(ctx, "tok", s); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update after Delete: %v", err)
	}
	m.sessions.Wait()
	if _, err := m.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
		t.Errorf("session came back after Update: %v", err)
	}
}

func TestMemoryTTL(t *testing.T) {
	ctx := context.Background()
	m, _ := NewMemory(100)
	defer m.Close()
	if err := m.Create(ctx, "tok", Session{OpenID: "o1"}, time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := m.Get(ctx, "tok"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session still there: %v", err)
	}
}

func TestMemoryUserKeysRotate(t *testing.T) {
	ctx := context.Background()
	m, _ := NewMemory(100)
	defer m.Close()
	if _, _, err := m.UserKeys(ctx, "o1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	for _, k := range []string{"k1", "k2", "k2", "k3"} {
		if err := m.PutUserKey(ctx, "o1", k, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	newest, prev, err := m.UserKeys(ctx, "o1")
	if err != nil || newest != "k3" || prev != "k2" {
		t.Errorf("UserKeys = %q, %q, %v; want k3, k2", newest, prev, err)
	}
}
