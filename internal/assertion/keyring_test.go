package assertion

// Unit tests of the keyring (rotation on an injected clock, several
// processes on one storage, broken storage) and of the assertion cache, on
// a real certmagic file storage in a temp dir; and the signature's
// benchmark.

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testKeyring is a Keyring on st, on clock. The test waits for a
// background refresh it started before it ends.
func testKeyring(t testing.TB, st Storage, clock *testClock) *Keyring {
	k := NewKeyring()
	k.now = clock.now
	k.storage.Store(&storageRef{st})
	t.Cleanup(func() {
		for k.refreshing.Load() {
			time.Sleep(time.Millisecond)
		}
	})
	return k
}

func kids(s *keySet) []string {
	var out []string
	for _, k := range s.keys {
		out = append(out, k.kid)
	}
	return out
}

// publishedKids reads the kids out of the published JWK Set.
func publishedKids(t *testing.T, s *keySet) []string {
	t.Helper()
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(s.jwks.body, &set); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		if k["d"] != "" {
			t.Fatalf("the JWK Set holds a private key: %s", s.jwks.body)
		}
		out = append(out, k["kid"])
	}
	return out
}

func storedKids(t *testing.T, st Storage) []string {
	t.Helper()
	keys, err := readKeys(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		out = append(out, k.kid)
	}
	return out
}

func mustLoad(t *testing.T, k *Keyring, create bool) *keySet {
	t.Helper()
	if err := k.Load(context.Background(), create); err != nil {
		t.Fatalf("load: %v", err)
	}
	return k.set.Load()
}

func eq(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// The schedule: the first key signs at once; a new one every 30 days,
// published 15 minutes before it signs; the one before it stays published.
func TestAssertionKeyRotation(t *testing.T) {
	st := &certmagic.FileStorage{Path: t.TempDir()}
	clock := newTestClock()
	k := testKeyring(t, st, clock)
	ctx := context.Background()

	// assertion off: keys are read, never made
	s := mustLoad(t, k, false)
	if len(s.keys) != 0 || string(s.jwks.body) != `{"keys":[]}` {
		t.Fatalf("empty storage: %v %s", kids(s), s.jwks.body)
	}
	if st.Exists(ctx, StorageKey) {
		t.Fatalf("a load without create wrote %s", StorageKey)
	}

	// assertion on: the first key, signing at once
	s = mustLoad(t, k, true)
	if len(s.keys) != 1 {
		t.Fatalf("first load: %d keys", len(s.keys))
	}
	k1 := s.keys[0]
	if s.signer(clock.now()) != k1 || !eq(publishedKids(t, s), []string{k1.kid}) || !eq(storedKids(t, st), []string{k1.kid}) {
		t.Fatalf("first key not signing or not published: %v", kids(s))
	}

	clock.add(30*24*time.Hour - time.Minute)
	if s = mustLoad(t, k, true); !eq(kids(s), []string{k1.kid}) {
		t.Fatalf("rotated before 30 days: %v", kids(s))
	}

	clock.add(time.Minute) // 30 days: a new key, published, not signing yet
	s = mustLoad(t, k, true)
	if len(s.keys) != 2 || s.keys[1].kid != k1.kid {
		t.Fatalf("at 30 days: %v", kids(s))
	}
	k2 := s.keys[0]
	if got := s.signer(clock.now()); got.kid != k1.kid {
		t.Errorf("the new key signs before it was published for %v", keyActivationDelay)
	}
	if !eq(publishedKids(t, s), []string{k2.kid, k1.kid}) || !eq(storedKids(t, st), []string{k2.kid, k1.kid}) {
		t.Fatalf("published %v, stored %v", publishedKids(t, s), storedKids(t, st))
	}
	clock.add(keyActivationDelay - time.Second)
	if got := s.signer(clock.now()); got.kid != k1.kid {
		t.Errorf("the new key signs early")
	}
	clock.add(time.Second)
	if got := s.signer(clock.now()); got.kid != k2.kid {
		t.Errorf("the new key does not sign after %v", keyActivationDelay)
	}
	// the previous key is still published: assertions it signed live on
	if s = mustLoad(t, k, true); !eq(publishedKids(t, s), []string{k2.kid, k1.kid}) {
		t.Fatalf("after the switch: %v", publishedKids(t, s))
	}

	// 30 days after k2: k3; once it signs, k1 is no longer published
	clock.add(30*24*time.Hour - keyActivationDelay)
	s = mustLoad(t, k, true)
	k3 := s.keys[0]
	if !eq(kids(s), []string{k3.kid, k2.kid, k1.kid}) || s.signer(clock.now()).kid != k2.kid {
		t.Fatalf("at 60 days: %v", kids(s))
	}
	clock.add(keyActivationDelay)
	s = mustLoad(t, k, true)
	if !eq(publishedKids(t, s), []string{k3.kid, k2.kid}) || s.signer(clock.now()).kid != k3.kid {
		t.Fatalf("after the second switch: published %v", publishedKids(t, s))
	}
	if strings.Contains(string(s.jwks.body), k1.kid) {
		t.Errorf("k1 still published")
	}
}

// Several Caddys on one storage, starting together: one key, made once,
// used by all (the storage lock, and the read again under it). Later one
// of them rotates; the others publish the new key at their next read.
func TestAssertionKeysSharedThroughStorage(t *testing.T) {
	dir := t.TempDir()
	clock := newTestClock()
	const n = 8
	rings := make([]*Keyring, n)
	for i := range rings {
		// a storage value each, as separate processes have
		rings[i] = testKeyring(t, &certmagic.FileStorage{Path: dir}, clock)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range rings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = rings[i].Load(context.Background(), true)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("keyring %d: %v", i, err)
		}
	}
	first := kids(rings[0].set.Load())
	for i, k := range rings {
		if got := kids(k.set.Load()); len(got) != 1 || !eq(got, first) {
			t.Errorf("keyring %d signs with %v, keyring 0 with %v", i, got, first)
		}
	}
	if got := storedKids(t, &certmagic.FileStorage{Path: dir}); !eq(got, first) {
		t.Errorf("storage holds %v", got)
	}

	// 30 days on: one rotates; the others, which read the storage a
	// minute before, publish the new key at their next read
	clock.add(30*24*time.Hour - time.Minute)
	for _, k := range rings[1:] {
		mustLoad(t, k, false)
	}
	clock.add(time.Minute)
	s0 := mustLoad(t, rings[0], true)
	if len(s0.keys) != 2 {
		t.Fatalf("no rotation: %v", kids(s0))
	}
	for i, k := range rings[1:] {
		if got := kids(mustLoad(t, k, false)); !eq(got, first) {
			t.Errorf("keyring %d read the storage before it was due: %v", i+1, got)
		}
	}
	clock.add(keyRefreshInterval - time.Minute)
	for i, k := range rings[1:] {
		if got := kids(mustLoad(t, k, false)); !eq(got, kids(s0)) {
			t.Errorf("keyring %d after a refresh: %v, want %v", i+1, got, kids(s0))
		}
	}
	// one that signs and finds its newest key due reads the storage at
	// once, under the lock, and takes the key made by the other
	if got := kids(mustLoad(t, rings[1], true)); !eq(got, kids(s0)) {
		t.Errorf("keyring 1 made a key of its own: %v", got)
	}
	if got := storedKids(t, &certmagic.FileStorage{Path: dir}); !eq(got, kids(s0)) {
		t.Errorf("storage holds %v", got)
	}
}

// failingStorage fails every Load while failing is set.
type failingStorage struct {
	Storage
	failing atomic.Bool
}

func (f *failingStorage) Load(ctx context.Context, key string) ([]byte, error) {
	if f.failing.Load() {
		return nil, errors.New("storage down")
	}
	return f.Storage.Load(ctx, key)
}

// A storage that fails: the keys read before go on signing and being
// published, and the read is tried again after keyRetryInterval.
func TestAssertionKeysStorageFailure(t *testing.T) {
	st := &failingStorage{Storage: &certmagic.FileStorage{Path: t.TempDir()}}
	clock := newTestClock()
	k := testKeyring(t, st, clock)
	st.failing.Store(true)
	if err := k.Load(context.Background(), true); err == nil || !strings.Contains(err.Error(), "storage down") {
		t.Fatalf("load on a failing storage: %v", err)
	}
	if k.set.Load() != nil {
		t.Fatal("a set without keys")
	}
	st.failing.Store(false)
	s := mustLoad(t, k, true)
	st.failing.Store(true)
	clock.add(keyRefreshInterval)
	if err := k.Load(context.Background(), true); err == nil {
		t.Fatal("no error")
	}
	s2 := k.set.Load()
	if !eq(kids(s2), kids(s)) || !s2.nextRefresh.Equal(clock.now().Add(keyRetryInterval)) {
		t.Fatalf("after a failed refresh: %v, next %v", kids(s2), s2.nextRefresh)
	}
	if _, err := k.Sign(Identity{AppID: "wxapp000000000001", Platform: "wechat", OpenID: "o1"}); err != nil {
		t.Fatalf("signing with the keys read before: %v", err)
	}
}

// A key file that is not what wechat_auth wrote is refused, naming it.
func TestAssertionKeysCorruptStorage(t *testing.T) {
	for _, c := range []struct{ name, content, want string }{
		{"not JSON", "garbage", "is not a key set"},
		{"not PEM", `{"keys":[{"kid":"x","private_key":"abc"}]}`, "not a PEM PRIVATE KEY"},
		{"wrong kid", "", "does not match its key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			st := &certmagic.FileStorage{Path: dir}
			content := c.content
			if content == "" {
				k := testKeyring(t, st, newTestClock())
				mustLoad(t, k, true)
				raw, _ := os.ReadFile(filepath.Join(dir, StorageKey))
				content = strings.Replace(string(raw), k.set.Load().keys[0].kid, "another-kid", 1)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, StorageKey)), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, StorageKey), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			err := testKeyring(t, st, newTestClock()).Load(context.Background(), true)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), StorageKey) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, StorageKey, c.want)
			}
		})
	}
}

// verifyWith checks a compact ES256 JWS against pub and returns its header
// and claims.
func verifyWith(t *testing.T, jws string, pub *ecdsa.PublicKey) (map[string]any, claims) {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", jws)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %v (%d bytes)", err, len(sig))
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatalf("the signature does not verify")
	}
	var hdr map[string]any
	var c claims
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(h, &hdr); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(p, &c); err != nil {
		t.Fatal(err)
	}
	return hdr, c
}

// An assertion is signed once per identity and reused until it has a
// minute left; a bound phone or a new signing key gives a new one.
func TestAssertionCacheReuse(t *testing.T) {
	clock := newTestClock()
	k := testKeyring(t, &certmagic.FileStorage{Path: t.TempDir()}, clock)
	mustLoad(t, k, true)
	const app = "wxapp000000000001"
	alice := Identity{AppID: app, Platform: "wechat", OpenID: "oAlice", UnionID: "uAlice"}
	sign := func(id Identity) string {
		t.Helper()
		jwt, err := k.Sign(id)
		if err != nil {
			t.Fatal(err)
		}
		return jwt
	}
	a1 := sign(alice)
	key1 := k.set.Load().keys[0]
	hdr, c := verifyWith(t, a1, &key1.priv.PublicKey)
	if hdr["alg"] != "ES256" || hdr["kid"] != key1.kid || hdr["typ"] != "JWT" {
		t.Errorf("header %v", hdr)
	}
	want := claims{Sub: "oAlice", AppID: app, Platform: "wechat", UnionID: "uAlice", IssuedAt: clock.now().Unix(), Expires: clock.now().Add(5 * time.Minute).Unix()}
	if c != want {
		t.Errorf("claims %+v, want %+v", c, want)
	}
	if a := sign(alice); a != a1 {
		t.Errorf("signed again at once")
	}
	clock.add(4*time.Minute - time.Second)
	if a := sign(alice); a != a1 {
		t.Errorf("signed again with more than a minute left")
	}
	clock.add(time.Second)
	a2 := sign(alice)
	if a2 == a1 {
		t.Fatalf("reused with a minute left")
	}
	if _, c := verifyWith(t, a2, &key1.priv.PublicKey); c.IssuedAt != clock.now().Unix() {
		t.Errorf("renewed assertion iat %d", c.IssuedAt)
	}

	// a phone bound: new claims at once
	alice.Phone, alice.PhoneCountry = "13800138000", "86"
	a3 := sign(alice)
	if _, c := verifyWith(t, a3, &key1.priv.PublicKey); c.Phone != "13800138000" || c.PhoneCountry != "86" {
		t.Errorf("after a bind: %+v", c)
	}
	// another app, another user: their own
	other := alice
	other.AppID = "wxapp000000000002"
	if _, c := verifyWith(t, func() string { s, _ := k.Sign(other); return s }(), &key1.priv.PublicKey); c.AppID != "wxapp000000000002" {
		t.Errorf("other app: %+v", c)
	}
	if _, c := verifyWith(t, sign(Identity{AppID: app, Platform: "wechat", OpenID: "oBob"}), &key1.priv.PublicKey); c.Sub != "oBob" || c.UnionID != "" || c.Phone != "" {
		t.Errorf("bob: %+v", c)
	}

	// a new key begins signing: cached assertions of the old one go
	clock.add(30 * 24 * time.Hour)
	mustLoad(t, k, true)
	clock.add(keyActivationDelay)
	a4 := sign(alice)
	key2 := k.set.Load().keys[0]
	if hdr, _ := verifyWith(t, a4, &key2.priv.PublicKey); hdr["kid"] != key2.kid || key2.kid == key1.kid {
		t.Errorf("after the switch: kid %v", hdr["kid"])
	}
}

// The cache never holds more than its bound, and expired entries make
// room before live ones are dropped.
func TestAssertionCacheBounded(t *testing.T) {
	var c cache
	c.init()
	now := time.Now().UnixNano()
	limit := cacheShards * shardSize
	short := cachedAssertion{jwt: "j", kid: "k", renewAt: now + 1, expires: now + 2}
	long := cachedAssertion{jwt: "j", kid: "k", renewAt: now + int64(time.Hour), expires: now + int64(time.Hour)}
	for i := 0; i < 2*limit; i++ {
		long.id = Identity{AppID: "wx1", OpenID: "o" + strconv.Itoa(i)}
		c.put(long, now)
	}
	if n := c.len(); n > limit || n < limit/2 {
		t.Fatalf("%d entries, bound %d", n, limit)
	}
	// a cache full of expired ones: every live one put since stays
	c.init()
	for i := 0; i < limit; i++ {
		short.id = Identity{AppID: "wx1", OpenID: "o" + strconv.Itoa(i)}
		c.put(short, now)
	}
	for i := 0; i < limit/4; i++ {
		long.id = Identity{AppID: "wx1", OpenID: "n" + strconv.Itoa(i)}
		c.put(long, now+10)
	}
	for i := 0; i < limit/4; i++ {
		id := Identity{AppID: "wx1", OpenID: "n" + strconv.Itoa(i)}
		if _, ok := c.get(&id, "k", time.Unix(0, now+10)); !ok {
			t.Fatalf("live entry %d dropped while expired ones were there", i)
		}
	}
}

// keys.json deleted (keys retired): at its next read of the storage a
// Keyring makes a new key that signs at once, and publishes only it.
func TestAssertionKeysDeleted(t *testing.T) {
	st := &certmagic.FileStorage{Path: t.TempDir()}
	clock := newTestClock()
	k := testKeyring(t, st, clock)
	old := mustLoad(t, k, true).keys[0]
	if err := st.Delete(context.Background(), StorageKey); err != nil {
		t.Fatal(err)
	}
	clock.add(time.Minute)
	if s := mustLoad(t, k, true); s.keys[0].kid != old.kid {
		t.Fatalf("read the storage before it was due")
	}
	clock.add(keyRefreshInterval)
	s := mustLoad(t, k, true)
	if len(s.keys) != 1 || s.keys[0].kid == old.kid || s.signer(clock.now()) != s.keys[0] {
		t.Fatalf("after keys.json was deleted: %v (old %s)", kids(s), old.kid)
	}
	if !eq(storedKids(t, st), kids(s)) {
		t.Errorf("stored %v", storedKids(t, st))
	}
}

// len counts the cached assertions (for the tests only).
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].RLock()
		n += len(c.shards[i].m)
		c.shards[i].RUnlock()
	}
	return n
}

// BenchmarkAssertion/sign: the signature that the cache saves (the
// handler's hot path, BenchmarkAssertion/off and /cached, is the root
// package's).
// go test -run '^$' -bench Assertion -benchmem . ./internal/assertion
func BenchmarkAssertion(b *testing.B) {
	k := NewKeyring()
	k.storage.Store(&storageRef{&certmagic.FileStorage{Path: b.TempDir()}})
	if err := k.Load(context.Background(), true); err != nil {
		b.Fatal(err)
	}
	b.Run("sign", func(b *testing.B) {
		key := k.set.Load().keys[0]
		id := Identity{"wxbench000000001", "wechat", "oBenchUser0000000000000000000", "uBenchUnion000000000000000000", "", ""}
		now := time.Now()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := key.sign(&id, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
