package session

import (
	"context"
	"errors"
	"testing"
)

// Session keys of the other platforms: Baidu's are 24 bytes (AES-192),
// Alipay has none.
const (
	k24  = "QkFJRFVCQUlEVUJBSURVQkFJRFVCQUlE" // 24 bytes
	k24b = "YmFpZHViYWlkdWJhaWR1YmFpZHViYWlk"
)

func TestStoreKeepsBaiduKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		tok, _ := login(t, st, oid(1), "", k24)
		mustGet(t, st, tok)
		if n, p, err := st.UserKeys(ctx, oid(1)); err != nil || n != k24 || p != "" {
			t.Fatalf("UserKeys = %q, %q, %v; want %q", n, p, err, k24)
		}
		login(t, st, oid(1), "", k24b)
		if n, p, err := st.UserKeys(ctx, oid(1)); err != nil || n != k24b || p != k24 {
			t.Fatalf("after a second login: %q, %q, %v", n, p, err)
		}
	})
}

func TestStoreLoginWithoutSessionKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		tok, s := login(t, st, oid(1), "", "")
		if got := identity(mustGet(t, st, tok)); got != s || got.OpenID != oid(1) {
			t.Fatalf("Get = %+v", got)
		}
		if n, p, err := st.UserKeys(ctx, oid(1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserKeys after a login without a key = %q, %q, %v; want ErrNotFound", n, p, err)
		}
		// The user's phone still binds and comes back at the next login.
		if err := st.BindPhone(ctx, tok, oid(1), "13800138000", "86"); err != nil {
			t.Fatal(err)
		}
		if _, s2 := login(t, st, oid(1), "", ""); s2.Phone != "13800138000" {
			t.Errorf("the next login: phone %q", s2.Phone)
		}
		// A key given once is kept through later logins without one.
		login(t, st, oid(2), "", k1)
		login(t, st, oid(2), "", "")
		if n, p, err := st.UserKeys(ctx, oid(2)); err != nil || n != k1 || p != "" {
			t.Errorf("UserKeys = %q, %q, %v; want %q", n, p, err, k1)
		}
	})
}
