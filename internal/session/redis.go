package session

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// Defaults of RedisOptions.
const (
	// DefaultRedisTimeout bounds one Redis operation.
	DefaultRedisTimeout = time.Second
	// DefaultNearCacheBytes is the near cache's size per Redis node.
	DefaultNearCacheBytes = 64 << 20
)

// nearCacheTTL is the near cache's own bound on an entry's life: longer
// than any session, so that an entry lives exactly as long as its key in
// Redis (whose TTL caps it) unless an invalidation or the LRU ends it.
const nearCacheTTL = 100 * 365 * 24 * time.Hour

// RedisOptions configure NewRedis.
type RedisOptions struct {
	// URL is where Redis is:
	//
	//	redis://[user:password@]host[:port][/db]   (port 6379)
	//	rediss://...                               (TLS, verified against the system roots)
	//	unix://[user:password@]/path/to/redis.sock[?db=n]
	//
	// with parameters addr=host:port (repeatable: more seed nodes; a
	// Redis Cluster is found from them), master_set=<name> (the hosts are
	// Sentinels, port 26379, watching that master; sentinel_username= and
	// sentinel_password= authenticate to them), db=<n>, and
	// near_cache=off|<size>[KB|MB|GB] (overrides NearCacheBytes).
	// Placeholders are the caller's business: URL is used as given.
	URL string
	// AppID namespaces the keys: stores of different apps never meet.
	AppID string
	// KeySecret (the app_secret) is what the store's keys are derived
	// from: the one sealing session_keys (AES-256-GCM, bound to the
	// openid), and the one of the keyed hashes (routing tags in tokens,
	// session_key comparison). Every Caddy sharing the Redis must give the
	// same. A new secret moves new logins to new routing tags: sessions
	// made before keep working until they end, but RevokeUser no longer
	// finds them, and session_keys sealed before no longer open.
	KeySecret string
	// Timeout bounds one operation (DefaultRedisTimeout when <= 0): a
	// Redis slower than that gives ErrUnavailable.
	Timeout time.Duration
	// Limits are the app's store settings (SetLimits changes them).
	Limits Limits
	// NearCacheBytes bounds the memory of the near cache, per Redis node
	// (DefaultNearCacheBytes when 0; < 0 turns it off).
	NearCacheBytes int
	// OnStateChange, when set, hears when the store finds Redis down
	// (up false, with the error) and up again (up true, nil error): once
	// per change, from a background goroutine, never after Close. A store
	// that cannot reach Redis when made reports down at once.
	OnStateChange func(up bool, err error)

	// rootCAs replaces the system roots for rediss:// (tests).
	rootCAs *x509.CertPool
}

// Redis is a Store in Redis, shared by every Caddy that points at it: a
// single server, a Redis Cluster, or a primary found through Sentinels.
//
// See redis_keys.go for the key layout (each user's keys share one hash
// slot; a token carries its user's routing tag), redis_lua.go for the
// scripts (Login, BindPhone and RevokeUser take one round trip each) and
// redis_health.go for the heartbeat that makes the near cache safe and an
// outage fail fast.
//
// Near cache: Get reads sessions through the client's server-assisted
// cache (RESP3 CLIENT TRACKING): a session read once is served from this
// process's memory until Redis says it changed (a logout, a revocation, a
// renewal, a phone bound) or it expires, so a hot token costs no round
// trip, and a change made by any Caddy reaches every other one as soon as
// Redis pushes the invalidation. The cache is bounded (NearCacheBytes,
// LRU). When a connection drops, the client empties that connection's
// cache and reads go to Redis again; and the cache answers only while the
// heartbeat proves the connection current (see redis_health.go), so a
// session revoked elsewhere is not served from memory 75 ms after (the
// contract's bound is 100 ms; with a healthy link it takes about one
// network hop). What this store changes itself, its next Get sees. The
// near cache needs RESP3 client tracking (Redis 6 or newer); without it
// every Get is a round trip.
//
// Nothing secret is in Redis in clear: a token only as its SHA-256, a
// session_key only sealed (and as a keyed hash).
type Redis struct {
	keys    *redisKeys
	opt     rueidis.ClientOption
	timeout time.Duration
	cache   atomic.Bool // the near cache is on
	limits  atomic.Pointer[Limits]
	onState func(up bool, err error)

	client     atomic.Pointer[rueidis.Client]
	epoch      time.Time
	lastBeat   atomic.Int64 // mono() when the newest heartbeat every node answered was sent
	skew       atomic.Int64 // Redis clock - our clock, ms
	up         atomic.Bool
	downErr    atomic.Pointer[error]
	stateMu    sync.Mutex
	stateKnown bool
	kick       chan struct{}
	ctx        context.Context
	cancel     context.CancelFunc
	done       chan struct{}
}

// NewRedis returns a store in the Redis at o.URL. It tries to connect at
// once (for at most o.Timeout); if Redis cannot be reached it still
// returns the store, down (calls fail with ErrUnavailable), and keeps
// trying in the background. Only a bad URL or option is an error; its
// text names what is accepted and never holds the password.
func NewRedis(o RedisOptions) (*Redis, error) {
	t, err := parseRedisURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.AppID == "" {
		return nil, errors.New("session: Redis store without an app_id")
	}
	if o.KeySecret == "" {
		return nil, errors.New("session: Redis store without a key secret (the app_secret)")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultRedisTimeout
	}
	keys, err := newRedisKeys(o.AppID, o.KeySecret)
	if err != nil {
		return nil, err
	}
	cacheBytes := o.NearCacheBytes
	if t.nearCache != 0 {
		cacheBytes = t.nearCache
	}
	if cacheBytes == 0 {
		cacheBytes = DefaultNearCacheBytes
	}
	opt := t.opt
	if opt.TLSConfig != nil && o.rootCAs != nil {
		opt.TLSConfig.RootCAs = o.rootCAs
		opt.Sentinel.TLSConfig.RootCAs = o.rootCAs
	}
	opt.ClientName = "wechat_auth"
	opt.Dialer.Timeout = o.Timeout
	opt.Dialer.KeepAlive = time.Second
	opt.Sentinel.Dialer = opt.Dialer
	opt.Sentinel.ClientName = "wechat_auth"
	opt.Sentinel.TopologyRefreshInterval = 2 * time.Second
	// the client's own liveness check: a connection that does not answer
	// a PING for this long is closed (and its cache emptied)
	opt.ConnWriteTimeout = max(o.Timeout, time.Second)
	// a request is answered in time or fails: no retries behind its back
	opt.DisableRetry = true
	// one connection per node: commands, invalidations and the heartbeat
	// share it (see redis_health.go)
	opt.PipelineMultiplex = -1
	if cacheBytes < 0 {
		opt.DisableCache = true
	} else {
		opt.CacheSizeEachConn = cacheBytes
	}
	r := &Redis{
		keys:    keys,
		opt:     opt,
		timeout: o.Timeout,
		onState: o.OnStateChange,
		epoch:   time.Now(),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	r.cache.Store(cacheBytes > 0)
	r.SetLimits(o.Limits)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if c, err := r.connect(); err != nil {
		r.setState(false, err)
	} else {
		r.client.Store(&c)
		r.lastBeat.Store(r.mono())
		r.up.Store(true)
		r.stateKnown = true
	}
	go r.monitor()
	return r, nil
}

// connect makes the client (rueidis connects at once, and finds a Cluster
// or the Sentinels' master). A Redis without RESP3 client tracking (older
// than 6, or a proxy in front of it) gets a client without near cache.
// It runs in NewRedis, then only in the heartbeat's goroutine.
func (r *Redis) connect() (rueidis.Client, error) {
	opt := r.opt
	opt.InitAddress = append([]string(nil), r.opt.InitAddress...)
	c, err := rueidis.NewClient(opt)
	if errors.Is(err, rueidis.ErrNoCache) && !opt.DisableCache {
		r.cache.Store(false)
		r.opt.DisableCache = true
		opt.DisableCache = true
		c, err = rueidis.NewClient(opt)
	}
	return c, err
}

// begin starts one operation: the client (or the error of a store that
// is down) and ctx bounded by the timeout; the caller defers cancel.
func (r *Redis) begin(ctx context.Context) (rueidis.Client, context.Context, context.CancelFunc, error) {
	c, err := r.ready()
	if err != nil {
		return nil, ctx, nil, err
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= r.timeout {
		return c, ctx, func() {}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	return c, ctx, cancel, nil
}

// SetLimits implements Store. MaxSessions does not apply: Redis bounds
// itself (maxmemory).
func (r *Redis) SetLimits(l Limits) {
	l = l.WithDefaults()
	r.limits.Store(&l)
}

// NewToken implements Store: 29 random bytes after the user's 3-byte
// routing tag (see redis_keys.go).
func (r *Redis) NewToken(openID string) string { return r.keys.newToken(openID) }

// Len implements Store: Redis cannot count one app's sessions cheaply.
func (r *Redis) Len() (int64, bool) { return 0, false }

// Login implements Store, in one round trip (loginScript).
func (r *Redis) Login(ctx context.Context, token string, s Session, sessionKey string) (Session, error) {
	if s.OpenID == "" {
		return Session{}, errors.New("session: Login without an openid")
	}
	if strings.ContainsRune(s.OpenID+s.UnionID, 0) {
		return Session{}, errNUL
	}
	if !validSessionKey(sessionKey) {
		return Session{}, errors.New("session: session_key is neither empty nor base64 of 16 or 24 bytes")
	}
	tag := r.keys.tag(s.OpenID)
	if !WellFormedToken(token) || token[:tagLen] != tag {
		return Session{}, errors.New("session: Login with a token NewToken did not make for this openid")
	}
	c, ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return Session{}, err
	}
	defer cancel()
	l := r.limits.Load()
	prefix := r.keys.prefix(tag)
	id := tokenID(token)
	sealed, hash := "", "" // no key (Alipay): the record keeps none
	if sessionKey != "" {
		sealed, hash = r.keys.seal(s.OpenID, sessionKey), r.keys.keyHash(s.OpenID, sessionKey)
	}
	v, err := loginScript.exec(ctx, c,
		[]string{prefix + "u:" + s.OpenID, prefix + "x:" + s.OpenID, prefix + "s:" + id},
		[]string{
			sealed, hash,
			s.OpenID, s.UnionID,
			ms(l.SessionTTL), ms(l.IdleTimeout), ms(l.PhoneTTL), id,
		}, "").ToArray()
	if err != nil {
		return Session{}, r.fail(err)
	}
	s.Phone, s.PhoneCountry = "", ""
	if len(v) == 3 {
		if phone, err := v[1].ToString(); err == nil {
			s.Phone = phone
			s.PhoneCountry, _ = v[2].ToString()
		}
	}
	return s, nil
}

// validSessionKey: "" (a platform without session keys), or base64 of
// 16 bytes (AES-128: WeChat, QQ, Douyin, Kuaishou) or 24 (AES-192: Baidu).
func validSessionKey(key string) bool {
	if key == "" {
		return true
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	return err == nil && (len(raw) == 16 || len(raw) == 24)
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// Get implements Store: from the near cache when it may answer, else one
// round trip. With an IdleTimeout it renews the session when its idle
// expiry is more than IdleTimeout/4 old (renewScript): one write then,
// none otherwise.
func (r *Redis) Get(ctx context.Context, token string) (Session, error) {
	s, _, err := r.get(ctx, token)
	return s, err
}

// get is Get, also telling whether the near cache answered.
func (r *Redis) get(ctx context.Context, token string) (Session, bool, error) {
	if !WellFormedToken(token) {
		return Session{}, false, ErrNotFound
	}
	c, ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return Session{}, false, err
	}
	defer cancel()
	key := r.keys.sessionKey(token)
	var (
		val      string
		deadline int64 // when the key expires, Unix ms of our clock (0: unknown)
		hit      bool
	)
	if r.cache.Load() && r.fresh() {
		res := c.DoCache(ctx, c.B().Get().Key(key).Cache(), nearCacheTTL)
		if val, err = res.ToString(); err != nil {
			return Session{}, false, r.fail(err)
		}
		hit = res.IsCacheHit()
		deadline = max(res.CachePXAT(), 0)
	} else {
		rs := c.DoMulti(ctx, c.B().Pttl().Key(key).Build(), c.B().Get().Key(key).Build())
		if val, err = rs[1].ToString(); err != nil {
			return Session{}, false, r.fail(err)
		}
		if pttl, err := rs[0].AsInt64(); err == nil && pttl >= 0 {
			deadline = time.Now().UnixMilli() + pttl
		}
	}
	sv, ok := decodeSession(val)
	if !ok {
		return Session{}, hit, ErrNotFound
	}
	l := r.limits.Load()
	now := time.Now().UnixMilli()
	skew := r.skew.Load()
	if sv.Phone != "" && now+skew-sv.phoneAt >= l.PhoneTTL.Milliseconds() {
		sv.Phone, sv.PhoneCountry = "", "" // the bind has lapsed
	}
	end := sv.expires - skew // the absolute end, ms of our clock
	if now >= end {
		// past its session TTL: a near-cache copy can outlive the key by
		// the latency of the read that cached it, never the session
		return Session{}, hit, ErrNotFound
	}
	known := deadline > 0
	if !known {
		deadline = end // the key's expiry is never later
	}
	if idle := l.IdleTimeout.Milliseconds(); known && renewDue(now, deadline, end, idle) {
		err := renewScript.exec(ctx, c, []string{key}, []string{ms(l.IdleTimeout), strconv.FormatInt(sv.expires, 10)}, "").Error()
		if err != nil {
			_ = r.fail(err) // the session is live: served all the same
		} else if deadline = end; idle > 0 {
			deadline = min(now+idle, end) // as renewScript moved it
		}
	}
	sv.ExpiresIn = time.Duration(max(deadline-now, 0)) * time.Millisecond
	return sv.Session, hit, nil
}

// renewDue tells whether a session whose key expires at deadline (and
// whose life ends at end), both ms of our clock, needs its expiry moved:
// with an idle timeout, to now + idle (capped at end) once the current
// one is more than idle/4 old, or sooner than that (a reload shortened
// the idle timeout or turned it on); without, to end (a reload turned it
// off).
func renewDue(now, deadline, end, idle int64) bool {
	if idle <= 0 {
		return deadline < end-10_000
	}
	want := min(now+idle, end)
	return deadline < want-idle/4 || deadline > want+idle/4
}

// BindPhone implements Store, in one round trip (bindPhoneScript).
func (r *Redis) BindPhone(ctx context.Context, token, openID, phone, country string) error {
	if strings.ContainsRune(openID+phone+country, 0) {
		return errNUL
	}
	if !WellFormedToken(token) || token[:tagLen] != r.keys.tag(openID) {
		return ErrNotFound // not a session of openID
	}
	c, ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	key := r.keys.sessionKey(token)
	n, err := bindPhoneScript.exec(ctx, c,
		[]string{key, r.keys.userKey(openID)},
		[]string{openID, phone, country, ms(r.limits.Load().PhoneTTL)}, key).AsInt64()
	if err != nil {
		return r.fail(err)
	}
	if n != 1 {
		return ErrNotFound
	}
	return nil
}

// Delete implements Store. The user's index keeps the token's hash until
// its expiry: RevokeUser counts only sessions that are still there.
func (r *Redis) Delete(ctx context.Context, token string) error {
	if !WellFormedToken(token) {
		return nil
	}
	c, ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	// the PTTL after it: see script.exec (what this store deletes, its
	// next Get does not find)
	key := r.keys.sessionKey(token)
	if err := c.DoMulti(ctx, c.B().Del().Key(key).Build(), c.B().Pttl().Key(key).Build())[0].Error(); err != nil {
		return r.fail(err)
	}
	return nil
}

// RevokeUser implements Store, in one round trip (revokeScript).
func (r *Redis) RevokeUser(ctx context.Context, openID string, forgetUser bool) (int, error) {
	c, ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	prefix := r.keys.prefix(r.keys.tag(openID))
	forget := "0"
	if forgetUser {
		forget = "1"
	}
	index := prefix + "x:" + openID
	n, err := revokeScript.exec(ctx, c,
		[]string{index, prefix + "u:" + openID},
		[]string{prefix + "s:", forget}, index).AsInt64()
	if err != nil {
		return 0, r.fail(err)
	}
	return int(n), nil
}

// UserKeys implements Store. A key that does not open (the secret changed
// since it was sealed) counts as absent.
func (r *Redis) UserKeys(ctx context.Context, openID string) (string, string, error) {
	c, ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return "", "", err
	}
	defer cancel()
	vals, err := c.Do(ctx, c.B().Hmget().Key(r.keys.userKey(openID)).Field("kn", "kp").Build()).ToArray()
	if err != nil {
		return "", "", r.fail(err)
	}
	var keys [2]string
	for i, v := range vals {
		if i < 2 {
			if sealed, err := v.ToString(); err == nil {
				keys[i] = r.keys.open(openID, sealed)
			}
		}
	}
	if keys[0] == "" && keys[1] == "" {
		return "", "", ErrNotFound
	}
	return keys[0], keys[1], nil
}

// Close implements Store: it stops the heartbeat and closes the
// connections.
func (r *Redis) Close() error {
	r.cancel()
	<-r.done
	if c := r.client.Load(); c != nil {
		(*c).Close()
	}
	return nil
}

// String names the store for logs, without the URL's password.
func (r *Redis) String() string {
	return fmt.Sprintf("redis store of app %s (%s)", r.keys.appID, strings.Join(r.opt.InitAddress, ","))
}

var _ Store = (*Redis)(nil)
