package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func init() {
	storeKinds["memory"] = func(t *testing.T, l Limits) Store { return newTestMemory(t, l) }
}

func newTestMemory(t testing.TB, l Limits) *Memory {
	t.Helper()
	m, err := NewMemory(l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// live counts the tokens of toks whose session answers.
func live(m *Memory, toks []string) int64 {
	n := int64(0)
	for _, tok := range toks {
		if _, err := m.Get(context.Background(), tok); err == nil {
			n++
		}
	}
	return n
}

func TestEntryPacking(t *testing.T) {
	long := strings.Repeat("x", maxIDLen)
	for _, c := range []struct{ o, u string }{
		{"o", ""}, {oid(1), ""}, {oid(1), uid(1)}, {"o\x00", "\x00u"}, {long, long}, {"", "u"},
	} {
		e := newEntry(c.o, c.u, 7, 3*time.Second, 90*time.Minute+time.Millisecond, true)
		if e.openID() != c.o || e.unionID() != c.u {
			t.Errorf("entry(%.8q, %.8q) gives %.8q, %.8q", c.o, c.u, e.openID(), e.unionID())
		}
		st := e.state.Load()
		if e.gen != 7 || lastRenewal(st) != 3*time.Second || st&stateCapped == 0 || e.dead() {
			t.Errorf("header: gen %d, state %x", e.gen, st)
		}
		if e.absExpiry() != 90*time.Minute+time.Second {
			t.Errorf("absolute expiry %v, want rounded up to the second", e.absExpiry())
		}
		if !e.markDead() || e.markDead() || !e.dead() || lastRenewal(e.state.Load()) != 3*time.Second {
			t.Error("markDead must set the dead bit once, and only it")
		}
	}
}

// BindPhone binds to the session's own user only.
func TestMemoryBindPhoneChecksTheOpenID(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 10})
	ctx := context.Background()
	tok, _ := login(t, m, oid(1), "", k1)
	if err := m.BindPhone(ctx, tok, oid(2), "13800138000", "86"); !errors.Is(err, ErrNotFound) {
		t.Errorf("BindPhone with another openid = %v", err)
	}
	for _, u := range []int{1, 2} {
		if _, s := login(t, m, oid(u), "", k1); s.Phone != "" {
			t.Errorf("user %d got a phone: %+v", u, s)
		}
	}
}

func TestMemoryLoginRefusesOversizedIDs(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 10})
	ctx := context.Background()
	for _, s := range []Session{{}, {OpenID: strings.Repeat("o", maxIDLen+1)}, {OpenID: "o", UnionID: strings.Repeat("u", maxIDLen+1)}} {
		if _, err := m.Login(ctx, m.NewToken(s.OpenID), s, k1); err == nil {
			t.Errorf("Login(%.10q, %.10q) accepted", s.OpenID, s.UnionID)
		}
	}
	if n, _ := m.Len(); n != 0 {
		t.Errorf("Len = %d", n)
	}
}

// A full store refuses or evicts; either way Len and RevokeUser count
// exactly the sessions that answer.
func TestMemoryFullStoreCountsRight(t *testing.T) {
	const max = 100
	m := newTestMemory(t, Limits{MaxSessions: max})
	ctx := context.Background()
	var toks []string
	byUser := map[int][]string{}
	full := 0
	for i := 0; i < 10*max; i++ {
		tok := m.NewToken(oid(i % 300))
		if _, err := m.Login(ctx, tok, Session{OpenID: oid(i % 300)}, k1); err != nil {
			if !errors.Is(err, ErrFull) {
				t.Fatal(err)
			}
			full++
			continue
		}
		toks = append(toks, tok)
		byUser[i%300] = append(byUser[i%300], tok)
	}
	m.sessions.Wait()
	n, _ := m.Len()
	if got := live(m, toks); n != got || n > max {
		t.Errorf("Len = %d, %d sessions answer (at most %d fit)", n, got, max)
	}
	if n < max/2 {
		t.Errorf("only %d sessions held of %d", n, max)
	}
	t.Logf("%d logins refused, %d held", full, n)
	for u, ut := range byUser {
		want := live(m, ut)
		if got, _ := m.RevokeUser(ctx, oid(u), u%2 == 0); int64(got) != want {
			t.Errorf("RevokeUser(%d) = %d, %d sessions answered", u, got, want)
		}
	}
	if n, _ := m.Len(); n != 0 {
		t.Errorf("Len = %d after revoking everyone", n)
	}
}

// Len follows logins, logouts, revocations and expiry (which ristretto's
// cleanup finds every few seconds).
func TestMemoryLen(t *testing.T) {
	t.Parallel()
	m := newTestMemory(t, Limits{MaxSessions: 100, SessionTTL: time.Second})
	ctx := context.Background()
	a, _ := login(t, m, oid(1), "", k1)
	login(t, m, oid(1), "", k1)
	login(t, m, oid(2), "", k1)
	wantLen(t, m, 3)
	_ = m.Delete(ctx, a)
	_ = m.Delete(ctx, a)
	wantLen(t, m, 2)
	m.RevokeUser(ctx, oid(1), false)
	wantLen(t, m, 1)
	if !eventually(20*time.Second, func() bool { n, _ := m.Len(); return n == 0 }) {
		n, _ := m.Len()
		t.Errorf("Len = %d long after every session expired", n)
	}
}

// Revoked sessions leave the cache when a Get meets them; generations
// are unique in the store, so a user forgotten and back does not revive
// them, nor does a record another openid took over.
func TestMemoryGenerations(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 100})
	ctx := context.Background()
	old, _ := login(t, m, oid(1), "", k1)
	if n, _ := m.RevokeUser(ctx, oid(1), true); n != 1 {
		t.Fatalf("RevokeUser = %d", n)
	}
	if _, ok := m.sessions.Get(old); !ok {
		t.Fatal("RevokeUser is meant to leave the entry for Get to remove")
	}
	for i := 0; i < 5; i++ {
		login(t, m, oid(1), "", k1)
	}
	wantGone(t, m, old, "a session revoked, its user forgotten then back")
	m.sessions.Wait()
	if _, ok := m.sessions.Get(old); ok {
		t.Error("Get left a revoked session in the cache")
	}
	wantLen(t, m, 5)

	// an openid whose hash another openid's record holds takes it over,
	// and the other's sessions end (so no one sees another's phone)
	tok, _ := login(t, m, oid(2), "", k1)
	if err := m.BindPhone(ctx, tok, oid(2), "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	s, h := m.users.shard(oid(2))
	s.mu.Lock()
	r := s.users[h]
	r.check++ // as if another openid had the record
	s.users[h] = r
	s.mu.Unlock()
	if _, _, err := m.UserKeys(ctx, oid(2)); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserKeys read another openid's record: %v", err)
	}
	if n, _ := m.RevokeUser(ctx, oid(2), false); n != 0 {
		t.Errorf("RevokeUser ended another openid's sessions: %d", n)
	}
	_, got := login(t, m, oid(2), "", k2)
	if got.Phone != "" {
		t.Errorf("Login got another openid's phone: %+v", got)
	}
	wantGone(t, m, tok, "a session of the record taken over")
	if n, p, err := m.UserKeys(ctx, oid(2)); n != k2 || p != "" || err != nil {
		t.Errorf("UserKeys after the takeover = %q, %q, %v", n, p, err)
	}
	wantLen(t, m, 6)
}

// A renewal that loses a race with a Delete (or an eviction) puts the
// entry back in the cache; it must read as gone, and leaving the cache
// again must not count it out a second time.
func TestMemoryEntryCountedOutOnce(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 100, IdleTimeout: time.Hour})
	ctx := context.Background()
	a, _ := login(t, m, oid(1), "", k1)
	login(t, m, oid(1), "", k1)
	e, _ := m.sessions.Get(a)
	if err := m.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	// what a Get renewing a meanwhile does
	m.sessions.SetWithTTL(a, e, 1, time.Hour)
	m.sessions.Wait()
	wantGone(t, m, a, "an entry put back after its Delete")
	m.users.end(e) // what its eviction does
	wantLen(t, m, 1)
	if n, _ := m.RevokeUser(ctx, oid(1), false); n != 1 {
		t.Errorf("RevokeUser = %d, want 1", n)
	}
}

// Gets renew an idle session in place, at most every IdleTimeout/4.
func TestMemoryIdleRenewalIsRare(t *testing.T) {
	const idle = 2 * time.Second
	m := newTestMemory(t, Limits{MaxSessions: 100, IdleTimeout: idle})
	tok, _ := login(t, m, oid(1), "", k1)
	e, _ := m.sessions.Get(tok)
	at := func() time.Duration { return lastRenewal(e.state.Load()) }
	t0 := at()
	ttl0, _ := m.sessions.GetTTL(tok)
	if ttl0 > idle {
		t.Errorf("cache TTL %v, want the idle timeout %v", ttl0, idle)
	}
	start := time.Now()
	for i := 0; i < 100; i++ {
		mustGet(t, m, tok)
	}
	if at() != t0 && time.Since(start) < idle/4 {
		t.Errorf("renewed by Gets within idle/4 of the login")
	}
	time.Sleep(idle/4 + 100*time.Millisecond)
	mustGet(t, m, tok)
	t1 := at()
	if t1 == t0 {
		t.Fatal("not renewed by a Get past idle/4")
	}
	if got, _ := m.sessions.Get(tok); got != e {
		t.Error("the renewal replaced the entry")
	}
	ttl1, _ := m.sessions.GetTTL(tok)
	if ttl1 < idle-idle/8 {
		t.Errorf("cache TTL after the renewal %v, want about %v", ttl1, idle)
	}
	for i := 0; i < 100; i++ {
		mustGet(t, m, tok)
	}
	if at() != t1 && time.Since(start) < idle/2 {
		t.Error("renewed again within idle/4")
	}
	wantLen(t, m, 1)
}

// SetLimits turning the idle timeout off gives sessions back their
// absolute expiry; turning it on (or shorter) applies at once.
func TestMemorySetLimitsIdle(t *testing.T) {
	t.Parallel()
	const idle = time.Second
	m := newTestMemory(t, Limits{MaxSessions: 100, IdleTimeout: idle})
	ctx := context.Background()
	a, _ := login(t, m, oid(1), "", k1)
	m.SetLimits(Limits{MaxSessions: 100})
	mustGet(t, m, a) // no idle timeout now: back to the absolute expiry
	time.Sleep(2 * idle)
	mustGet(t, m, a)

	b, _ := login(t, m, oid(2), "", k1)
	m.SetLimits(Limits{MaxSessions: 100, IdleTimeout: idle})
	time.Sleep(idle + idle/2)
	if err := m.BindPhone(ctx, a, oid(1), "1", "86"); !errors.Is(err, ErrNotFound) {
		t.Errorf("BindPhone on an idle session = %v", err)
	}
	wantGone(t, m, b, "unused for 1.5 × the idle timeout set after its login")
	wantGone(t, m, a, "unused for 1.5 × the idle timeout set again")
	wantLen(t, m, 0)
}

// Shrinking MaxSessions keeps the sessions held (new ones then evict);
// growing it makes room at once.
func TestMemorySetLimitsMaxSessions(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 100})
	var toks []string
	for i := 0; i < 80; i++ {
		tok, _ := login(t, m, oid(i), "", k1)
		toks = append(toks, tok)
	}
	m.SetLimits(Limits{MaxSessions: 20})
	if n := live(m, toks); n != 80 {
		t.Errorf("%d of 80 sessions answer after shrinking", n)
	}
	for i := 0; i < 40; i++ {
		tok := m.NewToken(oid(i))
		if _, err := m.Login(context.Background(), tok, Session{OpenID: oid(i)}, k1); err == nil {
			toks = append(toks, tok)
		}
	}
	// the admission policy decides which of old and new stay
	m.sessions.Wait()
	if n, _ := m.Len(); n > 80 || n != live(m, toks) {
		t.Errorf("Len = %d (%d answer) after new logins", n, live(m, toks))
	}
	m.SetLimits(Limits{MaxSessions: 1000})
	for i := 0; i < 500; i++ {
		tok, _ := login(t, m, oid(i), "", k1) // fails the test if refused
		toks = append(toks, tok)
	}
	m.sessions.Wait()
	if n, _ := m.Len(); n < 500 || n != live(m, toks) {
		t.Errorf("Len = %d (%d answer) after growing", n, live(m, toks))
	}
	if l := m.Limits(); l.MaxSessions != 1000 || l.SessionTTL != DefaultSessionTTL {
		t.Errorf("Limits = %+v", l)
	}
}

// A full userRecords drops the records without live sessions first.
func TestKeyringMakesRoom(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 100})
	ctx := context.Background()
	m.users.limit.Store(8) // records per shard
	// users whose records land in one shard
	var users []string
	s0, _ := m.users.shard(oid(0))
	for i := 0; len(users) < 40; i++ {
		if s, _ := m.users.shard(oid(i)); s == s0 {
			users = append(users, oid(i))
		}
	}
	var keep []string
	for _, u := range users[:4] { // users with a live session
		tok, _ := login(t, m, u, "", k1)
		keep = append(keep, tok)
	}
	for _, u := range users[4:] { // users whose session ends
		tok, _ := login(t, m, u, "", k1)
		_ = m.Delete(ctx, tok)
	}
	s0.mu.Lock()
	n := len(s0.users)
	s0.mu.Unlock()
	if n > 8 {
		t.Errorf("%d records in a shard of 8", n)
	}
	for i, tok := range keep {
		if _, err := m.Get(ctx, tok); err != nil {
			t.Errorf("user %d with a live session lost it: %v", i, err)
		}
		if _, _, err := m.UserKeys(ctx, users[i]); err != nil {
			t.Errorf("user %d with a live session lost the keys: %v", i, err)
		}
	}
	wantLen(t, m, 4)
}

// Records expire with their last session unless a phone keeps them; the
// sweep forgets them.
func TestKeyringSweep(t *testing.T) {
	t.Parallel()
	m := newTestMemory(t, Limits{MaxSessions: 100, SessionTTL: time.Second, PhoneTTL: time.Hour})
	ctx := context.Background()
	login(t, m, oid(1), "", k1)
	tok, _ := login(t, m, oid(2), "", k1)
	if err := m.BindPhone(ctx, tok, oid(2), "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	count := func() (n int) {
		for i := range m.users.shards {
			s := &m.users.shards[i]
			s.mu.Lock()
			m.users.sweep(s, m.users.now())
			n += len(s.users)
			s.mu.Unlock()
		}
		return n
	}
	if n := count(); n != 1 {
		t.Errorf("%d records after the sweep, want the one with a phone", n)
	}
	if _, _, err := m.UserKeys(ctx, oid(2)); !errors.Is(err, ErrNotFound) {
		t.Errorf("keys outlived the sessions: %v", err)
	}
	if _, s := login(t, m, oid(2), "", k2); s.Phone != "13800138000" {
		t.Errorf("the phone did not outlive the sessions: %+v", s)
	}
	if n, p, _ := m.UserKeys(ctx, oid(2)); n != k2 || p != "" {
		t.Errorf("expired keys came back: %q, %q", n, p)
	}
	m.SetLimits(Limits{MaxSessions: 100, SessionTTL: time.Second, PhoneTTL: time.Millisecond})
	time.Sleep(2100 * time.Millisecond)
	if n := count(); n != 0 {
		t.Errorf("%d records after the phone_ttl, want none", n)
	}
}

func TestMemoryCloseTwice(t *testing.T) {
	m, err := NewMemory(Limits{MaxSessions: 10})
	if err != nil {
		t.Fatal(err)
	}
	login(t, m, oid(1), "", k1)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}
