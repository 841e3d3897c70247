package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Key layout (one app; <tag> is the user's routing tag, 4 base64url
// characters; everything of one user shares the hash slot of
// "{<app_id>:<tag>}", so a Cluster runs every multi-key script on one node):
//
//	wxauth:{<app_id>:<tag>}:s:<sha256(token), base64url>   a session (string, TTL)
//	wxauth:{<app_id>:<tag>}:u:<openid>                     the user's record (hash, TTL)
//	wxauth:{<app_id>:<tag>}:x:<openid>                     the user's sessions (zset: sha256(token) by expiry, TTL)
//
// A token's first 3 bytes (its first 4 characters) are the tag of its
// user: the first 3 bytes of HMAC-SHA256(macKey, "route\x00"+openid). The
// other 29 bytes (232 bits) are from crypto/rand. Get finds the session's
// key from the token alone.

const tagBytes, tagLen = 3, 4 // tagLen = base64.RawURLEncoding.EncodedLen(tagBytes)

// redisKeys derives key names and the secrets of one app's Redis store.
type redisKeys struct {
	appID  string
	aead   cipher.AEAD // seals session_keys (AES-256-GCM)
	macKey []byte      // routing tags and session_key hashes (HMAC-SHA256)
}

func newRedisKeys(appID, keySecret string) (*redisKeys, error) {
	// the same derivation as the v1 store, so its sealed keys still open
	enc := sha256.Sum256([]byte("wechat_auth session_key encryption v1\x00" + keySecret))
	block, err := aes.NewCipher(enc[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mac := sha256.Sum256([]byte("wechat_auth keyed hash v2\x00" + keySecret))
	return &redisKeys{appID: appID, aead: aead, macKey: mac[:]}, nil
}

func (k *redisKeys) mac(parts ...string) []byte {
	h := hmac.New(sha256.New, k.macKey)
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return h.Sum(nil)
}

// tag is the user's routing tag, as it appears in tokens and key names.
func (k *redisKeys) tag(openID string) string {
	return base64.RawURLEncoding.EncodeToString(k.mac("route", openID)[:tagBytes])
}

// newToken is a fresh token routed to openID's hash slot.
func (k *redisKeys) newToken(openID string) string {
	var b [TokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never, since Go 1.24
	}
	copy(b[:tagBytes], k.mac("route", openID))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// prefix is "wxauth:{<app_id>:<tag>}:".
func (k *redisKeys) prefix(tag string) string {
	return "wxauth:{" + k.appID + ":" + tag + "}:"
}

// tokenID is what names a token in Redis: its SHA-256, base64url.
func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// sessionKey names token's session, in one allocation.
func (k *redisKeys) sessionKey(token string) string {
	var raw [TokenLen]byte // on the stack: the hash allocates nothing
	var id [43]byte
	sum := sha256.Sum256(raw[:copy(raw[:], token)])
	base64.RawURLEncoding.Encode(id[:], sum[:])
	var b strings.Builder
	b.Grow(len("wxauth:{") + len(k.appID) + 1 + tagLen + len("}:s:") + len(id))
	b.WriteString("wxauth:{")
	b.WriteString(k.appID)
	b.WriteByte(':')
	b.WriteString(token[:tagLen])
	b.WriteString("}:s:")
	b.Write(id[:])
	return b.String()
}

func (k *redisKeys) userKey(openID string) string  { return k.prefix(k.tag(openID)) + "u:" + openID }
func (k *redisKeys) indexKey(openID string) string { return k.prefix(k.tag(openID)) + "x:" + openID }

// keyHash is the keyed hash of a plaintext session_key that tells whether
// WeChat sent the same key again (sealed values never compare equal).
func (k *redisKeys) keyHash(openID, sessionKey string) string {
	return base64.RawURLEncoding.EncodeToString(k.mac("session_key", openID, sessionKey)[:16])
}

// seal encrypts a session_key for the user's record, bound to the openid.
func (k *redisKeys) seal(openID, key string) string {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(key)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(k.aead.Seal(nonce, nonce, []byte(key), []byte(openID)))
}

// open decrypts what seal made: "" if it does not open (the secret
// changed since, or it is another user's).
func (k *redisKeys) open(openID, sealed string) string {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	n := k.aead.NonceSize()
	if err != nil || len(raw) < n {
		return ""
	}
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(openID))
	if err != nil {
		return ""
	}
	return string(plain)
}

// A session's value is one string of NUL-separated fields:
//
//	2 | expires | openid | unionid | phone bound at | phone | country
//
// "2" is the format; expires (the absolute end, SessionTTL after the
// login) and phone bound at are Unix milliseconds of the Redis server's
// clock. The scripts write it (they read the server's clock); Get reads
// it without allocating.
type sessionValue struct {
	Session
	expires, phoneAt int64
}

var errNUL = errors.New("session: openid, unionid, phone or country contains a NUL byte")

func decodeSession(v string) (sv sessionValue, ok bool) {
	var f [7]string
	for i := 0; i < 6; i++ {
		var found bool
		if f[i], v, found = strings.Cut(v, "\x00"); !found {
			return sv, false
		}
	}
	f[6] = v
	if f[0] != "2" || f[2] == "" {
		return sv, false
	}
	var err error
	if sv.expires, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return sv, false
	}
	if f[4] != "" {
		if sv.phoneAt, err = strconv.ParseInt(f[4], 10, 64); err != nil {
			return sv, false
		}
	}
	sv.OpenID, sv.UnionID, sv.Phone, sv.PhoneCountry = f[2], f[3], f[5], f[6]
	return sv, true
}
