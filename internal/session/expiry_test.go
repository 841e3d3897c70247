package session

import (
	"context"
	"testing"
	"time"
)

// wantExpiresIn checks that a Get of tok says the session has between
// want-slack and want left.
func wantExpiresIn(t *testing.T, st Store, tok string, want time.Duration, why string) {
	t.Helper()
	const slack = 5 * time.Second // the test's own run time, and Redis's clock
	s := mustGet(t, st, tok)
	if s.ExpiresIn > want+time.Second || s.ExpiresIn < want-slack {
		t.Errorf("%s: ExpiresIn = %v, want about %v", why, s.ExpiresIn, want)
	}
}

// Get tells what a session has left: its session_ttl, or with an idle
// timeout the earlier of the idle and the absolute expiry.
func TestStoreGetExpiresIn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		ttl, idle time.Duration
		want      time.Duration
	}{
		{"session_ttl", time.Hour, 0, time.Hour},
		{"idle_timeout", time.Hour, 10 * time.Minute, 10 * time.Minute},
		{"idle_timeout past session_ttl", time.Hour, 3 * time.Hour, time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			eachStore(t, Limits{MaxSessions: 100, SessionTTL: c.ttl, IdleTimeout: c.idle}, func(t *testing.T, st Store) {
				tok, s := login(t, st, oid(1), uid(1), k1)
				if s.ExpiresIn != 0 {
					t.Errorf("Login set ExpiresIn %v: only Get does", s.ExpiresIn)
				}
				wantExpiresIn(t, st, tok, c.want, "just after the login")
				wantExpiresIn(t, st, tok, c.want, "a second Get")
			})
		})
	}
}

// On the memory store's clock: a use renews the idle expiry when due (and
// the answer says so), an unrenewed one counts down, and the absolute
// expiry caps it near the end.
func TestMemoryGetExpiresInFollowsRenewals(t *testing.T) {
	const ttl, idle = time.Hour, 10 * time.Minute
	m := newTestMemory(t, Limits{MaxSessions: 100, SessionTTL: ttl, IdleTimeout: idle})
	tok, _ := login(t, m, oid(1), "", k1)
	m.advance(time.Minute) // under idle/4: no renewal
	wantExpiresIn(t, m, tok, idle-time.Minute, "a minute on, not renewed")
	m.advance(5 * time.Minute) // past idle/4: renewed by this Get
	wantExpiresIn(t, m, tok, idle, "renewed")
	for i := 0; i < 9; i++ { // to 51 minutes after the login
		m.advance(5 * time.Minute)
		mustGet(t, m, tok)
	}
	wantExpiresIn(t, m, tok, ttl-51*time.Minute, "near session_ttl, capped by it")
	m.advance(ttl)
	if _, err := m.Get(context.Background(), tok); err == nil {
		t.Error("past session_ttl the session still answers")
	}
}
