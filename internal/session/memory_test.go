package session

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
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

// advance moves m's clock on by d (no sleeping).
func (m *Memory) advance(d time.Duration) { m.users.skew.Add(int64(d)) }

// testNow is m's clock as a time (real time, moved on by advance).
func (m *Memory) testNow() time.Time { return m.users.epoch.Add(m.users.now()) }

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

// countEvictions makes m's eviction hook add to the returned counter.
func countEvictions(m *Memory) *atomic.Int64 {
	var n atomic.Int64
	m.SetOnEvict(func(k int) {
		if k <= 0 {
			panic("OnEvict without an eviction")
		}
		n.Add(int64(k))
	})
	return &n
}

func TestEntryPacking(t *testing.T) {
	long := strings.Repeat("x", maxIDLen)
	for _, c := range []struct{ o, u string }{
		{"o", ""}, {oid(1), ""}, {oid(1), uid(1)}, {"o\x00", "\x00u"}, {long, long}, {"", "u"},
	} {
		e := newEntry(1<<63+5, 9, c.o, c.u, 7, 3*time.Second, 90*time.Minute+time.Millisecond)
		if e.openID() != c.o || e.unionID() != c.u {
			t.Errorf("entry(%.8q, %.8q) gives %.8q, %.8q", c.o, c.u, e.openID(), e.unionID())
		}
		st := e.state.Load()
		if e.key != 1<<63+5 || e.check != 9 || e.gen != 7 || lastRenewal(st) != 3*time.Second || st&stateRef != 0 || e.dead() {
			t.Errorf("header: key %x, check %x, gen %d, state %x", e.key, e.check, e.gen, st)
		}
		if e.absExpiry() != 90*time.Minute+expiryUnit {
			t.Errorf("absolute expiry %v, want rounded up to the expiry unit", e.absExpiry())
		}
		e.state.Or(stateRef)
		if !e.takeRef() || e.takeRef() {
			t.Error("takeRef must report the reference bit once")
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

// The contract's "A full store still lets users in": fill a store, use
// half of it, log in as many new users as the idle half: every login
// succeeds, the sessions in use survive, the idle ones are evicted (and
// counted), and the store holds exactly max_sessions.
func TestMemoryFullStoreLetsUsersIn(t *testing.T) {
	const max = 200
	m := newTestMemory(t, Limits{MaxSessions: max})
	evictions := countEvictions(m)
	var used, idle []string
	for i := 0; i < max; i++ {
		tok, _ := login(t, m, oid(i), uid(i), k1)
		if i%2 == 0 {
			used = append(used, tok)
		} else {
			idle = append(idle, tok)
		}
	}
	for round := 0; round < 3; round++ {
		for _, tok := range used {
			mustGet(t, m, tok)
		}
		var fresh []string
		for i := 0; i < len(idle); i++ {
			tok, _ := login(t, m, oid(max*(round+1)+i), "", k2) // fails the test if refused
			fresh = append(fresh, tok)
		}
		if n := live(m, used); n != int64(len(used)) {
			t.Errorf("round %d: %d of %d sessions in use survive", round, n, len(used))
		}
		for _, tok := range idle {
			wantGone(t, m, tok, "an idle session in a full store")
		}
		// the new sessions are held (looked up without a use: they are
		// the idle half of the next round)
		for i, tok := range fresh {
			if e := m.sessions.get(tok); e == nil || e.dead() {
				t.Errorf("round %d: new session %d not held", round, i)
			}
		}
		wantLen(t, m, max)
		if n := m.sessions.count.Load(); n != max {
			t.Errorf("round %d: the table holds %d entries", round, n)
		}
		want := int64(len(idle) * (round + 1))
		if got := m.Evicted(); got != want || evictions.Load() != want {
			t.Errorf("round %d: Evicted = %d, OnEvict counted %d, want %d", round, got, evictions.Load(), want)
		}
		// next round: the new sessions are the idle half
		idle = fresh
	}
}

// Eviction ends a session, never a user: the user's other sessions, keys
// and phone stay, and logout everywhere counts what is left.
func TestMemoryEvictionKeepsUsersConsistent(t *testing.T) {
	const max = 10
	ctx := context.Background()
	for _, forget := range []bool{false, true} {
		m := newTestMemory(t, Limits{MaxSessions: max})
		a1, _ := login(t, m, oid(1), "", k1) // the oldest, and idle
		var others []string
		for i := 2; i < max; i++ {
			tok, _ := login(t, m, oid(i), "", k1)
			others = append(others, tok)
		}
		a2, _ := login(t, m, oid(1), "", k2)
		if err := m.BindPhone(ctx, a2, oid(1), "13800138000", "86"); err != nil {
			t.Fatal(err)
		}
		for _, tok := range others {
			mustGet(t, m, tok)
		}
		x, _ := login(t, m, oid(100), "", k3) // full: a1 goes
		wantGone(t, m, a1, "the least recently used session")
		if s := mustGet(t, m, a2); s.OpenID != oid(1) || s.Phone != "13800138000" {
			t.Errorf("the user's other session after the eviction: %+v", s)
		}
		if n, p, err := m.UserKeys(ctx, oid(1)); n != k2 || p != k1 || err != nil {
			t.Errorf("UserKeys after the eviction = %q, %q, %v", n, p, err)
		}
		if m.Evicted() != 1 {
			t.Errorf("Evicted = %d, want 1", m.Evicted())
		}
		wantLen(t, m, max)
		if n, _ := m.RevokeUser(ctx, oid(1), forget); n != 1 {
			t.Errorf("RevokeUser(forget %v) = %d, want the 1 session left", forget, n)
		}
		wantGone(t, m, a2, "revoked")
		wantLen(t, m, max-1)
		mustGet(t, m, x)
		// the revoked session is no eviction when it makes room
		for i := 0; i < 2; i++ {
			login(t, m, oid(200+i), "", k1)
		}
		if m.Evicted() != 2 {
			t.Errorf("Evicted = %d, want 2 (one revoked session made room)", m.Evicted())
		}
		_, s := login(t, m, oid(1), "", k3)
		if wantPhone := !forget; (s.Phone != "") != wantPhone {
			t.Errorf("the user's phone after eviction and RevokeUser(forget %v): %+v", forget, s)
		}
	}
}

// Sessions past their idle timeout or absolute expiry make room without
// counting as evictions; those in use within the idle timeout survive.
func TestMemoryFullStoreIdleTimeout(t *testing.T) {
	const max, idle = 20, time.Hour
	m := newTestMemory(t, Limits{MaxSessions: max, IdleTimeout: idle, SessionTTL: 3 * time.Hour})
	var used, unused []string
	for i := 0; i < max; i++ {
		tok, _ := login(t, m, oid(i), "", k1)
		if i < max/2 {
			used = append(used, tok)
		} else {
			unused = append(unused, tok)
		}
	}
	m.advance(40 * time.Minute)
	for _, tok := range used {
		mustGet(t, m, tok) // renews them (past idle/4)
	}
	m.advance(30 * time.Minute) // the unused are idle too long now
	var fresh []string
	for i := 0; i < max/2; i++ {
		tok, _ := login(t, m, oid(100+i), "", k1)
		fresh = append(fresh, tok)
	}
	if m.Evicted() != 0 {
		t.Errorf("Evicted = %d: the sessions idle too long were counted as evicted", m.Evicted())
	}
	if n := live(m, used); n != max/2 {
		t.Errorf("%d of %d renewed sessions answer", n, max/2)
	}
	for _, tok := range unused {
		wantGone(t, m, tok, "idle too long")
	}
	wantLen(t, m, max)
	// past the absolute expiry of the first ones (3 h after their login)
	m.advance(50 * time.Minute)
	for _, tok := range fresh {
		mustGet(t, m, tok)
	}
	m.advance(70 * time.Minute)
	if n := live(m, used); n != 0 {
		t.Errorf("%d sessions answer past their session TTL", n)
	}
	for i := 0; i < max/2; i++ {
		login(t, m, oid(200+i), "", k1)
	}
	if n := live(m, fresh); n != 0 {
		t.Errorf("%d sessions answer, idle for 70 minutes", n)
	}
	if m.Evicted() != 0 {
		t.Errorf("Evicted = %d after expiries only", m.Evicted())
	}
	wantLen(t, m, max/2)
}

// Many logins into a full store: Len, the table and RevokeUser count
// exactly the sessions that answer, and every eviction is reported.
func TestMemoryFullStoreCountsRight(t *testing.T) {
	const max = 100
	m := newTestMemory(t, Limits{MaxSessions: max})
	evictions := countEvictions(m)
	ctx := context.Background()
	var toks []string
	byUser := map[int][]string{}
	for i := 0; i < 10*max; i++ {
		tok, _ := login(t, m, oid(i%300), "", k1)
		toks = append(toks, tok)
		byUser[i%300] = append(byUser[i%300], tok)
		if i%3 == 0 {
			_, _ = m.Get(ctx, toks[i/2]) // some in use
		}
	}
	n, _ := m.Len()
	if got := live(m, toks); n != got || n != max {
		t.Errorf("Len = %d, %d sessions answer (%d fit)", n, got, max)
	}
	if got := m.Evicted(); got != 10*max-max || evictions.Load() != got {
		t.Errorf("Evicted = %d, OnEvict counted %d, want %d", got, evictions.Load(), 10*max-max)
	}
	for u, ut := range byUser {
		want := live(m, ut)
		if got, _ := m.RevokeUser(ctx, oid(u), u%2 == 0); int64(got) != want {
			t.Errorf("RevokeUser(%d) = %d, %d sessions answered", u, got, want)
		}
	}
	if n, _ := m.Len(); n != 0 {
		t.Errorf("Len = %d after revoking everyone", n)
	}
	if n := live(m, toks); n != 0 || m.sessions.count.Load() != 0 {
		t.Errorf("%d sessions answer, the table holds %d entries after Gets met every revoked one", n, m.sessions.count.Load())
	}
}

// Len follows logins, logouts, revocations and expiry (which the sweep
// finds).
func TestMemoryLen(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 100, SessionTTL: time.Hour})
	ctx := context.Background()
	a, _ := login(t, m, oid(1), "", k1)
	login(t, m, oid(1), "", k1)
	login(t, m, oid(2), "", k1)
	c, _ := login(t, m, oid(3), "", k1)
	wantLen(t, m, 4)
	_ = m.Delete(ctx, a)
	_ = m.Delete(ctx, a)
	wantLen(t, m, 3)
	m.RevokeUser(ctx, oid(1), false)
	wantLen(t, m, 2)
	if n := m.sweep(); n != 1 || m.sessions.count.Load() != 2 {
		t.Errorf("the sweep removed %d (the revoked one), the table holds %d", n, m.sessions.count.Load())
	}
	m.advance(time.Hour + time.Second)
	wantLen(t, m, 2) // until the sweep
	if n := m.sweep(); n != 2 {
		t.Errorf("the sweep removed %d expired sessions", n)
	}
	wantLen(t, m, 0)
	wantGone(t, m, c, "expired")
	if n := m.sessions.count.Load(); n != 0 {
		t.Errorf("the table holds %d entries", n)
	}
}

// Revoked sessions leave the table when a Get meets them; generations
// are unique in the store, so a user forgotten and back does not revive
// them, nor does a record another openid took over.
func TestMemoryGenerations(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 100})
	ctx := context.Background()
	old, _ := login(t, m, oid(1), "", k1)
	if n, _ := m.RevokeUser(ctx, oid(1), true); n != 1 {
		t.Fatalf("RevokeUser = %d", n)
	}
	if m.sessions.get(old) == nil {
		t.Fatal("RevokeUser is meant to leave the entry for Get to remove")
	}
	for i := 0; i < 5; i++ {
		login(t, m, oid(1), "", k1)
	}
	wantGone(t, m, old, "a session revoked, its user forgotten then back")
	if m.sessions.get(old) != nil {
		t.Error("Get left a revoked session in the table")
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

// A session ended twice over (a Delete, then the sweep or the eviction
// clock meeting the entry) is counted out once, and a token logged in
// twice holds one session.
func TestMemoryEntryCountedOutOnce(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 3, IdleTimeout: time.Hour})
	ctx := context.Background()
	a, _ := login(t, m, oid(1), "", k1)
	login(t, m, oid(1), "", k1)
	e := m.sessions.get(a)
	if err := m.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if m.endEntry(e) {
		t.Error("an entry ended twice was counted out twice")
	}
	m.sweep()
	wantLen(t, m, 1)
	// the clock still holds a's entry: it must make no room
	login(t, m, oid(2), "", k1)
	login(t, m, oid(3), "", k1)
	if m.Evicted() != 0 {
		t.Errorf("Evicted = %d with a store not full", m.Evicted())
	}
	wantLen(t, m, 3)
	tok := m.NewToken("")
	for i := 0; i < 2; i++ {
		if _, err := m.Login(ctx, tok, Session{OpenID: oid(4)}, k1); err != nil {
			t.Fatal(err)
		}
	}
	if s := mustGet(t, m, tok); s.OpenID != oid(4) {
		t.Errorf("Get = %+v", s)
	}
	if n, _ := m.RevokeUser(ctx, oid(4), false); n != 1 {
		t.Errorf("RevokeUser = %d after one token logged in twice", n)
	}
}

// Gets renew an idle session in place, at most every IdleTimeout/4.
func TestMemoryIdleRenewalIsRare(t *testing.T) {
	const idle = time.Hour
	m := newTestMemory(t, Limits{MaxSessions: 100, IdleTimeout: idle})
	tok, _ := login(t, m, oid(1), "", k1)
	e := m.sessions.get(tok)
	at := func() time.Duration { return lastRenewal(e.state.Load()) }
	t0 := at()
	for i := 0; i < 100; i++ {
		mustGet(t, m, tok)
	}
	m.advance(idle/4 - time.Second)
	mustGet(t, m, tok)
	if at() != t0 {
		t.Errorf("renewed by Gets within idle/4 of the login")
	}
	m.advance(2 * time.Second)
	mustGet(t, m, tok)
	t1 := at()
	if t1 == t0 {
		t.Fatal("not renewed by a Get past idle/4")
	}
	if m.sessions.get(tok) != e {
		t.Error("the renewal replaced the entry")
	}
	for i := 0; i < 100; i++ {
		mustGet(t, m, tok)
	}
	if at() != t1 {
		t.Error("renewed again within idle/4")
	}
	m.advance(idle - time.Second)
	mustGet(t, m, tok) // renewed just before its idle expiry
	m.advance(idle - time.Second)
	mustGet(t, m, tok)
	m.advance(idle + time.Second)
	wantGone(t, m, tok, "unused for longer than the idle timeout")
	wantLen(t, m, 0)
}

// SetLimits turning the idle timeout off gives sessions back their
// absolute expiry; turning it on (or shorter) applies at once.
func TestMemorySetLimitsIdle(t *testing.T) {
	const idle = time.Hour
	m := newTestMemory(t, Limits{MaxSessions: 100, IdleTimeout: idle})
	ctx := context.Background()
	a, _ := login(t, m, oid(1), "", k1)
	m.SetLimits(Limits{MaxSessions: 100})
	mustGet(t, m, a) // no idle timeout now: back to the absolute expiry
	m.advance(2 * idle)
	mustGet(t, m, a)

	b, _ := login(t, m, oid(2), "", k1)
	m.SetLimits(Limits{MaxSessions: 100, IdleTimeout: idle})
	m.advance(idle + idle/2)
	if err := m.BindPhone(ctx, a, oid(1), "1", "86"); !errors.Is(err, ErrNotFound) {
		t.Errorf("BindPhone on an idle session = %v", err)
	}
	wantGone(t, m, b, "unused for 1.5 × the idle timeout set after its login")
	wantGone(t, m, a, "unused for 1.5 × the idle timeout set again")
	wantLen(t, m, 0)
}

// Shrinking MaxSessions keeps the sessions held; new logins then evict
// two at a time till the store fits; growing it makes room at once.
func TestMemorySetLimitsMaxSessions(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 100})
	var old, fresh []string
	for i := 0; i < 80; i++ {
		tok, _ := login(t, m, oid(i), "", k1)
		old = append(old, tok)
	}
	m.SetLimits(Limits{MaxSessions: 20})
	if n := live(m, old); n != 80 {
		t.Errorf("%d of 80 sessions answer after shrinking", n)
	}
	for i := 0; i < 40; i++ {
		tok, _ := login(t, m, oid(100+i), "", k1)
		fresh = append(fresh, tok)
	}
	wantLen(t, m, 40)
	if n, f := live(m, old), live(m, fresh); n != 0 || f != 40 {
		t.Errorf("%d old and %d new sessions answer, want the 40 new ones", n, f)
	}
	for i := 0; i < 40; i++ {
		login(t, m, oid(200+i), "", k1)
	}
	wantLen(t, m, 20)
	m.SetLimits(Limits{MaxSessions: 1000})
	evicted := m.Evicted()
	for i := 0; i < 500; i++ {
		login(t, m, oid(300+i), "", k1)
	}
	wantLen(t, m, 520)
	if m.Evicted() != evicted {
		t.Errorf("evicted %d after growing", m.Evicted()-evicted)
	}
	if l := m.Limits(); l.MaxSessions != 1000 || l.SessionTTL != DefaultSessionTTL {
		t.Errorf("Limits = %+v", l)
	}
}

// The clock's ring drops ended entries instead of growing without end.
func TestMemoryRingStaysBounded(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 1000})
	ctx := context.Background()
	for i := 0; i < 20_000; i++ {
		tok, _ := login(t, m, oid(i%50), "", k1)
		if i%10 != 0 {
			_ = m.Delete(ctx, tok)
		}
	}
	m.sessions.mu.Lock()
	size := len(m.sessions.ring)
	m.sessions.mu.Unlock()
	if size > 4*1000 {
		t.Errorf("ring of %d for a store of 1000", size)
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
	if m.Evicted() != 0 {
		t.Errorf("Evicted = %d", m.Evicted())
	}
}

// Records expire with their last session unless a phone keeps them; the
// sweep forgets them.
func TestKeyringSweep(t *testing.T) {
	m := newTestMemory(t, Limits{MaxSessions: 100, SessionTTL: time.Hour, PhoneTTL: 24 * time.Hour})
	ctx := context.Background()
	login(t, m, oid(1), "", k1)
	tok, _ := login(t, m, oid(2), "", k1)
	if err := m.BindPhone(ctx, tok, oid(2), "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	m.advance(time.Hour + 2*time.Second)
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
	m.SetLimits(Limits{MaxSessions: 100, SessionTTL: time.Hour, PhoneTTL: time.Millisecond})
	m.advance(time.Hour + 2*time.Second)
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

// Logins, uses, logouts and revocations at once on a full store: no
// login fails, and then Len, the table and the sessions that answer agree.
func TestMemoryFullStoreConcurrency(t *testing.T) {
	const max = 50
	m := newTestMemory(t, Limits{MaxSessions: max, IdleTimeout: time.Hour})
	evictions := countEvictions(m)
	ctx := context.Background()
	toks := make([][]string, 4)
	done := make(chan struct{})
	for w := range toks {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 500; i++ {
				u := oid(w*1000 + i%40)
				tok := m.NewToken(u)
				if _, err := m.Login(ctx, tok, Session{OpenID: u}, k1); err != nil {
					t.Error(err)
					return
				}
				toks[w] = append(toks[w], tok)
				_, _ = m.Get(ctx, toks[w][i/2])
				switch i % 50 {
				case 7:
					_ = m.Delete(ctx, toks[w][i/3])
				case 13:
					_, _ = m.RevokeUser(ctx, u, i%100 == 13)
				case 29:
					m.sweep()
				}
			}
		}()
	}
	for range toks {
		<-done
	}
	var all []string
	for _, ts := range toks {
		all = append(all, ts...)
	}
	n, _ := m.Len()
	if got := live(m, all); got != n || n > max {
		t.Errorf("Len = %d, %d sessions answer (%d fit)", n, got, max)
	}
	if c := m.sessions.count.Load(); c != n {
		t.Errorf("the table holds %d entries once every Get met them, Len = %d", c, n)
	}
	if m.Evicted() == 0 || m.Evicted() != evictions.Load() {
		t.Errorf("Evicted = %d, OnEvict counted %d", m.Evicted(), evictions.Load())
	}
}
