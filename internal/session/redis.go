package session

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisTimeout bounds one Redis operation.
const DefaultRedisTimeout = time.Second

// Redis is a Store in Redis, shared by every Caddy that points at it.
//
// Keys are namespaced by app: "wxauth:<app_id>:s:<sha256 of token>" holds a
// session (JSON, Redis's own TTL), "wxauth:<app_id>:k:<openid>" a user's
// session_keys (a hash of the newest and the previous). No key holds a
// secret: a token appears only hashed. The session_keys are stored
// encrypted with AES-256-GCM under a key derived from the app_secret, bound
// to the openid, so a Redis dump does not give them away.
//
// Every operation is bounded by the timeout; a Redis that is down or slow
// gives ErrUnavailable, never a wait without end, and the client
// reconnects by itself when Redis is back.
type Redis struct {
	client  *redis.Client
	prefix  string
	aead    cipher.AEAD
	timeout time.Duration
}

// NewRedis connects (lazily) to the Redis at url ("redis://[:password@]host:port/db"
// or "rediss://..." for TLS) for the app appID. keySecret is what the
// session_keys' encryption key is derived from (the app_secret).
func NewRedis(url, appID, keySecret string, timeout time.Duration) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("invalid redis URL") // the URL may hold a password: not echoed
	}
	if timeout <= 0 {
		timeout = DefaultRedisTimeout
	}
	opts.DialTimeout = timeout
	opts.ReadTimeout = timeout
	opts.WriteTimeout = timeout
	opts.PoolTimeout = timeout
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = 1
	key := sha256.Sum256([]byte("wechat_auth session_key encryption v1\x00" + keySecret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Redis{
		client:  redis.NewClient(opts),
		prefix:  "wxauth:" + appID + ":",
		aead:    aead,
		timeout: timeout,
	}, nil
}

func (r *Redis) sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return r.prefix + "s:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func (r *Redis) userKey(openID string) string { return r.prefix + "k:" + openID }

// fail maps a Redis error to the store's.
func fail(err error) error {
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	return fmt.Errorf("%w: redis: %v", ErrUnavailable, err)
}

func (r *Redis) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.timeout)
}

// Create implements Store.
func (r *Redis) Create(ctx context.Context, token string, s Session, ttl time.Duration) error {
	val, _ := json.Marshal(s)
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	ok, err := r.client.SetNX(ctx, r.sessionKey(token), val, ttl).Result()
	if err != nil {
		return fail(err)
	}
	if !ok {
		return fmt.Errorf("%w: token already in use", ErrUnavailable) // 2^-256: never
	}
	return nil
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, token string) (Session, error) {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	raw, err := r.client.Get(ctx, r.sessionKey(token)).Bytes()
	if err != nil {
		return Session{}, fail(err)
	}
	var s Session
	if err := json.Unmarshal(raw, &s); err != nil || s.OpenID == "" {
		return Session{}, ErrNotFound
	}
	return s, nil
}

// Update implements Store: SET XX KEEPTTL, so a session deleted meanwhile
// stays deleted and the TTL is Redis's as it was.
func (r *Redis) Update(ctx context.Context, token string, s Session) error {
	val, _ := json.Marshal(s)
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	err := r.client.SetArgs(ctx, r.sessionKey(token), val, redis.SetArgs{Mode: "XX", KeepTTL: true}).Err()
	if err != nil {
		return fail(err)
	}
	return nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, token string) error {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	if err := r.client.Del(ctx, r.sessionKey(token)).Err(); err != nil {
		return fail(err)
	}
	return nil
}

// rotateKeys makes ARGV[1] the newest key and the newest before it the
// previous, atomically, and sets the record's TTL (ms).
var rotateKeys = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'n')
if cur then
	redis.call('HSET', KEYS[1], 'n', ARGV[1], 'p', cur)
else
	redis.call('HSET', KEYS[1], 'n', ARGV[1])
	redis.call('HDEL', KEYS[1], 'p')
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// PutUserKey implements Store.
func (r *Redis) PutUserKey(ctx context.Context, openID, key string, ttl time.Duration) error {
	sealed, err := r.seal(openID, key)
	if err != nil {
		return err
	}
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	if err := rotateKeys.Run(ctx, r.client, []string{r.userKey(openID)}, sealed, ttl.Milliseconds()).Err(); err != nil {
		return fail(err)
	}
	return nil
}

// UserKeys implements Store. A key that does not open (the app_secret
// changed since it was stored) counts as absent.
func (r *Redis) UserKeys(ctx context.Context, openID string) (string, string, error) {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	vals, err := r.client.HMGet(ctx, r.userKey(openID), "n", "p").Result()
	if err != nil {
		return "", "", fail(err)
	}
	var keys [2]string
	for i, v := range vals {
		if s, ok := v.(string); ok {
			keys[i] = r.open(openID, s)
		}
	}
	if keys[0] == "" {
		return "", "", ErrNotFound
	}
	return keys[0], keys[1], nil
}

// seal encrypts a session_key for the user's record.
func (r *Redis) seal(openID, key string) (string, error) {
	nonce := make([]byte, r.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(r.aead.Seal(nonce, nonce, []byte(key), []byte(openID))), nil
}

// open decrypts what seal made, "" if it does not open.
func (r *Redis) open(openID, sealed string) string {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < r.aead.NonceSize() {
		return ""
	}
	n := r.aead.NonceSize()
	plain, err := r.aead.Open(nil, raw[:n], raw[n:], []byte(openID))
	if err != nil {
		return ""
	}
	return string(plain)
}

// Close implements Store.
func (r *Redis) Close() error { return r.client.Close() }
