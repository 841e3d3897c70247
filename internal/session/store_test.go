package session

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// storeKinds makes a fresh Store of each kind, with the limits l, closed
// when the test ends. memory_test.go adds "memory"; a Redis store adds
// itself in its own test file.
var storeKinds = map[string]func(t *testing.T, l Limits) Store{}

// eachStore runs f as a subtest over a fresh store of every kind.
func eachStore(t *testing.T, l Limits, f func(t *testing.T, st Store)) {
	t.Helper()
	if len(storeKinds) == 0 {
		t.Fatal("no store kinds registered")
	}
	names := make([]string, 0, len(storeKinds))
	for name := range storeKinds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) { f(t, storeKinds[name](t, l)) })
	}
}

// session_keys as WeChat hands them out: base64 of 16 bytes.
const (
	k1 = "MTExMTExMTExMTExMTExMQ=="
	k2 = "MjIyMjIyMjIyMjIyMjIyMg=="
	k3 = "MzMzMzMzMzMzMzMzMzMzMw=="
)

// openids and unionids shaped like WeChat's (28 characters).
func oid(i int) string { return fmt.Sprintf("oTest%023d", i) }
func uid(i int) string { return fmt.Sprintf("uTest%023d", i) }

// login logs openID in with a fresh token and returns it.
func login(t *testing.T, st Store, openID, unionID, key string) (string, Session) {
	t.Helper()
	tok := st.NewToken(openID)
	s, err := st.Login(context.Background(), tok, Session{OpenID: openID, UnionID: unionID}, key)
	if err != nil {
		t.Fatalf("Login(%s): %v", openID, err)
	}
	return tok, s
}

// identity is s without what Get adds to it (ExpiresIn: expiry_test.go).
func identity(s Session) Session {
	s.ExpiresIn = 0
	return s
}

func mustGet(t *testing.T, st Store, tok string) Session {
	t.Helper()
	s, err := st.Get(context.Background(), tok)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return s
}

func wantGone(t *testing.T, st Store, tok, why string) {
	t.Helper()
	if s, err := st.Get(context.Background(), tok); !errors.Is(err, ErrNotFound) {
		t.Errorf("%s: Get = %+v, %v; want ErrNotFound", why, s, err)
	}
}

func wantLen(t *testing.T, st Store, want int64) {
	t.Helper()
	if n, ok := st.Len(); ok && n != want {
		t.Errorf("Len = %d, want %d", n, want)
	}
}

// eventually polls cond every 50 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return cond()
		}
	}
}

func TestStoreLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		tok, s := login(t, st, oid(1), uid(1), k1)
		if want := (Session{OpenID: oid(1), UnionID: uid(1)}); s != want {
			t.Errorf("Login = %+v, want %+v", s, want)
		}
		if got := identity(mustGet(t, st, tok)); got != s {
			t.Errorf("Get = %+v, want %+v", got, s)
		}
		wantLen(t, st, 1)
		// without a unionid
		tok2, _ := login(t, st, oid(2), "", k1)
		if got := identity(mustGet(t, st, tok2)); got != (Session{OpenID: oid(2)}) {
			t.Errorf("Get = %+v without unionid", got)
		}
		wantLen(t, st, 2)
		wantGone(t, st, st.NewToken(oid(1)), "a token never logged in")
		wantGone(t, st, "junk", "junk")
		wantGone(t, st, "", "empty token")
		if err := st.Delete(ctx, tok); err != nil {
			t.Fatal(err)
		}
		wantGone(t, st, tok, "after Delete")
		wantLen(t, st, 1)
		if err := st.Delete(ctx, tok); err != nil {
			t.Errorf("Delete twice: %v", err)
		}
		if err := st.Delete(ctx, st.NewToken(oid(1))); err != nil {
			t.Errorf("Delete(unknown) = %v", err)
		}
		wantLen(t, st, 1)
		mustGet(t, st, tok2)
	})
}

func TestStoreLoginRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		// ("" is a platform without session keys: see store_keys_test.go)
		for _, key := range []string{"not base64!", "MTEx", "MTExMTExMTExMTExMTExMTE=", k1 + "MTEx", k24 + "MTEx", "MTExMTExMTExMTExMTExMTExMTEx"} {
			tok := st.NewToken(oid(1))
			_, err := st.Login(ctx, tok, Session{OpenID: oid(1)}, key)
			if err == nil || errors.Is(err, ErrNotFound) {
				t.Errorf("Login with session_key %q: %v", key, err)
				continue
			}
			if key != "" && strings.Contains(err.Error(), key) {
				t.Errorf("the error echoes the session_key: %v", err)
			}
			wantGone(t, st, tok, "refused login")
		}
		if _, _, err := st.UserKeys(ctx, oid(1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("a refused key was kept: %v", err)
		}
		wantLen(t, st, 0)
	})
}

func TestStoreTokens(t *testing.T) {
	t.Parallel()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		seen := map[string]bool{}
		for i := 0; i < 200; i++ {
			tok := st.NewToken(oid(1))
			if !WellFormedToken(tok) || len(tok) != TokenLen {
				t.Fatalf("NewToken = %q: not well-formed", tok)
			}
			if strings.Contains(tok, oid(1)) || strings.Contains(tok, "oTest") {
				t.Fatalf("token %q carries the openid", tok)
			}
			if seen[tok] {
				t.Fatalf("token %q handed out twice", tok)
			}
			seen[tok] = true
		}
	})
}

func TestWellFormedToken(t *testing.T) {
	good := strings.Repeat("aZ09-_", 7) + "x"
	if !WellFormedToken(good) {
		t.Errorf("%q refused", good)
	}
	for _, bad := range []string{"", good[1:], good + "x", good[1:] + "=", good[1:] + "+", good[1:] + "/", good[1:] + " ", good[1:] + "é"[:1]} {
		if WellFormedToken(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TTLs and idle timeouts of the tests that wait for them. A Memory store
// moves its own clock on (storeClock), so only a Redis store (whose keys
// expire on the server's clock) really waits: in parallel with the other
// tests, and long enough that a loaded machine's stalls do not end a
// session in use. expiryMargin is how long past its end a test looks for
// a session gone: a Memory store rounds an absolute expiry up to its
// expiryUnit, Redis is exact to the millisecond.
const (
	testTTL      = 2 * time.Second
	testIdle     = 2 * time.Second
	expiryMargin = 100 * time.Millisecond
)

// storeClock is the time a test reads and waits on for a store: the
// store's own clock if it has one it can move on (Memory: waiting moves
// it, no sleep), else real time.
type storeClock struct {
	now   func() time.Time
	sleep func(time.Duration)
}

func clockOf(st Store) storeClock {
	if c, ok := st.(interface {
		testNow() time.Time
		advance(time.Duration)
	}); ok {
		return storeClock{now: c.testNow, sleep: c.advance}
	}
	return storeClock{now: time.Now, sleep: time.Sleep}
}

func (c storeClock) since(t time.Time) time.Duration { return c.now().Sub(t) }

func (c storeClock) sleepUntil(t time.Time) {
	if d := t.Sub(c.now()); d > 0 {
		c.sleep(d)
	}
}

func TestStoreSessionTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const ttl = testTTL
	eachStore(t, Limits{MaxSessions: 100, SessionTTL: ttl}, func(t *testing.T, st Store) {
		clk := clockOf(st)
		start := clk.now()
		tok, _ := login(t, st, oid(1), uid(1), k1)
		other, _ := login(t, st, oid(2), "", k1)
		loggedIn := clk.now()
		mustGet(t, st, tok)
		// a phone bound near the end does not extend the session's life
		clk.sleep(ttl / 2)
		if err := st.BindPhone(ctx, other, oid(2), "13800138000", "86"); err != nil {
			t.Fatal(err)
		}
		if clk.since(start) < ttl {
			if s := mustGet(t, st, other); s.Phone != "13800138000" {
				t.Errorf("after BindPhone: %+v", s)
			}
		}
		clk.sleepUntil(loggedIn.Add(ttl + expiryMargin))
		wantGone(t, st, tok, "past its session_ttl")
		wantGone(t, st, other, "past its session_ttl, phone bound halfway")
		if err := st.BindPhone(ctx, other, oid(2), "13800138000", "86"); !errors.Is(err, ErrNotFound) {
			t.Errorf("BindPhone on an expired session = %v", err)
		}
		wantGone(t, st, other, "after BindPhone on the expired session")
	})
}

// A session used at least every idle/2 lives until session_ttl; one
// unused for 1.5 × idle has ended.
func TestStoreIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = testIdle
	eachStore(t, Limits{MaxSessions: 100, IdleTimeout: idle}, func(t *testing.T, st Store) {
		clk := clockOf(st)
		busy, _ := login(t, st, oid(1), uid(1), k1)
		lazy, _ := login(t, st, oid(2), uid(2), k1)
		unread, _ := login(t, st, oid(3), "", k1)
		start := clk.now()
		mustGet(t, st, lazy) // used once, at the start
		for clk.since(start) < 2*idle+idle/2 {
			clk.sleep(idle / 8)
			if _, err := st.Get(context.Background(), busy); err != nil {
				t.Fatalf("a session used every %v ended after %v: %v", idle/8, clk.since(start), err)
			}
		}
		wantGone(t, st, lazy, "unused for more than 1.5 × idle_timeout")
		if err := st.BindPhone(context.Background(), unread, oid(3), "13800138000", "86"); !errors.Is(err, ErrNotFound) {
			t.Errorf("BindPhone on a session idle too long = %v", err)
		}
		wantGone(t, st, unread, "idle too long, after a BindPhone")
		mustGet(t, st, busy)
	})
}

// With an idle timeout, session_ttl still caps a busy session's life.
func TestStoreIdleTimeoutKeepsSessionTTL(t *testing.T) {
	t.Parallel()
	const idle, ttl = testIdle, 2 * testIdle
	eachStore(t, Limits{MaxSessions: 100, SessionTTL: ttl, IdleTimeout: idle}, func(t *testing.T, st Store) {
		clk := clockOf(st)
		start := clk.now()
		tok, _ := login(t, st, oid(1), "", k1)
		loggedIn := clk.now()
		for clk.since(loggedIn) < ttl+expiryMargin {
			clk.sleep(idle / 8)
			_, err := st.Get(context.Background(), tok)
			if err != nil && clk.since(start) < ttl-idle/2 {
				t.Fatalf("ended after %v, before its session_ttl: %v", clk.since(start), err)
			}
		}
		wantGone(t, st, tok, "busy past its session_ttl")
	})
}

func TestStorePhoneBelongsToTheUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		first, s := login(t, st, oid(1), uid(1), k1)
		if s.Phone != "" || s.PhoneCountry != "" {
			t.Fatalf("a phone before any bind: %+v", s)
		}
		if err := st.BindPhone(ctx, first, oid(1), "13800138000", "86"); err != nil {
			t.Fatal(err)
		}
		if s := mustGet(t, st, first); s.Phone != "13800138000" || s.PhoneCountry != "86" || s.OpenID != oid(1) || s.UnionID != uid(1) {
			t.Errorf("the session of the bind: %+v", s)
		}
		// a later login of the same user starts with it
		second, s := login(t, st, oid(1), uid(1), k1)
		if s.Phone != "13800138000" || s.PhoneCountry != "86" {
			t.Errorf("Login of the user after a bind = %+v", s)
		}
		if s := mustGet(t, st, second); s.Phone != "13800138000" {
			t.Errorf("Get of the user's new session = %+v", s)
		}
		// the first session logged out: the phone stays the user's
		if err := st.Delete(ctx, first); err != nil {
			t.Fatal(err)
		}
		if _, s := login(t, st, oid(1), uid(1), k1); s.Phone != "13800138000" {
			t.Errorf("Login after the bind's session ended = %+v", s)
		}
		// another user has none
		if _, s := login(t, st, oid(2), uid(2), k1); s.Phone != "" {
			t.Errorf("another user got a phone: %+v", s)
		}
		// a new bind replaces it
		if err := st.BindPhone(ctx, second, oid(1), "447700900123", "44"); err != nil {
			t.Fatal(err)
		}
		if s := mustGet(t, st, second); s.Phone != "447700900123" || s.PhoneCountry != "44" {
			t.Errorf("after a second bind: %+v", s)
		}
		if _, s := login(t, st, oid(1), uid(1), k1); s.Phone != "447700900123" || s.PhoneCountry != "44" {
			t.Errorf("Login after a second bind = %+v", s)
		}
	})
}

func TestStorePhoneTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const phoneTTL = testTTL
	eachStore(t, Limits{MaxSessions: 100, PhoneTTL: phoneTTL}, func(t *testing.T, st Store) {
		clk := clockOf(st)
		tok, _ := login(t, st, oid(1), "", k1)
		start := clk.now()
		if err := st.BindPhone(ctx, tok, oid(1), "13800138000", "86"); err != nil {
			t.Fatal(err)
		}
		bound := clk.now()
		_, s := login(t, st, oid(1), "", k1)
		if clk.since(start) < phoneTTL && s.Phone != "13800138000" {
			t.Errorf("Login within phone_ttl = %+v", s)
		}
		clk.sleepUntil(bound.Add(phoneTTL + expiryMargin))
		if _, s := login(t, st, oid(1), "", k1); s.Phone != "" || s.PhoneCountry != "" {
			t.Errorf("Login past phone_ttl = %+v", s)
		}
		mustGet(t, st, tok) // the session itself lives on
	})
}

func TestStoreBindPhoneNeverRevives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		tok, _ := login(t, st, oid(1), "", k1)
		if err := st.Delete(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := st.BindPhone(ctx, tok, oid(1), "13800138000", "86"); !errors.Is(err, ErrNotFound) {
			t.Errorf("BindPhone after Delete = %v, want ErrNotFound", err)
		}
		wantGone(t, st, tok, "after BindPhone on a deleted session")
		if _, s := login(t, st, oid(1), "", k1); s.Phone != "" {
			t.Errorf("a bind on a deleted session stuck to the user: %+v", s)
		}
		wantLen(t, st, 1)

		revoked, _ := login(t, st, oid(2), "", k1)
		if _, err := st.RevokeUser(ctx, oid(2), false); err != nil {
			t.Fatal(err)
		}
		if err := st.BindPhone(ctx, revoked, oid(2), "13800138000", "86"); !errors.Is(err, ErrNotFound) {
			t.Errorf("BindPhone after RevokeUser = %v, want ErrNotFound", err)
		}
		wantGone(t, st, revoked, "after BindPhone on a revoked session")
		if _, s := login(t, st, oid(2), "", k1); s.Phone != "" {
			t.Errorf("a bind on a revoked session stuck to the user: %+v", s)
		}
		if err := st.BindPhone(ctx, st.NewToken(oid(3)), oid(3), "13800138000", "86"); !errors.Is(err, ErrNotFound) {
			t.Errorf("BindPhone with an unknown token = %v", err)
		}
	})
}

func TestStoreRevokeUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		var toks []string
		for i := 0; i < 3; i++ {
			tok, _ := login(t, st, oid(1), uid(1), k1)
			toks = append(toks, tok)
		}
		other, _ := login(t, st, oid(2), uid(2), k1)
		if err := st.BindPhone(ctx, toks[0], oid(1), "13800138000", "86"); err != nil {
			t.Fatal(err)
		}
		wantLen(t, st, 4)
		n, err := st.RevokeUser(ctx, oid(1), false)
		if err != nil || n != 3 {
			t.Errorf("RevokeUser after 3 logins = %d, %v; want 3", n, err)
		}
		// (the session 1 is left unread: a store may clear a revoked
		// session when it meets it)
		wantGone(t, st, toks[0], "session 0 after RevokeUser")
		wantGone(t, st, toks[2], "session 2 after RevokeUser")
		mustGet(t, st, other)
		wantLen(t, st, 1)
		if n, err := st.RevokeUser(ctx, oid(1), false); err != nil || n != 0 {
			t.Errorf("RevokeUser again = %d, %v; want 0", n, err)
		}
		if n, err := st.RevokeUser(ctx, oid(9), false); err != nil || n != 0 {
			t.Errorf("RevokeUser of an unknown user = %d, %v; want 0", n, err)
		}
		// without forgetUser (logout of all by the user) the phone and
		// the keys stay
		if newest, _, err := st.UserKeys(ctx, oid(1)); err != nil || newest != k1 {
			t.Errorf("UserKeys after RevokeUser = %q, %v", newest, err)
		}
		revoked := toks
		toks = nil
		for i := 0; i < 3; i++ {
			tok, s := login(t, st, oid(1), uid(1), k1)
			if s.Phone != "13800138000" {
				t.Errorf("Login after RevokeUser lost the phone: %+v", s)
			}
			toks = append(toks, tok)
		}
		// the new sessions live: revocation is not forever
		mustGet(t, st, toks[2])
		if err := st.Delete(ctx, toks[0]); err != nil {
			t.Fatal(err)
		}
		// a logout with a revoked token changes nothing
		if err := st.Delete(ctx, revoked[1]); err != nil {
			t.Fatal(err)
		}
		wantLen(t, st, 3)
		wantGone(t, st, revoked[1], "a revoked session")
		if n, err := st.RevokeUser(ctx, oid(1), false); err != nil || n != 2 {
			t.Errorf("RevokeUser after 3 logins and a logout = %d, %v; want 2", n, err)
		}
		for _, tok := range toks {
			wantGone(t, st, tok, "after the second RevokeUser")
		}
		mustGet(t, st, other)
		wantLen(t, st, 1)
	})
}

// RevokeUser with forgetUser (an admin's ban) forgets the phone and the
// keys too.
func TestStoreRevokeUserForget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		a, _ := login(t, st, oid(1), uid(1), k1)
		b, _ := login(t, st, oid(1), uid(1), k2)
		if err := st.BindPhone(ctx, a, oid(1), "13800138000", "86"); err != nil {
			t.Fatal(err)
		}
		other, _ := login(t, st, oid(2), "", k3)
		if err := st.BindPhone(ctx, other, oid(2), "13900139000", "86"); err != nil {
			t.Fatal(err)
		}
		if n, err := st.RevokeUser(ctx, oid(1), true); err != nil || n != 2 {
			t.Errorf("RevokeUser(forget) = %d, %v; want 2", n, err)
		}
		wantGone(t, st, a, "after RevokeUser(forget)")
		wantGone(t, st, b, "after RevokeUser(forget)")
		if n, p, err := st.UserKeys(ctx, oid(1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserKeys after RevokeUser(forget) = %q, %q, %v", n, p, err)
		}
		c, s := login(t, st, oid(1), uid(1), k3)
		if s.Phone != "" {
			t.Errorf("Login after RevokeUser(forget) kept the phone: %+v", s)
		}
		if n, p, err := st.UserKeys(ctx, oid(1)); err != nil || n != k3 || p != "" {
			t.Errorf("UserKeys after a new login = %q, %q, %v; want k3 alone", n, p, err)
		}
		wantGone(t, st, a, "an old session after the user came back")
		mustGet(t, st, c)
		// the other user keeps everything
		if s := mustGet(t, st, other); s.Phone != "13900139000" {
			t.Errorf("the other user: %+v", s)
		}
		if n, _, err := st.UserKeys(ctx, oid(2)); err != nil || n != k3 {
			t.Errorf("the other user's keys: %q, %v", n, err)
		}
		wantLen(t, st, 2)
	})
}

func TestStoreUserKeysRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100}, func(t *testing.T, st Store) {
		if _, _, err := st.UserKeys(ctx, oid(1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
		want := func(newest, previous string) {
			t.Helper()
			n, p, err := st.UserKeys(ctx, oid(1))
			if err != nil || n != newest || p != previous {
				t.Errorf("UserKeys = %q, %q, %v; want %q, %q", n, p, err, newest, previous)
			}
		}
		login(t, st, oid(1), "", k1)
		want(k1, "")
		login(t, st, oid(1), "", k2)
		want(k2, k1)
		// WeChat hands out an unchanged key again: nothing moves
		login(t, st, oid(1), "", k2)
		want(k2, k1)
		login(t, st, oid(1), "", k3)
		want(k3, k2)
		login(t, st, oid(1), "", k3)
		login(t, st, oid(1), "", k3)
		want(k3, k2)
		login(t, st, oid(1), "", k1)
		want(k1, k3)
		// another user's keys are their own
		if _, _, err := st.UserKeys(ctx, oid(2)); !errors.Is(err, ErrNotFound) {
			t.Errorf("another user: %v", err)
		}
	})
}

// A reload that changes the limits keeps every live session.
func TestStoreSetLimitsKeepsSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100, SessionTTL: time.Hour}, func(t *testing.T, st Store) {
		var toks []string
		for i := 0; i < 20; i++ {
			tok, _ := login(t, st, oid(i), uid(i), k1)
			toks = append(toks, tok)
		}
		if err := st.BindPhone(ctx, toks[0], oid(0), "13800138000", "86"); err != nil {
			t.Fatal(err)
		}
		check := func(when string, extra int64) {
			t.Helper()
			for i, tok := range toks {
				s, err := st.Get(ctx, tok)
				if err != nil || s.OpenID != oid(i) {
					t.Errorf("%s: session %d: %+v, %v", when, i, s, err)
				}
			}
			wantLen(t, st, int64(len(toks))+extra)
		}
		const ttl = testTTL
		clk := clockOf(st)
		st.SetLimits(Limits{MaxSessions: 50, SessionTTL: ttl, IdleTimeout: time.Hour, PhoneTTL: time.Hour})
		check("after shrinking", 0)
		start := clk.now()
		short, _ := login(t, st, oid(100), "", k1)
		loggedIn := clk.now()
		st.SetLimits(Limits{MaxSessions: 1000, SessionTTL: ttl})
		if clk.since(start) < ttl {
			mustGet(t, st, short)
			check("after growing", 1)
		}
		if s := mustGet(t, st, toks[0]); s.Phone != "13800138000" {
			t.Errorf("the phone after SetLimits: %+v", s)
		}
		// the new session_ttl applies to the new session only
		clk.sleepUntil(loggedIn.Add(ttl + expiryMargin))
		wantGone(t, st, short, "a session made under the new session_ttl, past it")
		for i, tok := range toks {
			if s, err := st.Get(ctx, tok); err != nil {
				t.Errorf("past the new session_ttl: session %d: %+v, %v", i, s, err)
			}
		}
	})
}

// Many goroutines at once on shared and own users: no race, no panic,
// and the counts of live sessions (Len, RevokeUser) match the sessions
// that answer.
func TestStoreConcurrency(t *testing.T) {
	ctx := context.Background()
	eachStore(t, Limits{MaxSessions: 100_000}, func(t *testing.T, st Store) {
		const workers, rounds, sharedUsers = 8, 150, 3
		var mu sync.Mutex
		var kept []string                    // sessions of own users never ended
		var sharedToks [sharedUsers][]string // sessions of the shared users
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys := []string{k1, k2, k3}
				for i := 0; i < rounds; i++ {
					own := oid(1000 + w)
					u := (i + w) % sharedUsers
					shared := oid(u)
					tok := st.NewToken(own)
					if _, err := st.Login(ctx, tok, Session{OpenID: own, UnionID: uid(w)}, keys[i%3]); err != nil {
						t.Error(err)
						return
					}
					stok := st.NewToken(shared)
					if _, err := st.Login(ctx, stok, Session{OpenID: shared}, keys[(i+w)%3]); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					sharedToks[u] = append(sharedToks[u], stok)
					mu.Unlock()
					_, _ = st.Get(ctx, stok)
					_ = st.BindPhone(ctx, stok, shared, fmt.Sprintf("1380013%04d", i), "86")
					if s, err := st.Get(ctx, tok); err != nil || s.OpenID != own {
						t.Errorf("own session: %+v, %v", s, err)
					}
					switch i % 5 {
					case 0:
						_ = st.Delete(ctx, stok)
						_ = st.Delete(ctx, tok)
					case 1:
						_, _ = st.RevokeUser(ctx, shared, i%2 == 0)
						fallthrough
					default:
						_, _, _ = st.UserKeys(ctx, shared)
						mu.Lock()
						kept = append(kept, tok)
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		for _, tok := range kept {
			mustGet(t, st, tok)
		}
		alive := int64(len(kept))
		for u, toks := range sharedToks {
			n := 0
			for _, tok := range toks {
				if _, err := st.Get(ctx, tok); err == nil {
					n++
				}
			}
			alive += int64(n)
			if got, err := st.RevokeUser(ctx, oid(u), false); err != nil || got != n {
				t.Errorf("RevokeUser(shared user %d) = %d, %v; %d sessions answered", u, got, err, n)
			}
		}
		wantLen(t, st, int64(len(kept)))
		if alive == int64(len(kept)) {
			t.Log("no shared session was left to revoke")
		}
	})
}
