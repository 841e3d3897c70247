package wechatauth

// failure_limit: a client address that has had too many codes refused by
// WeChat gets 429 too_many_failures at /wx/login and /wx/phone, without a
// call to WeChat, until enough of its failures are older than the window.
// Guessed codes would otherwise spend the app's WeChat quota, which is the
// app's, not the client's (45011 locks every user of the app out).
//
// The limiter is the app's, like its store: one per app_id in the pool
// below, shared by every block of the app and kept across reloads (blocks
// must agree on the setting). It is per Caddy process: with several behind
// a balancer the effective limit is n per instance. Only the two endpoints
// touch it; authenticated requests never do.

import (
	"context"
	"fmt"
	"hash/maphash"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// DefaultFailureLimit is failure_limit when the config gives none.
const DefaultFailureLimit = "30/1m"

const (
	// failureSlots is how many time slices of a window one address keeps:
	// the window is cut into failureSlots-1 slices, and a refused code
	// counts until its slice is failureSlots slices old, so for at least
	// the window and at most 1/15 of it longer.
	failureSlots = 16
	// maxFailureCount bounds n: a slice counts up to 65535 (uint16).
	maxFailureCount = 1<<16 - 1
	// maxFailureAddresses bounds how many client addresses one app's
	// limiter remembers (those with the most recent failures): 72 bytes
	// each, 4.5 MiB per app at most, whatever the number of addresses.
	maxFailureAddresses = 1 << 16
	failureShards       = 16
)

// failureLimit is a parsed failure_limit; the zero value is "off".
type failureLimit struct {
	n      int
	window time.Duration
}

func (l failureLimit) off() bool { return l.n == 0 }

func (l failureLimit) String() string {
	if l.off() {
		return "off"
	}
	s := l.window.String() // 1m0s, 1h0m0s: shown as 1m, 1h
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return strconv.Itoa(l.n) + "/" + s
}

// parseFailureLimit reads "<n>/<duration>" (such as 30/1m), "off", or ""
// (the default).
func parseFailureLimit(s string) (failureLimit, error) {
	const accepted = "want <n>/<duration>, n refused codes per client address within the duration (n from 1 to 65535, a duration of at least 1s), such as failure_limit 30/1m; or off"
	switch s {
	case "":
		s = DefaultFailureLimit
	case "off":
		return failureLimit{}, nil
	}
	count, dur, ok := strings.Cut(s, "/")
	if !ok {
		return failureLimit{}, fmt.Errorf("failure_limit %q: %s", s, accepted)
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || n > maxFailureCount {
		return failureLimit{}, fmt.Errorf("failure_limit %q: n %q is not a whole number from 1 to 65535: %s", s, count, accepted)
	}
	window, err := caddy.ParseDuration(dur)
	if err != nil || window < time.Second {
		return failureLimit{}, fmt.Errorf("failure_limit %q: window %q is not a duration of at least 1s: %s", s, dur, accepted)
	}
	return failureLimit{n: n, window: window}, nil
}

// failureGuard is a block's failure limit and its reference to the app's
// limiter (nil when off).
type failureGuard struct {
	limit   failureLimit
	limiter *failureLimiter
	key     string // in limiters
}

// limiters holds one failure limiter per app (and window length: a reload
// that changes only n keeps the counts, one that changes the window
// starts afresh).
var limiters = caddy.NewUsagePool()

type limiterEntry struct{ *failureLimiter }

func (limiterEntry) Destruct() error { return nil }

// provisionFailureLimit parses failure_limit, checks that the app's other
// blocks agree, and takes a reference to the app's limiter.
func (h *Handler) provisionFailureLimit(ctx caddy.Context) error {
	limit, err := parseFailureLimit(h.FailureLimit)
	if err != nil {
		return fmt.Errorf("wechat_auth: %v", err)
	}
	if err := claimFailureLimit(ctx, h.appID, limit); err != nil {
		return err
	}
	g := &failureGuard{limit: limit}
	if !limit.off() {
		g.key = "limiter\x00" + h.appID + "\x00" + limit.window.String()
		val, _, _ := limiters.LoadOrNew(g.key, func() (caddy.Destructor, error) {
			return limiterEntry{newFailureLimiter(limit.window, maxFailureAddresses)}, nil
		})
		g.limiter = val.(limiterEntry).failureLimiter
	}
	h.failures = g
	return nil
}

// releaseFailureLimiter gives back the block's reference to the limiter.
func (h *Handler) releaseFailureLimiter() {
	if h.failures != nil && h.failures.key != "" {
		_, _ = limiters.Delete(h.failures.key)
		h.failures.key = ""
	}
}

// configLimits records, per config being loaded, the failure limit of each
// app's first block (as configApps does for the store settings).
var configLimits = struct {
	sync.Mutex
	m map[context.Context]map[string]failureLimit
}{m: map[context.Context]map[string]failureLimit{}}

func claimFailureLimit(ctx caddy.Context, appID string, l failureLimit) error {
	key := ctx.Context
	configLimits.Lock()
	defer configLimits.Unlock()
	apps, ok := configLimits.m[key]
	if !ok {
		apps = map[string]failureLimit{}
		configLimits.m[key] = apps
		context.AfterFunc(key, func() {
			configLimits.Lock()
			delete(configLimits.m, key)
			configLimits.Unlock()
		})
	}
	first, ok := apps[appID]
	if !ok {
		apps[appID] = l
		return nil
	}
	if first != l {
		return fmt.Errorf("wechat_auth: app %s: blocks disagree on failure_limit: %s in one block, %s in another: the failure limit is the app's, so every wechat_auth block of the app must give the same (an omitted failure_limit counts as its default %s)", appID, first, l, DefaultFailureLimit)
	}
	return nil
}

// refusedCode tells the answers that count as a failure: WeChat refused
// the code as invalid (40029), used (40163) or the user as risky (40226);
// invalid_phone_code also answers a phone code too long to be one.
func refusedCode(e *apiError) bool {
	return e == &errInvalidCode || e == &errCodeUsed || e == &errRiskyUser || e == &errInvalidPhoneCode
}

// limitFailures serves /wx/login or /wx/phone under the app's failure
// limit: a client address that has had n codes refused within the window
// gets 429 too_many_failures with Retry-After, and reaches no one.
func (h *Handler) limitFailures(w http.ResponseWriter, r *http.Request, endpoint string, serve func(http.ResponseWriter, *http.Request) *apiError) *apiError {
	g := h.failures
	if g == nil || g.limiter == nil {
		return serve(w, r)
	}
	ip := clientIP(r)
	key := addrKeyOf(ip)
	if wait := g.limiter.wait(key, g.limit.n, time.Now()); wait > 0 {
		metrics.limited.WithLabelValues(h.appID, endpoint).Inc()
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(wait), 10))
		return &errTooManyFailures
	}
	e := serve(w, r)
	if refusedCode(e) && g.limiter.fail(key, time.Now()) == g.limit.n {
		// once per address and window: when it reaches the limit
		h.logger.Warn("client address limited: too many codes refused by WeChat",
			zap.String("app_id", h.appID), zap.String("client_ip", ip.String()),
			zap.String("failure_limit", g.limit.String()), zap.String("last_answer", e.code))
	}
	return e
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// clientIP is Caddy's client IP of the request (the remote address, or
// the one a trusted proxy forwarded, per trusted_proxies and
// client_ip_headers); the remote address outside a Caddy server. The zero
// Addr when there is none (a Unix socket): such clients share one count.
func clientIP(r *http.Request) netip.Addr {
	s, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip
}

// addrKey is what the limiter counts by: an IPv4 address, or the /64 of
// an IPv6 one (one host holds a whole /64), as 16 bytes.
type addrKey [16]byte

func addrKeyOf(ip netip.Addr) addrKey {
	ip = ip.Unmap().WithZone("")
	k := addrKey(ip.As16())
	if ip.Is6() {
		clear(k[8:])
	}
	return k
}

// failureLimiter counts refused codes by client address in a sliding
// window of failureSlots time slices, for at most maxAddresses addresses
// (the least recently failed are forgotten first). Its memory is fixed by
// that bound: entries in slices that never grow past it, found through an
// open-addressing table of int32 (not a Go map, whose tables can keep
// growing under endless deletes and inserts). It holds no pointers, so the
// garbage collector does not scan it. Safe for concurrent use.
type failureLimiter struct {
	start  time.Time     // slice 0 begins here; a monotonic clock reading
	slice  time.Duration // window/(failureSlots-1), rounded up
	seed   maphash.Seed
	shards [failureShards]failureShard
}

// failureShard is an LRU of addresses: entries linked by index, most
// recently failed at head; table maps a key's hash to 1 + its entry's
// index by linear probing (0: empty), at most half full.
type failureShard struct {
	mu         sync.Mutex
	entries    []failureEntry
	table      []int32
	max        int
	head, tail int32
}

// failureEntry is one address's failures: counts[s%failureSlots] is the
// count of slice s, for the slices newest-failureSlots+1 .. newest.
type failureEntry struct {
	key        addrKey
	newest     int64
	counts     [failureSlots]uint16
	prev, next int32
}

func newFailureLimiter(window time.Duration, maxAddresses int) *failureLimiter {
	l := &failureLimiter{
		start: time.Now(),
		slice: (window + failureSlots - 2) / (failureSlots - 1),
		seed:  maphash.MakeSeed(),
	}
	perShard := max(maxAddresses/failureShards, 1)
	for i := range l.shards {
		l.shards[i] = failureShard{max: perShard, head: -1, tail: -1}
	}
	return l
}

// hash picks a key's shard (low bits) and its home in the shard's table
// (high bits).
func (l *failureLimiter) hash(k addrKey) uint64 { return maphash.Bytes(l.seed, k[:]) }

func (l *failureLimiter) shard(h uint64) *failureShard {
	return &l.shards[h%failureShards]
}

func (l *failureLimiter) sliceAt(now time.Time) int64 {
	d := now.Sub(l.start)
	if d < 0 {
		return 0
	}
	return int64(d / l.slice)
}

// counted returns the first and last slice of e that count at slice s.
func counted(e *failureEntry, s int64) (first, last int64) {
	last = min(s, e.newest)
	first = max(max(s, e.newest)-failureSlots+1, 0)
	return first, last
}

// wait returns how long the address must wait before an attempt: 0 when
// it has had fewer than n failures within the window.
func (l *failureLimiter) wait(k addrKey, n int, now time.Time) time.Duration {
	h := l.hash(k)
	sh := l.shard(h)
	s := l.sliceAt(now)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	pos := sh.find(k, h)
	if pos < 0 {
		return 0
	}
	e := &sh.entries[sh.table[pos]-1]
	first, last := counted(e, s)
	sum := 0
	for j := first; j <= last; j++ {
		sum += int(e.counts[j%failureSlots])
	}
	if sum < n {
		return 0
	}
	// The wait ends when the oldest slices, enough of them to go under
	// n, have left the window.
	for j := first; j <= last; j++ {
		sum -= int(e.counts[j%failureSlots])
		if sum < n {
			free := l.start.Add(time.Duration(j+failureSlots) * l.slice)
			return max(free.Sub(now), time.Nanosecond)
		}
	}
	return time.Nanosecond // unreachable: n >= 1
}

// fail records a refused code of the address and returns its failures
// within the window, this one included.
func (l *failureLimiter) fail(k addrKey, now time.Time) int {
	h := l.hash(k)
	sh := l.shard(h)
	s := l.sliceAt(now)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var i int32
	if pos := sh.find(k, h); pos >= 0 {
		i = sh.table[pos] - 1
		sh.unlink(i)
	} else {
		i = sh.slot(l)
		sh.entries[i] = failureEntry{key: k, newest: s}
		sh.insert(i, h)
	}
	sh.pushFront(i)
	e := &sh.entries[i]
	if s > e.newest {
		for j := e.newest + 1; j <= s && j <= e.newest+failureSlots; j++ {
			e.counts[j%failureSlots] = 0
		}
		e.newest = s
	}
	if c := &e.counts[s%failureSlots]; *c < maxFailureCount {
		*c++
	}
	first, last := counted(e, s)
	sum := 0
	for j := first; j <= last; j++ {
		sum += int(e.counts[j%failureSlots])
	}
	return sum
}

// home is where a key of hash h starts probing.
func (sh *failureShard) home(h uint64) int { return int(h>>32) & (len(sh.table) - 1) }

// find returns the table position of k, or -1.
func (sh *failureShard) find(k addrKey, h uint64) int {
	if len(sh.table) == 0 {
		return -1
	}
	mask := len(sh.table) - 1
	for pos := sh.home(h); ; pos = (pos + 1) & mask {
		i := sh.table[pos]
		if i == 0 {
			return -1
		}
		if sh.entries[i-1].key == k {
			return pos
		}
	}
}

// insert puts entry i, of hash h, in the table (which has room).
func (sh *failureShard) insert(i int32, h uint64) {
	mask := len(sh.table) - 1
	pos := sh.home(h)
	for sh.table[pos] != 0 {
		pos = (pos + 1) & mask
	}
	sh.table[pos] = i + 1
}

// remove empties table position pos, moving back the entries after it
// that probed past it (so no tombstone is left: the table never fills
// with dead slots).
func (sh *failureShard) remove(l *failureLimiter, pos int) {
	mask := len(sh.table) - 1
	for next := (pos + 1) & mask; sh.table[next] != 0; next = (next + 1) & mask {
		home := sh.home(l.hash(sh.entries[sh.table[next]-1].key))
		// next may move to pos if its home is not in (pos, next]
		if (next > pos && (home <= pos || home > next)) || (next < pos && home <= pos && home > next) {
			sh.table[pos] = sh.table[next]
			pos = next
		}
	}
	sh.table[pos] = 0
}

// slot returns a free entry: a new one while under max, else the least
// recently failed, forgotten.
func (sh *failureShard) slot(l *failureLimiter) int32 {
	if len(sh.entries) < sh.max {
		if len(sh.entries) == cap(sh.entries) {
			sh.grow(l)
		}
		sh.entries = sh.entries[:len(sh.entries)+1]
		return int32(len(sh.entries) - 1)
	}
	i := sh.tail
	sh.unlink(i)
	e := &sh.entries[i]
	h := l.hash(e.key)
	sh.remove(l, sh.find(e.key, h))
	return i
}

// grow doubles the room for entries (up to max) and rebuilds the table,
// a power of two at least twice that room.
func (sh *failureShard) grow(l *failureLimiter) {
	room := min(max(2*cap(sh.entries), 64), sh.max)
	grown := make([]failureEntry, len(sh.entries), room)
	copy(grown, sh.entries)
	sh.entries = grown
	size := 1
	for size < 2*room {
		size *= 2
	}
	sh.table = make([]int32, size)
	for i := range sh.entries {
		sh.insert(int32(i), l.hash(sh.entries[i].key))
	}
}

func (sh *failureShard) unlink(i int32) {
	e := &sh.entries[i]
	if e.prev >= 0 {
		sh.entries[e.prev].next = e.next
	} else {
		sh.head = e.next
	}
	if e.next >= 0 {
		sh.entries[e.next].prev = e.prev
	} else {
		sh.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (sh *failureShard) pushFront(i int32) {
	e := &sh.entries[i]
	e.prev, e.next = -1, sh.head
	if sh.head >= 0 {
		sh.entries[sh.head].prev = i
	}
	sh.head = i
	if sh.tail < 0 {
		sh.tail = i
	}
}

// size returns how many addresses the limiter remembers, how many it has
// room for, and the length of its tables.
func (l *failureLimiter) size() (addresses, room, table int) {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		addresses += len(sh.entries)
		room += cap(sh.entries)
		table += len(sh.table)
		sh.mu.Unlock()
	}
	return addresses, room, table
}
