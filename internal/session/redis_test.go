package session

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

func init() {
	storeKinds["redis"] = func(t *testing.T, l Limits) Store {
		srv := testredis.Start(t)
		return newRedisStore(t, srv.URL(), l)
	}
}

const testSecret = "app-secret"

// newRedisStore makes a Redis store of app "wxapp" on url, closed when the
// test ends.
func newRedisStore(tb testing.TB, url string, l Limits, mod ...func(*RedisOptions)) *Redis {
	tb.Helper()
	o := RedisOptions{URL: url, AppID: "wxapp", KeySecret: testSecret, Timeout: 2 * time.Second, Limits: l}
	for _, m := range mod {
		m(&o)
	}
	r, err := NewRedis(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

// skey is a session_key as WeChat sends it: base64 of 16 bytes.
func skey(n int) string {
	var b [16]byte
	copy(b[:], fmt.Sprintf("key-%012d", n))
	return base64.StdEncoding.EncodeToString(b[:])
}

// login logs openID in with session_key key; it returns the token and
// what Login returned.
func rlogin(tb testing.TB, st Store, openID, key string) (string, Session) {
	tb.Helper()
	tok := st.NewToken(openID)
	s, err := st.Login(context.Background(), tok, Session{OpenID: openID, UnionID: "u-" + openID}, key)
	if err != nil {
		tb.Fatalf("Login(%s): %v", openID, err)
	}
	return tok, s
}

func rmustGet(tb testing.TB, st Store, tok string) Session {
	tb.Helper()
	s, err := st.Get(context.Background(), tok)
	if err != nil {
		tb.Fatalf("Get: %v", err)
	}
	return s
}

func wantNotFound(tb testing.TB, st Store, tok, when string) {
	tb.Helper()
	if s, err := st.Get(context.Background(), tok); !errors.Is(err, ErrNotFound) {
		tb.Fatalf("%s: Get = %+v, %v; want ErrNotFound", when, s, err)
	}
}

// pttl is the TTL in ms Redis has for token's session (-2: no key).
func pttl(tb testing.TB, srv *testredis.Server, r *Redis, tok string) int64 {
	tb.Helper()
	return srv.MustDo("PTTL", r.keys.sessionKey(tok)).(int64)
}

// cmdCalls is how often Redis ran cmd (scripts' calls included).
func cmdCalls(tb testing.TB, srv *testredis.Server, cmd string) int64 {
	tb.Helper()
	info := srv.MustDo("INFO", "commandstats").(string)
	for _, line := range strings.Split(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
			return n
		}
	}
	return 0
}

func TestRedisLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{})
	tok, s := rlogin(t, st, "o-alice", skey(1))
	if s != (Session{OpenID: "o-alice", UnionID: "u-o-alice"}) {
		t.Fatalf("Login returned %+v", s)
	}
	if !WellFormedToken(tok) {
		t.Fatalf("NewToken made %q", tok)
	}
	if got := identity(rmustGet(t, st, tok)); got != s {
		t.Fatalf("Get = %+v, want %+v", got, s)
	}
	if n, ok := st.Len(); n != 0 || ok {
		t.Errorf("Len = %d, %v; want 0, false", n, ok)
	}
	wantNotFound(t, st, st.NewToken("o-alice"), "a token never logged in")
	wantNotFound(t, st, "junk", "junk")
	wantNotFound(t, st, strings.Repeat("A", TokenLen), "a well-formed token never issued")
	if err := st.Delete(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, st, tok, "after Delete")
	if err := st.Delete(ctx, tok); err != nil {
		t.Errorf("deleting a missing session: %v", err)
	}
	if err := st.Delete(ctx, "junk"); err != nil {
		t.Errorf("deleting junk: %v", err)
	}
	// another app on the same Redis never sees app wxapp's sessions
	tok2, _ := rlogin(t, st, "o-alice", skey(1))
	other := newRedisStore(t, srv.URL(), Limits{}, func(o *RedisOptions) { o.AppID = "wxother" })
	wantNotFound(t, other, tok2, "another app")
	if n, err := other.RevokeUser(ctx, "o-alice", true); n != 0 || err != nil {
		t.Errorf("another app's RevokeUser = %d, %v", n, err)
	}
	rmustGet(t, st, tok2)
}

func TestRedisTokens(t *testing.T) {
	k, err := newRedisKeys("wxapp", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	tags := map[string]bool{}
	for i := 0; i < 200; i++ {
		openID := fmt.Sprintf("oUser%04d", i)
		a, b := k.newToken(openID), k.newToken(openID)
		if !WellFormedToken(a) || a == b || seen[a] {
			t.Fatalf("tokens %q %q", a, b)
		}
		seen[a], seen[b] = true, true
		// the same routing tag, then 232 random bits
		if a[:tagLen] != k.tag(openID) || b[:tagLen] != a[:tagLen] || a[tagLen:] == b[tagLen:] {
			t.Fatalf("tokens of one user %q %q, tag %q", a, b, k.tag(openID))
		}
		if strings.Contains(a, openID) {
			t.Fatalf("token %q holds the openid", a)
		}
		tags[a[:tagLen]] = true
		// a user's keys and its sessions' keys share the hash tag
		want := "wxauth:{wxapp:" + k.tag(openID) + "}:"
		for _, key := range []string{k.sessionKey(a), k.userKey(openID), k.indexKey(openID)} {
			if !strings.HasPrefix(key, want) {
				t.Fatalf("key %q, want prefix %q", key, want)
			}
		}
		if k.sessionKey(a) != want+"s:"+tokenID(a) {
			t.Fatalf("sessionKey %q", k.sessionKey(a))
		}
	}
	if len(tags) < 190 {
		t.Errorf("200 users share %d routing tags", len(tags))
	}
	// the tag is keyed: another secret, other tags
	k2, _ := newRedisKeys("wxapp", "another-secret")
	if k2.tag("oUser0001") == k.tag("oUser0001") && k2.tag("oUser0002") == k.tag("oUser0002") {
		t.Error("routing tags do not depend on the secret")
	}
}

func TestRedisLoginRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{})
	bob := st.NewToken("o-bob")
	if _, err := st.Login(ctx, bob, Session{OpenID: "o-alice"}, skey(1)); err == nil {
		t.Error("Login of alice with a token made for bob")
	}
	if _, err := st.Login(ctx, strings.Repeat("A", TokenLen), Session{OpenID: "o-alice"}, skey(1)); err == nil {
		t.Error("Login with a token NewToken did not make")
	}
	// ("" is a platform without session keys: store_keys_test.go)
	for _, key := range []string{"c2hvcnQ=", "not base64!"} {
		if _, err := st.Login(ctx, st.NewToken("o-alice"), Session{OpenID: "o-alice"}, key); err == nil {
			t.Errorf("Login with session_key %q", key)
		}
	}
	if _, err := st.Login(ctx, st.NewToken("o\x00x"), Session{OpenID: "o\x00x"}, skey(1)); err == nil {
		t.Error("Login of an openid with a NUL")
	}
	if srv.MustDo("DBSIZE").(int64) != 0 {
		t.Errorf("refused logins wrote %v keys", srv.MustDo("DBSIZE"))
	}
}

func TestRedisSessionTTL(t *testing.T) {
	t.Parallel()
	const ttl = time.Second
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{SessionTTL: ttl})
	tok, _ := rlogin(t, st, "o-alice", skey(1))
	loggedIn := time.Now()
	if left := pttl(t, srv, st, tok); left <= 0 || left > ttl.Milliseconds() {
		t.Fatalf("PTTL %d, want (0, %d]", left, ttl.Milliseconds())
	}
	rmustGet(t, st, tok)
	time.Sleep(time.Until(loggedIn.Add(ttl + 20*time.Millisecond)))
	wantNotFound(t, st, tok, "after SessionTTL")

	// SetLimits: live sessions keep their life, new ones get the new one
	st.SetLimits(Limits{SessionTTL: time.Hour})
	long, _ := rlogin(t, st, "o-alice", skey(1))
	st.SetLimits(Limits{SessionTTL: 2 * time.Second})
	short, _ := rlogin(t, st, "o-alice", skey(1))
	rmustGet(t, st, long)
	if ttl := pttl(t, srv, st, long); ttl < int64(time.Hour/time.Millisecond)-60_000 {
		t.Errorf("a session of before SetLimits: PTTL %d", ttl)
	}
	if ttl := pttl(t, srv, st, short); ttl > 2000 {
		t.Errorf("a session of after SetLimits: PTTL %d", ttl)
	}
}

// Idle expiry: a session used often lives, one left alone ends; renewals
// are rare writes.
func TestRedisIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = testIdle
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{IdleTimeout: idle, SessionTTL: time.Hour})
	tok, _ := rlogin(t, st, "o-alice", skey(1))
	if ttl := pttl(t, srv, st, tok); ttl <= 0 || ttl > idle.Milliseconds() {
		t.Fatalf("PTTL after login %d, want (0, idle]", ttl)
	}
	// used every idle/5 for 2 idle timeouts: alive all along
	var last time.Time
	for end := time.Now().Add(2 * idle); time.Now().Before(end); time.Sleep(idle / 5) {
		rmustGet(t, st, tok)
		last = time.Now()
	}
	// a burst of Gets within idle/4 writes at most once (twice if it
	// straddles a renewal point)
	before := cmdCalls(t, srv, "pexpireat")
	start := time.Now()
	for i := 0; i < 300; i++ {
		rmustGet(t, st, tok)
	}
	last = time.Now()
	renewals := cmdCalls(t, srv, "pexpireat") - before
	if max := int64(time.Since(start)/(idle/4)) + 2; renewals > max {
		t.Errorf("300 Gets in %v renewed %d times (at most %d: once per idle/4)", time.Since(start), renewals, max)
	}
	if ttl := pttl(t, srv, st, tok); ttl <= 0 || ttl > idle.Milliseconds() {
		t.Errorf("PTTL %d after use, want (0, idle]", ttl)
	}
	// unused for 1.5 idle timeouts: ended
	time.Sleep(time.Until(last.Add(idle * 3 / 2)))
	wantNotFound(t, st, tok, "unused for 1.5 × idle_timeout")
}

func TestRedisIdleCappedBySessionTTL(t *testing.T) {
	t.Parallel()
	const idle, ttl = testIdle, testIdle * 3 / 2
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{IdleTimeout: idle, SessionTTL: ttl})
	start := time.Now()
	tok, _ := rlogin(t, st, "o-alice", skey(1))
	loggedIn := time.Now()
	for time.Since(start) < ttl*13/15 {
		rmustGet(t, st, tok)
		time.Sleep(idle / 10)
	}
	time.Sleep(time.Until(loggedIn.Add(ttl + 20*time.Millisecond)))
	wantNotFound(t, st, tok, "used all along, past SessionTTL")
}

// A reload that turns the idle timeout on, shortens it or turns it off
// keeps the sessions, and moves their expiry on their next use.
func TestRedisIdleTimeoutChanged(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{SessionTTL: time.Hour})
	tok, _ := rlogin(t, st, "o-alice", skey(1))
	st.SetLimits(Limits{SessionTTL: time.Hour, IdleTimeout: time.Minute})
	rmustGet(t, st, tok)
	if ttl := pttl(t, srv, st, tok); ttl > 60_000 {
		t.Errorf("idle timeout turned on: PTTL %d after a Get, want <= 1 min", ttl)
	}
	st.SetLimits(Limits{SessionTTL: time.Hour})
	rmustGet(t, st, tok)
	if ttl := pttl(t, srv, st, tok); ttl < 3_500_000 {
		t.Errorf("idle timeout turned off: PTTL %d after a Get, want about 1 h", ttl)
	}
}

func TestRedisPhoneBelongsToTheUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{PhoneTTL: time.Hour})
	t1, _ := rlogin(t, st, "o-alice", skey(1))
	other, _ := rlogin(t, st, "o-bob", skey(2))
	if err := st.BindPhone(ctx, t1, "o-alice", "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	if s := rmustGet(t, st, t1); s.Phone != "13800138000" || s.PhoneCountry != "86" || s.OpenID != "o-alice" || s.UnionID != "u-o-alice" {
		t.Fatalf("after BindPhone: %+v", s)
	}
	// a later login of the user starts with it
	t2, s2 := rlogin(t, st, "o-alice", skey(1))
	if s2.Phone != "13800138000" || s2.PhoneCountry != "86" {
		t.Fatalf("Login after a bind returned %+v", s2)
	}
	if s := rmustGet(t, st, t2); s.Phone != "13800138000" {
		t.Fatalf("the new session: %+v", s)
	}
	if s := rmustGet(t, st, other); s.Phone != "" {
		t.Fatalf("another user got the phone: %+v", s)
	}
	// a new bind replaces it
	if err := st.BindPhone(ctx, t2, "o-alice", "13900139000", "86"); err != nil {
		t.Fatal(err)
	}
	if _, s3 := rlogin(t, st, "o-alice", skey(1)); s3.Phone != "13900139000" {
		t.Fatalf("after a second bind: %+v", s3)
	}
	// BindPhone with a token of another user binds nothing
	if err := st.BindPhone(ctx, other, "o-alice", "10000000000", "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("BindPhone with bob's token for alice: %v", err)
	}
	if s := rmustGet(t, st, other); s.Phone != "" {
		t.Errorf("bob's session: %+v", s)
	}
}

func TestRedisPhoneTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	const phoneTTL = testTTL
	st := newRedisStore(t, srv.URL(), Limits{PhoneTTL: phoneTTL})
	tok, _ := rlogin(t, st, "o-alice", skey(1))
	if err := st.BindPhone(ctx, tok, "o-alice", "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	bound := time.Now()
	if _, s := rlogin(t, st, "o-alice", skey(1)); s.Phone != "13800138000" {
		t.Fatalf("login within PhoneTTL: %+v", s)
	}
	time.Sleep(time.Until(bound.Add(phoneTTL + expiryMargin)))
	if _, s := rlogin(t, st, "o-alice", skey(1)); s.Phone != "" {
		t.Fatalf("login after PhoneTTL: %+v", s)
	}
	if s := rmustGet(t, st, tok); s.Phone != "" || s.OpenID != "o-alice" {
		t.Fatalf("the session of the bind, after PhoneTTL: %+v", s)
	}
}

// BindPhone never revives a session nor extends its life.
func TestRedisBindPhoneAfterDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{SessionTTL: time.Hour})
	tok, _ := rlogin(t, st, "o-alice", skey(1))
	before := pttl(t, srv, st, tok)
	time.Sleep(20 * time.Millisecond)
	if err := st.BindPhone(ctx, tok, "o-alice", "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	if after := pttl(t, srv, st, tok); after > before || after < 0 {
		t.Errorf("BindPhone extended the session: PTTL %d -> %d", before, after)
	}
	if err := st.Delete(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := st.BindPhone(ctx, tok, "o-alice", "13900139000", "86"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("BindPhone after Delete: %v, want ErrNotFound", err)
	}
	if n := srv.MustDo("EXISTS", st.keys.sessionKey(tok)).(int64); n != 0 {
		t.Fatal("BindPhone revived a deleted session")
	}
	wantNotFound(t, st, tok, "after Delete and BindPhone")
	// and it bound nothing to the user
	if _, s := rlogin(t, st, "o-alice", skey(1)); s.Phone != "13800138000" {
		t.Errorf("a bind on a deleted session changed the user's phone: %+v", s)
	}
	if err := st.BindPhone(ctx, "junk", "o-alice", "1", "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("BindPhone(junk) = %v", err)
	}
}

func TestRedisRevokeUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{SessionTTL: time.Hour})
	var alice []string
	for i := 0; i < 4; i++ {
		tok, _ := rlogin(t, st, "o-alice", skey(1))
		alice = append(alice, tok)
	}
	bob, _ := rlogin(t, st, "o-bob", skey(2))
	if err := st.BindPhone(ctx, alice[0], "o-alice", "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, alice[1]); err != nil {
		t.Fatal(err)
	}
	// one that expired on its own
	st.SetLimits(Limits{SessionTTL: 100 * time.Millisecond})
	expired, _ := rlogin(t, st, "o-alice", skey(1))
	st.SetLimits(Limits{SessionTTL: time.Hour})
	time.Sleep(150 * time.Millisecond)
	wantNotFound(t, st, expired, "expired")

	n, err := st.RevokeUser(ctx, "o-alice", false)
	if err != nil || n != 3 {
		t.Fatalf("RevokeUser = %d, %v; want 3 live sessions ended", n, err)
	}
	for _, tok := range alice {
		wantNotFound(t, st, tok, "revoked")
	}
	rmustGet(t, st, bob)
	// the user is kept: keys and phone
	if k, _, err := st.UserKeys(ctx, "o-alice"); err != nil || k != skey(1) {
		t.Errorf("UserKeys after RevokeUser(forget=false): %q, %v", k, err)
	}
	tok, s := rlogin(t, st, "o-alice", skey(1))
	if s.Phone != "13800138000" {
		t.Errorf("the phone went with RevokeUser(forget=false): %+v", s)
	}
	if n, err := st.RevokeUser(ctx, "o-alice", false); n != 1 || err != nil {
		t.Errorf("second RevokeUser = %d, %v; want 1", n, err)
	}
	if n, err := st.RevokeUser(ctx, "o-alice", false); n != 0 || err != nil {
		t.Errorf("RevokeUser of a user without sessions = %d, %v; want 0", n, err)
	}
	wantNotFound(t, st, tok, "revoked")

	// forgetUser: the phone and the keys go too
	tok, _ = rlogin(t, st, "o-alice", skey(1))
	if n, err := st.RevokeUser(ctx, "o-alice", true); n != 1 || err != nil {
		t.Errorf("RevokeUser(forget) = %d, %v; want 1", n, err)
	}
	wantNotFound(t, st, tok, "revoked and forgotten")
	if _, _, err := st.UserKeys(ctx, "o-alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserKeys of a forgotten user: %v", err)
	}
	if _, s := rlogin(t, st, "o-alice", skey(1)); s.Phone != "" {
		t.Errorf("a forgotten user's phone came back: %+v", s)
	}
	if n, err := st.RevokeUser(ctx, "o-nobody", true); n != 0 || err != nil {
		t.Errorf("RevokeUser(unknown) = %d, %v", n, err)
	}
	rmustGet(t, st, bob)
}

// WeChat hands out the same session_key again: the previous one stays.
func TestRedisUnchangedSessionKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{})
	if _, _, err := st.UserKeys(ctx, "o-alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UserKeys of an unknown user: %v", err)
	}
	for _, step := range []struct {
		key            string
		newest, before string
	}{
		{skey(1), skey(1), ""},
		{skey(1), skey(1), ""},
		{skey(2), skey(2), skey(1)},
		{skey(2), skey(2), skey(1)}, // the same key again: nothing moves
		{skey(2), skey(2), skey(1)},
		{skey(3), skey(3), skey(2)},
		{skey(2), skey(2), skey(3)},
	} {
		rlogin(t, st, "o-alice", step.key)
		n, p, err := st.UserKeys(ctx, "o-alice")
		if err != nil || n != step.newest || p != step.before {
			t.Fatalf("after a login with %s: UserKeys = %q, %q, %v; want %q, %q", step.key, n, p, err, step.newest, step.before)
		}
	}
	// sealed: they open with the secret's key only, and for that openid only
	raw := srv.MustDo("HMGET", st.keys.userKey("o-alice"), "kn", "kp").([]any)
	other, _ := newRedisKeys("wxapp", "new-secret")
	for i, v := range raw {
		sealed, _ := v.(string)
		if st.keys.open("o-alice", sealed) == "" {
			t.Errorf("field %d does not open", i)
		}
		if other.open("o-alice", sealed) != "" || st.keys.open("o-bob", sealed) != "" {
			t.Errorf("field %d opens with another secret or for another user", i)
		}
	}
}

// Everything in Redis, names and values: no token, no session_key in
// clear; every key of a user in its hash slot.
func TestRedisNothingSecretInClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	st := newRedisStore(t, srv.URL(), Limits{IdleTimeout: time.Hour})
	var tokens, keys []string
	for i, openID := range []string{"o-alice", "o-bob", "o-carol"} {
		for j := 0; j < 3; j++ {
			key := skey(10*i + j)
			tok, _ := rlogin(t, st, openID, key)
			tokens, keys = append(tokens, tok), append(keys, key)
			if err := st.BindPhone(ctx, tok, openID, "13800138000", "86"); err != nil {
				t.Fatal(err)
			}
			rmustGet(t, st, tok)
		}
	}
	if err := st.Delete(ctx, tokens[0]); err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	names, _ := srv.MustDo("KEYS", "*").([]any)
	if len(names) == 0 {
		t.Fatal("nothing in Redis")
	}
	for _, n := range names {
		name := n.(string)
		if !strings.HasPrefix(name, "wxauth:{wxapp:") {
			t.Errorf("key %q outside the app's namespace", name)
		}
		dump.WriteString(name + "\n")
		switch typ := srv.MustDo("TYPE", name); typ {
		case "string":
			dump.WriteString(srv.MustDo("GET", name).(string))
		case "hash":
			fmt.Fprint(&dump, srv.MustDo("HGETALL", name))
		case "zset":
			fmt.Fprint(&dump, srv.MustDo("ZRANGE", name, "0", "-1", "WITHSCORES"))
		default:
			t.Errorf("key %q of type %v", name, typ)
		}
		dump.WriteString("\n")
	}
	all := dump.String()
	for _, tok := range tokens {
		if strings.Contains(all, tok) || strings.Contains(all, tok[tagLen:]) {
			t.Errorf("a token is in Redis in clear")
		}
	}
	for _, key := range keys {
		raw, _ := base64.StdEncoding.DecodeString(key)
		if strings.Contains(all, key) || strings.Contains(all, string(raw)) ||
			strings.Contains(all, base64.RawURLEncoding.EncodeToString(raw)) || strings.Contains(all, fmt.Sprintf("%x", raw)) {
			t.Errorf("a session_key is in Redis in clear")
		}
	}
	for _, openID := range []string{"o-alice", "o-bob", "o-carol"} {
		want := "wxauth:{wxapp:" + st.keys.tag(openID) + "}:"
		for _, key := range []string{st.keys.userKey(openID), st.keys.indexKey(openID)} {
			if !strings.HasPrefix(key, want) || !strings.Contains(all, key+"\n") {
				t.Errorf("user key %q missing or outside %q", key, want)
			}
		}
	}
}

// Redis paused, then killed: once the store knows, every call fails at
// once with ErrUnavailable (never a pass), OnStateChange hears each
// change once, and the store recovers by itself.
func TestRedisDownFailsFastAndRecovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testredis.Start(t)
	var log stateLog
	const timeout = 2 * time.Second
	st := newRedisStore(t, srv.URL(), Limits{}, func(o *RedisOptions) {
		o.Timeout = timeout
		o.OnStateChange = log.hook
	})
	tok, _ := rlogin(t, st, "o-alice", skey(1))
	rmustGet(t, st, tok)
	rmustGet(t, st, tok) // in the near cache now

	allFailFast := func(when string) {
		t.Helper()
		calls := map[string]func() error{
			"Get": func() error { _, err := st.Get(ctx, tok); return err },
			"Login": func() error {
				_, err := st.Login(ctx, st.NewToken("o-bob"), Session{OpenID: "o-bob"}, skey(2))
				return err
			},
			"BindPhone":  func() error { return st.BindPhone(ctx, tok, "o-alice", "13800138000", "86") },
			"Delete":     func() error { return st.Delete(ctx, tok) },
			"RevokeUser": func() error { _, err := st.RevokeUser(ctx, "o-alice", false); return err },
			"UserKeys":   func() error { _, _, err := st.UserKeys(ctx, "o-alice"); return err },
		}
		for name, call := range calls {
			start := time.Now()
			err := call()
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("%s: %s = %v, want ErrUnavailable", when, name, err)
			}
			if d := time.Since(start); d > timeout/4 {
				t.Errorf("%s: %s took %v, with the store known down (timeout %v)", when, name, d, timeout)
			}
		}
	}
	waitState := func(want []string) {
		t.Helper()
		waitFor(t, 3*timeout, fmt.Sprintf("OnStateChange %v", want), func() bool {
			ev, _ := log.get()
			return fmt.Sprint(ev) == fmt.Sprint(want)
		})
	}

	srv.Pause()
	waitState([]string{"down"})
	allFailFast("paused")
	srv.Resume()
	waitState([]string{"down", "up"})
	if s := rmustGet(t, st, tok); s.OpenID != "o-alice" {
		t.Fatalf("after Resume: %+v", s)
	}

	srv.Stop()
	waitState([]string{"down", "up", "down"})
	allFailFast("stopped")
	srv.Restart() // empty
	waitState([]string{"down", "up", "down", "up"})
	// the near cache held the session; Redis lost it: not served
	wantNotFound(t, st, tok, "Redis restarted empty")
	tok2, _ := rlogin(t, st, "o-alice", skey(1))
	rmustGet(t, st, tok2)
	_, errs := log.get()
	if errs[0] == nil || errs[1] != nil || errs[2] == nil || errs[3] != nil {
		t.Errorf("OnStateChange errors: %v", errs)
	}
}

// A store made while Redis is down reports it, fails fast, and comes up
// with Redis.
func TestRedisStartsWhileDown(t *testing.T) {
	testredis.Need(t, "redis-server")
	ctx := context.Background()
	port := testredis.FreePort(t)
	var log stateLog
	st := newRedisStore(t, fmt.Sprintf("redis://127.0.0.1:%d", port), Limits{}, func(o *RedisOptions) {
		o.OnStateChange = log.hook
	})
	if ev, errs := log.get(); fmt.Sprint(ev) != "[down]" || errs[0] == nil {
		t.Fatalf("OnStateChange after NewRedis with Redis down: %v %v", ev, errs)
	}
	start := time.Now()
	if _, err := st.Login(ctx, st.NewToken("o-alice"), Session{OpenID: "o-alice"}, skey(1)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Login with Redis down: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Login with Redis known down took %v", d)
	}
	testredis.StartWith(t, testredis.Options{Port: port})
	waitFor(t, 10*time.Second, "the store to come up", func() bool {
		ev, _ := log.get()
		return fmt.Sprint(ev) == "[down up]"
	})
	tok, _ := rlogin(t, st, "o-alice", skey(1))
	rmustGet(t, st, tok)
}
