package wechatauth

// X-WX-Assertion: the user's identity as a short-lived JWT (JWS compact,
// ES256) that a backend verifies against /wx/jwks.json, so that it need
// not trust the network between Caddy and itself. An assertion is signed
// once per identity and reused until it has a minute left.

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// HeaderAssertion carries the signed identity.
const HeaderAssertion = "X-Wx-Assertion"

const (
	// assertionLifetime: exp - iat of every assertion.
	assertionLifetime = 5 * time.Minute
	// assertionRenewBefore: a cached assertion with less than this left
	// is signed anew, so a backend always gets one with a minute to go.
	assertionRenewBefore = time.Minute
	// assertionCacheShards × assertionShardSize bound the cache (about
	// 600 bytes an entry: at most about 40 MB).
	assertionCacheShards = 64
	assertionShardSize   = 1024
)

// provisionAssertion takes a reference to the keyring of the config's
// storage. With assertion on it loads the keys, making the first one if
// the storage holds none: a storage that cannot give keys fails the
// config. With assertion off the keys are read only when /wx/jwks.json
// is asked for.
func (h *Handler) provisionAssertion(ctx caddy.Context) error {
	st := ctx.Storage()
	h.keysKey, h.keys = acquireKeyring(st, h.logger)
	if !h.Assertion {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, keyStorageTimeout)
	defer cancel()
	if err := h.keys.load(lctx, true); err != nil {
		return fmt.Errorf("wechat_auth: assertion on: cannot read or make the signing keys in Caddy's storage (%s, key %s): %v", storageName(st), keysStorageKey, err)
	}
	return nil
}

// cleanupAssertion gives the keyring back.
func (h *Handler) cleanupAssertion() {
	if h.keysKey != "" {
		_, _ = keyrings.Delete(h.keysKey)
		h.keysKey = ""
	}
}

// setAssertion adds X-WX-Assertion for s. It runs after
// stripIdentityHeaders, so a client's X-WX-Assertion is gone.
func (h *Handler) setAssertion(hdr http.Header, s *session.Session) *reply.Error {
	jwt, err := h.keys.assertion(h.appID, s)
	if err != nil {
		h.logger.Error("assertion not signed", zap.Error(err))
		return reply.SigningKeys
	}
	hdr[HeaderAssertion] = []string{jwt}
	return nil
}

// identity is what an assertion says. The cache holds one assertion per
// identity: two sessions of one user share it, a bound phone changes it.
type identity struct {
	appID, openID, unionID, phone, phoneCountry string
}

// assertion returns a signed assertion of s for app appID: a cached one
// while it has at least assertionRenewBefore left and its key still
// signs, else a new one.
func (k *keyring) assertion(appID string, s *session.Session) (string, error) {
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
	id := identity{appID, s.OpenID, s.UnionID, s.Phone, s.PhoneCountry}
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

// claims are the assertion's payload.
type claims struct {
	Sub          string `json:"sub"`
	AppID        string `json:"appid"`
	UnionID      string `json:"unionid,omitempty"`
	Phone        string `json:"phone,omitempty"`
	PhoneCountry string `json:"phone_country,omitempty"`
	IssuedAt     int64  `json:"iat"`
	Expires      int64  `json:"exp"`
}

// sign makes the JWS compact serialization of id's claims, signed at now:
// header.payload.signature, ES256 (the signature is r || s, 32 bytes
// each, as RFC 7518 section 3.4 wants, not ASN.1).
func (key *signingKey) sign(id *identity, now time.Time) (string, error) {
	c := claims{Sub: id.openID, AppID: id.appID, UnionID: id.unionID,
		IssuedAt: now.Unix(), Expires: now.Add(assertionLifetime).Unix()}
	if id.phone != "" {
		c.Phone, c.PhoneCountry = id.phone, id.phoneCountry
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding
	buf := make([]byte, 0, len(key.header)+b64.EncodedLen(len(payload))+1+b64.EncodedLen(64))
	buf = append(buf, key.header...)
	buf = b64.AppendEncode(buf, payload)
	digest := sha256.Sum256(buf)
	r, s, err := ecdsa.Sign(rand.Reader, key.priv, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing with key %s: %v", key.kid, err)
	}
	var sig [64]byte
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig[:])
	return string(buf), nil
}

// assertionCache holds the assertions signed lately, in shards of
// bounded size. An entry is found by openid (one string to hash) and
// used only if the rest of its identity matches too.
type assertionCache struct {
	seed   maphash.Seed
	shards [assertionCacheShards]cacheShard
}

type cacheShard struct {
	sync.RWMutex
	m map[string]cachedAssertion // by openid
}

type cachedAssertion struct {
	id      identity
	jwt     string
	kid     string
	renewAt int64 // unix nanoseconds
	expires int64
}

func (c *assertionCache) init() {
	c.seed = maphash.MakeSeed()
	for i := range c.shards {
		c.shards[i].m = make(map[string]cachedAssertion)
	}
}

func (c *assertionCache) shard(openID string) *cacheShard {
	return &c.shards[maphash.String(c.seed, openID)%assertionCacheShards]
}

// get returns the cached assertion of id if key kid signed it and it need
// not be renewed at now.
func (c *assertionCache) get(id *identity, kid string, now time.Time) (string, bool) {
	sh := c.shard(id.openID)
	sh.RLock()
	e, ok := sh.m[id.openID]
	sh.RUnlock()
	if !ok || e.id != *id || e.kid != kid || now.UnixNano() >= e.renewAt {
		return "", false
	}
	return e.jwt, true
}

// put caches an assertion. A full shard first drops what has expired,
// then, if that freed less than an eighth, arbitrary entries down to
// seven eighths: the next inserts find room without a sweep.
func (c *assertionCache) put(e cachedAssertion, now int64) {
	sh := c.shard(e.id.openID)
	sh.Lock()
	defer sh.Unlock()
	if _, ok := sh.m[e.id.openID]; !ok && len(sh.m) >= assertionShardSize {
		for k, v := range sh.m {
			if v.expires <= now {
				delete(sh.m, k)
			}
		}
		for k := range sh.m {
			if len(sh.m) <= assertionShardSize-assertionShardSize/8 {
				break
			}
			delete(sh.m, k)
		}
	}
	sh.m[e.id.openID] = e
}

// len counts the cached assertions (for tests).
func (c *assertionCache) len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].RLock()
		n += len(c.shards[i].m)
		c.shards[i].RUnlock()
	}
	return n
}
