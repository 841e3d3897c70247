package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/redis/rueidis"
)

// One-time records in Redis (see OnceStore). Key layout, next to the
// sessions' (redis_keys.go):
//
//	wxauth:{<app_id>:<tag>}:o:<kind>:<id>   a one-time record (string, PX TTL)
//
// where h = HMAC-SHA256(macKey, "once", kind, key), <tag> its first 3
// bytes and <id> all of it, base64url: the key (a state or a ticket, a
// bearer secret) is never in Redis in clear, and records spread over a
// Cluster's slots (every command names one key, so any slot will do). The
// value is sealed (AES-256-GCM) and bound to the key's name.

// onceKey names the record of (kind, key).
func (k *redisKeys) onceKey(kind, key string) string {
	h := k.mac("once", kind, key)
	return k.prefix(base64.RawURLEncoding.EncodeToString(h[:tagBytes])) + "o:" + kind + ":" +
		base64.RawURLEncoding.EncodeToString(h)
}

// takeScript is GETDEL for every Redis version the store supports (GETDEL
// came in 6.2): the value of KEYS[1], which it deletes; nil if none.
var takeScript = newScript(`
local v = redis.call('GET', KEYS[1])
if v then
	redis.call('DEL', KEYS[1])
end
return v
`)

// PutOnce implements OnceStore: one SET ... PX NX.
func (r *Redis) PutOnce(ctx context.Context, kind, key string, value []byte, ttl time.Duration) error {
	if err := checkOnce(kind, key, value, ttl, true); err != nil {
		return err
	}
	c, ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	name := r.keys.onceKey(kind, key)
	sealed := r.keys.sealBytes(name, value)
	err = c.Do(ctx, c.B().Set().Key(name).Value(sealed).Nx().PxMilliseconds(ttl.Milliseconds()).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return ErrOnceExists
	}
	if err != nil {
		return r.fail(err)
	}
	return nil
}

// TakeOnce implements OnceStore: one script (GET and DEL). A value that
// does not open (the key secret changed since) counts as absent.
func (r *Redis) TakeOnce(ctx context.Context, kind, key string) ([]byte, error) {
	if err := checkOnce(kind, key, nil, 0, false); err != nil {
		return nil, ErrNotFound
	}
	c, ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	name := r.keys.onceKey(kind, key)
	sealed, err := takeScript.exec(ctx, c, []string{name}, nil, "").ToString()
	if err != nil {
		return nil, r.fail(err)
	}
	value, ok := r.keys.openBytes(name, sealed)
	if !ok {
		return nil, ErrNotFound
	}
	return value, nil
}

// sealBytes encrypts a one-time record's value, bound to its key name.
func (k *redisKeys) sealBytes(name string, value []byte) string {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(value)+k.aead.Overhead())
	_, _ = rand.Read(nonce) // never fails (it crashes the program first)
	return string(k.aead.Seal(nonce, nonce, value, []byte(name)))
}

// openBytes decrypts what sealBytes made.
func (k *redisKeys) openBytes(name, sealed string) ([]byte, bool) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, false
	}
	plain, err := k.aead.Open(nil, []byte(sealed[:n]), []byte(sealed[n:]), []byte(name))
	if err != nil {
		return nil, false
	}
	if plain == nil {
		plain = []byte{}
	}
	return plain, true
}

var _ OnceStore = (*Redis)(nil)
