package session

import (
	"context"
	"testing"
)

// A login without a session_key (a browser's) starts a session and
// leaves the user's keys as they were, in every store.
func TestStoreLoginWithoutKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		tok := st.NewToken(oid(1))
		if _, err := st.Login(ctx, tok, Session{OpenID: oid(1)}, ""); err != nil {
			t.Fatalf("keyless login: %v", err)
		}
		mustGet(t, st, tok)
		if _, _, err := st.UserKeys(ctx, oid(1)); err == nil {
			if n, p, _ := st.UserKeys(ctx, oid(1)); n != "" || p != "" {
				t.Fatalf("a keyless login set keys %q, %q", n, p)
			}
		}
		if _, err := st.Login(ctx, st.NewToken(oid(1)), Session{OpenID: oid(1)}, k1); err != nil {
			t.Fatal(err)
		}
		tok3 := st.NewToken(oid(1))
		if _, err := st.Login(ctx, tok3, Session{OpenID: oid(1)}, ""); err != nil {
			t.Fatal(err)
		}
		n, p, err := st.UserKeys(ctx, oid(1))
		if err != nil || n != k1 || p != "" {
			t.Fatalf("after a keyless login the keys are %q, %q, %v; want %q kept", n, p, err, k1)
		}
		if got, err := st.RevokeUser(ctx, oid(1), false); err != nil || got != 3 {
			t.Fatalf("RevokeUser = %d, %v; want the 3 sessions, keyless ones included", got, err)
		}
	})
}
