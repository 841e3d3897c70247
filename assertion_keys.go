package wechatauth

// The keys that sign X-WX-Assertion: kept in Caddy's storage (where
// certificates live), so every Caddy sharing the storage signs with the
// same keys and a restart keeps them; made and rotated under the
// storage's lock; shared by every block of the process through a pool.

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/session"
)

// Key management.
const (
	// keysStorageKey is where the keys live in Caddy's storage: a JSON
	// object {"keys": [...]} with each private key as PKCS#8 PEM.
	keysStorageKey = "wechat_auth/assertion/keys.json"
	// keysLockName is the storage lock held while a key is made.
	keysLockName = "wechat_auth_assertion_keys"
	// keyRotationPeriod: a new key is made when the newest is this old.
	keyRotationPeriod = 30 * 24 * time.Hour
	// keyActivationDelay: a new key is published this long before it
	// signs, so that every Caddy (each re-reads the storage every
	// keyRefreshInterval) and every backend (which caches the set for
	// jwksMaxAge) knows it before the first assertion it signs. The
	// first key of a storage signs at once: nobody holds an older set.
	keyActivationDelay = 15 * time.Minute
	// keyRefreshInterval: how old the cached set may grow before the
	// storage is read again (to see a key another Caddy made).
	keyRefreshInterval = 5 * time.Minute
	// keyRetryInterval: after a failed read of the storage, the cached
	// set is served this long before the next try.
	keyRetryInterval = 30 * time.Second
	// keyStorageTimeout bounds a load (with the lock and a write).
	keyStorageTimeout = time.Minute
)

// assertionKeyPool holds one assertionKeys per Caddy storage, shared by every block
// and kept across reloads (a reload that keeps the storage keeps it).
var assertionKeyPool = caddy.NewUsagePool()

// acquireAssertionKeys takes a reference to the assertionKeys of st.
func acquireAssertionKeys(st certmagic.Storage, logger *zap.Logger) (string, *assertionKeys) {
	key := "keys\x00" + storageID(st)
	val, _, _ := assertionKeyPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		return newAssertionKeys(), nil
	})
	k := val.(*assertionKeys)
	// The newest config's storage value and logger: the old config's
	// may be cleaned up after a reload.
	k.storage.Store(&storageRef{st})
	k.logger.Store(logger)
	return key, k
}

// storageID tells storages apart: two values that use the same place
// (such as two file_system storages of one path in successive configs)
// have the same ID when the storage module says where it keeps its data.
func storageID(st certmagic.Storage) string {
	if s, ok := st.(fmt.Stringer); ok {
		return fmt.Sprintf("%T\x00%s", st, s.String())
	}
	if v := reflect.ValueOf(st); v.Kind() == reflect.Pointer {
		return fmt.Sprintf("%T\x00%x", st, v.Pointer())
	}
	return fmt.Sprintf("%T", st)
}

// storageName names a storage in an error message.
func storageName(st certmagic.Storage) string {
	if s, ok := st.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", st)
}

type storageRef struct{ certmagic.Storage }

// assertionKeys is the signing keys of one storage and the assertions they
// signed lately.
type assertionKeys struct {
	storage atomic.Pointer[storageRef]
	logger  atomic.Pointer[zap.Logger]

	// the clock and the schedule (fixed; tests change them)
	now                                      func() time.Time
	rotateEvery, activateAfter, refreshEvery time.Duration
	retryAfter                               time.Duration

	mu         sync.Mutex // one load at a time
	set        atomic.Pointer[keySet]
	refreshing atomic.Bool

	cache assertionCache
}

func newAssertionKeys() *assertionKeys {
	k := &assertionKeys{
		now:           time.Now,
		rotateEvery:   keyRotationPeriod,
		activateAfter: keyActivationDelay,
		refreshEvery:  keyRefreshInterval,
		retryAfter:    keyRetryInterval,
	}
	k.cache.init()
	k.logger.Store(zap.NewNop())
	return k
}

func (k *assertionKeys) Destruct() error { return nil }

// keySet is the keys as last read from the storage.
type keySet struct {
	keys        []*signingKey // newest (latest signFrom) first
	jwks        []byte        // the published JWK Set
	etag        string
	nextRefresh time.Time // read the storage again from then on
}

// signer returns the key that signs at now: the newest that has begun
// signing (or the oldest, if a clock went back). nil if there is none.
func (s *keySet) signer(now time.Time) *signingKey {
	for _, key := range s.keys {
		if !now.Before(key.signFrom) {
			return key
		}
	}
	if len(s.keys) > 0 {
		return s.keys[len(s.keys)-1]
	}
	return nil
}

// needsKey says whether a key must be made: there is none, or the newest
// is as old as the rotation period.
func needsKey(keys []*signingKey, now time.Time, rotateEvery time.Duration) bool {
	return len(keys) == 0 || !now.Before(keys[0].created.Add(rotateEvery))
}

// fresh says whether the set can be used as it is, without a load.
func (k *assertionKeys) fresh(s *keySet, now time.Time, create bool) bool {
	return s != nil && now.Before(s.nextRefresh) && !(create && needsKey(s.keys, now, k.rotateEvery))
}

// load reads the keys from the storage unless the cached set is fresh;
// with create, it makes a key when there is none or the newest is due
// for rotation, under the storage's lock. On failure the cached set (if
// any) is kept, and tried again after retryAfter.
func (k *assertionKeys) load(ctx context.Context, create bool) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	cur := k.set.Load()
	if k.fresh(cur, now, create) {
		return nil
	}
	st := k.storage.Load().Storage
	keys, err := readKeys(ctx, st)
	if err == nil && create && needsKey(keys, now, k.rotateEvery) {
		keys, err = k.makeKey(ctx, st, now)
	}
	if err != nil {
		if cur != nil {
			retry := *cur
			retry.nextRefresh = now.Add(k.retryAfter)
			k.set.Store(&retry)
		}
		return err
	}
	k.set.Store(newKeySet(current(keys, now), now.Add(k.refreshEvery)))
	return nil
}

// refreshAsync loads the keys in the background, once at a time: for the
// request path, which goes on with the cached set meanwhile.
func (k *assertionKeys) refreshAsync(create bool) {
	if !k.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer k.refreshing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), keyStorageTimeout)
		defer cancel()
		if err := k.load(ctx, create); err != nil {
			k.logger.Load().Warn("assertion keys: reading Caddy's storage failed; signing on with the keys read before",
				zap.String("storage", storageName(k.storage.Load().Storage)), zap.String("key", keysStorageKey), zap.Error(err))
		}
	}()
}

// makeKey makes a new key under the storage's lock, unless another Caddy
// made one while this one waited for the lock, and stores the set.
func (k *assertionKeys) makeKey(ctx context.Context, st certmagic.Storage, now time.Time) ([]*signingKey, error) {
	if err := st.Lock(ctx, keysLockName); err != nil {
		return nil, fmt.Errorf("taking the storage lock %s: %v", keysLockName, err)
	}
	defer func() {
		// a context of its own: ctx may be done, the lock must go
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := st.Unlock(uctx, keysLockName); err != nil {
			k.logger.Load().Error("assertion keys: releasing the storage lock", zap.String("lock", keysLockName), zap.Error(err))
		}
	}()
	keys, err := readKeys(ctx, st)
	if err != nil || !needsKey(keys, now, k.rotateEvery) {
		return keys, err
	}
	signFrom := now.Add(k.activateAfter)
	if len(keys) == 0 {
		signFrom = now // nobody can hold an older set
	}
	nk, err := generateKey(now, signFrom)
	if err != nil {
		return nil, err
	}
	keys = current(append([]*signingKey{nk}, keys...), now)
	raw, err := marshalKeys(keys)
	if err != nil {
		return nil, err
	}
	if err := st.Store(ctx, keysStorageKey, raw); err != nil {
		return nil, fmt.Errorf("storing %s: %v", keysStorageKey, err)
	}
	k.logger.Load().Info("assertion keys: new signing key",
		zap.String("kid", nk.kid), zap.Time("signs_from", nk.signFrom), zap.Int("published", len(keys)))
	return keys, nil
}

// current orders keys newest first and keeps those still needed: the
// ones not signing yet, the one signing now and the one before it
// (assertions it signed may still be alive). Older ones are dropped.
func current(keys []*signingKey, now time.Time) []*signingKey {
	keys = slices.Clone(keys)
	slices.SortStableFunc(keys, func(a, b *signingKey) int { return b.signFrom.Compare(a.signFrom) })
	for i, key := range keys {
		if !now.Before(key.signFrom) {
			return keys[:min(len(keys), i+2)]
		}
	}
	return keys
}

// storedKeys is the value at keysStorageKey.
type storedKeys struct {
	Keys []storedKey `json:"keys"`
}

type storedKey struct {
	KID        string    `json:"kid"`
	Created    time.Time `json:"created"`
	SignFrom   time.Time `json:"sign_from"`
	PrivateKey string    `json:"private_key"` // PKCS#8, PEM
}

func marshalKeys(keys []*signingKey) ([]byte, error) {
	var s storedKeys
	for _, k := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			return nil, fmt.Errorf("encoding key %s: %v", k.kid, err)
		}
		s.Keys = append(s.Keys, storedKey{
			KID: k.kid, Created: k.created, SignFrom: k.signFrom,
			PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		})
	}
	return json.MarshalIndent(s, "", "\t")
}

// readKeys loads the keys from the storage: none if it holds none.
func readKeys(ctx context.Context, st certmagic.Storage) ([]*signingKey, error) {
	raw, err := st.Load(ctx, keysStorageKey)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", keysStorageKey, err)
	}
	return parseKeys(raw)
}

func parseKeys(raw []byte) ([]*signingKey, error) {
	var s storedKeys
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s is not a key set: %v", keysStorageKey, err)
	}
	var keys []*signingKey
	for i, sk := range s.Keys {
		block, _ := pem.Decode([]byte(sk.PrivateKey))
		if block == nil || block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("%s: key %d (kid %q): private_key is not a PEM PRIVATE KEY block", keysStorageKey, i, sk.KID)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: key %d (kid %q): %v", keysStorageKey, i, sk.KID, err)
		}
		priv, ok := parsed.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: key %d (kid %q): a %T, want an ECDSA P-256 key", keysStorageKey, i, sk.KID, parsed)
		}
		k, err := newSigningKey(priv, sk.Created, sk.SignFrom)
		if err != nil {
			return nil, fmt.Errorf("%s: key %d (kid %q): %v", keysStorageKey, i, sk.KID, err)
		}
		if k.kid != sk.KID {
			return nil, fmt.Errorf("%s: key %d: kid %q does not match its key (thumbprint %s)", keysStorageKey, i, sk.KID, k.kid)
		}
		keys = append(keys, k)
	}
	slices.SortStableFunc(keys, func(a, b *signingKey) int { return b.signFrom.Compare(a.signFrom) })
	return keys, nil
}

// jwk is one published key (RFC 7517, 7518).
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

func newKeySet(keys []*signingKey, nextRefresh time.Time) *keySet {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, jwk{Kty: "EC", Crv: "P-256", X: k.x, Y: k.y, Kid: k.kid, Use: "sig", Alg: "ES256"})
	}
	body, _ := json.Marshal(set)
	sum := sha256.Sum256(body)
	return &keySet{
		keys: keys, jwks: body, nextRefresh: nextRefresh,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
	}
}

// assertion returns a signed assertion of s for app appID: a cached one
// while it has at least assertionRenewBefore left and its key still
// signs, else a new one.
func (k *assertionKeys) assertion(appID, platform string, s *session.Session) (string, error) {
	now := k.now()
	set := k.set.Load()
	if set == nil {
		return "", fmt.Errorf("no signing keys loaded")
	}
	if !now.Before(set.nextRefresh) {
		k.refreshAsync(true)
	}
	key := set.signer(now)
	if key == nil {
		return "", fmt.Errorf("no signing key in Caddy's storage")
	}
	id := identity{appID, platform, s.OpenID, s.UnionID, s.Phone, s.PhoneCountry}
	if jwt, ok := k.cache.get(&id, key.kid, now); ok {
		return jwt, nil
	}
	jwt, err := key.sign(&id, now)
	if err != nil {
		return "", err
	}
	k.cache.put(cachedAssertion{id: id, jwt: jwt, kid: key.kid,
		renewAt: now.Add(assertionLifetime - assertionRenewBefore).UnixNano(),
		expires: now.Add(assertionLifetime).UnixNano()}, now.UnixNano())
	return jwt, nil
}
