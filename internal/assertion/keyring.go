package assertion

// The Keyring: the keys of one storage, read again on a schedule, made
// and rotated under the storage's lock, and the assertions they signed
// lately.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Key management.
const (
	// keysLockName is the storage lock held while a key is made.
	keysLockName = "wechat_auth_assertion_keys"
	// keyRotationPeriod: a new key is made when the newest is this old.
	keyRotationPeriod = 30 * 24 * time.Hour
	// keyActivationDelay: a new key is published this long before it
	// signs, so that every process on the storage (each re-reads it
	// every keyRefreshInterval) and every backend (which caches the set
	// for JWKSMaxAge) knows it before the first assertion it signs. The
	// first key of a storage signs at once: nobody holds an older set.
	keyActivationDelay = 15 * time.Minute
	// keyRefreshInterval: how old the cached set may grow before the
	// storage is read again (to see a key another process made).
	keyRefreshInterval = 5 * time.Minute
	// keyRetryInterval: after a failed read of the storage, the cached
	// set is served this long before the next try.
	keyRetryInterval = 30 * time.Second
	// keyStorageTimeout bounds a load (with the lock and a write).
	keyStorageTimeout = time.Minute
)

// Keyring is the signing keys of one storage and the assertions they
// signed lately. Its methods are safe for concurrent use.
type Keyring struct {
	storage atomic.Pointer[storageRef]
	logger  atomic.Pointer[zap.Logger]

	// the clock and the schedule (fixed; tests change them)
	now                                      func() time.Time
	rotateEvery, activateAfter, refreshEvery time.Duration
	retryAfter                               time.Duration

	mu         sync.Mutex // one load at a time
	set        atomic.Pointer[keySet]
	refreshing atomic.Bool

	cache cache
}

// NewKeyring returns a Keyring with no keys loaded; give it a storage
// with Use before anything else.
func NewKeyring() *Keyring {
	k := &Keyring{
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

// Use makes st the storage the keys are read from and written to, and
// logger where the keyring logs, from its next read on (the keys read
// before stay).
func (k *Keyring) Use(st Storage, logger *zap.Logger) {
	k.storage.Store(&storageRef{st})
	k.logger.Store(logger)
}

// StorageName names the keyring's storage in a message.
func (k *Keyring) StorageName() string {
	return storageName(k.storage.Load().Storage)
}

// keySet is the keys as last read from the storage.
type keySet struct {
	keys        []*signingKey // newest (latest signFrom) first
	jwks        JWKS          // the published JWK Set
	nextRefresh time.Time     // read the storage again from then on
}

func newKeySet(keys []*signingKey, nextRefresh time.Time) *keySet {
	return &keySet{keys: keys, jwks: newJWKS(keys), nextRefresh: nextRefresh}
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
func (k *Keyring) fresh(s *keySet, now time.Time, create bool) bool {
	return s != nil && now.Before(s.nextRefresh) && !(create && needsKey(s.keys, now, k.rotateEvery))
}

// Load reads the keys from the storage unless the cached set is fresh;
// with create, it makes a key when there is none or the newest is due
// for rotation, under the storage's lock. On failure the cached set (if
// any) is kept, and tried again after a while. A load takes at most a
// minute.
func (k *Keyring) Load(ctx context.Context, create bool) error {
	ctx, cancel := context.WithTimeout(ctx, keyStorageTimeout)
	defer cancel()
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
func (k *Keyring) refreshAsync(create bool) {
	if !k.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer k.refreshing.Store(false)
		if err := k.Load(context.Background(), create); err != nil {
			k.logger.Load().Warn("assertion keys: reading Caddy's storage failed; signing on with the keys read before",
				zap.String("storage", k.StorageName()), zap.String("key", StorageKey), zap.Error(err))
		}
	}()
}

// makeKey makes a new key under the storage's lock, unless another
// process made one while this one waited for the lock, and stores the
// set.
func (k *Keyring) makeKey(ctx context.Context, st Storage, now time.Time) ([]*signingKey, error) {
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
	if err := st.Store(ctx, StorageKey, raw); err != nil {
		return nil, fmt.Errorf("storing %s: %v", StorageKey, err)
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
	slices.SortStableFunc(keys, newestFirst)
	for i, key := range keys {
		if !now.Before(key.signFrom) {
			return keys[:min(len(keys), i+2)]
		}
	}
	return keys
}

// Published returns the JWK Set to publish, read again from the storage
// when the cached one is due (so a key another process made shows at
// once); with create, as Load. With a cached set, a failed read returns
// it and the error; nil if no set was ever read.
func (k *Keyring) Published(ctx context.Context, create bool) (*JWKS, error) {
	set := k.set.Load()
	var err error
	if !k.fresh(set, k.now(), create) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		err = k.Load(ctx, create)
		set = k.set.Load()
	}
	if set == nil {
		return nil, err
	}
	return &set.jwks, err
}

// Sign returns a signed assertion of id: a cached one while it has at
// least assertionRenewBefore left and its key still signs, else a new
// one. When the keys are due it reads the storage again in the
// background, signing on with the keys read before meanwhile.
func (k *Keyring) Sign(id Identity) (string, error) {
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
