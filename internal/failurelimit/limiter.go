package failurelimit

// The limiter's data structure: refused codes by client address, in a
// sliding window, in memory bounded whatever the number of addresses.

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// Key is what the limiter counts by: an IPv4 address, or the /64 of
// an IPv6 one (one host holds a whole /64), as 16 bytes.
type Key [16]byte

func KeyOf(ip netip.Addr) Key {
	ip = ip.Unmap().WithZone("")
	k := Key(ip.As16())
	if ip.Is6() {
		clear(k[8:])
	}
	return k
}

// Limiter counts refused codes by client address in a sliding
// window of slots time slices, for at most maxAddresses addresses
// (the least recently failed are forgotten first). Its memory is fixed by
// that bound: entries in slices that never grow past it, found through an
// open-addressing table of int32 (not a Go map, whose tables can keep
// growing under endless deletes and inserts). It holds no pointers, so the
// garbage collector does not scan it. Safe for concurrent use.
type Limiter struct {
	start  time.Time     // slice 0 begins here; a monotonic clock reading
	slice  time.Duration // window/(slots-1), rounded up
	seed   maphash.Seed
	shards [shardCount]addrShard
}

// addrShard is an LRU of addresses: entries linked by index, most
// recently failed at head; table maps a key's hash to 1 + its entry's
// index by linear probing (0: empty), at most half full.
type addrShard struct {
	mu         sync.Mutex
	entries    []addrEntry
	table      []int32
	max        int
	head, tail int32
}

// addrEntry is one address's failures: counts[s%slots] is the
// count of slice s, for the slices newest-slots+1 .. newest.
type addrEntry struct {
	key        Key
	newest     int64
	counts     [slots]uint16
	prev, next int32
}

// New makes a limiter for a window, remembering at most maxAddresses
// addresses; now is the time on the clock the caller passes to Wait and Fail.
func New(window time.Duration, maxAddresses int, now time.Time) *Limiter {
	l := &Limiter{
		start: now,
		slice: (window + slots - 2) / (slots - 1),
		seed:  maphash.MakeSeed(),
	}
	perShard := max(maxAddresses/shardCount, 1)
	for i := range l.shards {
		l.shards[i] = addrShard{max: perShard, head: -1, tail: -1}
	}
	return l
}

// hash picks a key's shard (low bits) and its home in the shard's table
// (high bits).
func (l *Limiter) hash(k Key) uint64 { return maphash.Bytes(l.seed, k[:]) }

func (l *Limiter) shard(h uint64) *addrShard {
	return &l.shards[h%shardCount]
}

func (l *Limiter) sliceAt(now time.Time) int64 {
	d := now.Sub(l.start)
	if d < 0 {
		return 0
	}
	return int64(d / l.slice)
}

// counted returns the first and last slice of e that count at slice s.
func counted(e *addrEntry, s int64) (first, last int64) {
	last = min(s, e.newest)
	first = max(max(s, e.newest)-slots+1, 0)
	return first, last
}

// sum is e's count over the slices first..last.
func (e *addrEntry) sum(first, last int64) int {
	n := 0
	for j := first; j <= last; j++ {
		n += int(e.counts[j%slots])
	}
	return n
}

// Wait returns how long the address must wait before an attempt: 0 when
// it has had fewer than n failures within the window.
func (l *Limiter) Wait(k Key, n int, now time.Time) time.Duration {
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
	sum := e.sum(first, last)
	if sum < n {
		return 0
	}
	// The wait ends when the oldest slices, enough of them to go under
	// n, have left the window.
	for j := first; j <= last; j++ {
		sum -= int(e.counts[j%slots])
		if sum < n {
			free := l.start.Add(time.Duration(j+slots) * l.slice)
			return max(free.Sub(now), time.Nanosecond)
		}
	}
	return time.Nanosecond // unreachable: n >= 1
}

// Fail records a refused code of the address and returns its failures
// within the window, this one included.
func (l *Limiter) Fail(k Key, now time.Time) int {
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
		sh.entries[i] = addrEntry{key: k, newest: s}
		sh.insert(i, h)
	}
	sh.pushFront(i)
	e := &sh.entries[i]
	if s > e.newest {
		for j := e.newest + 1; j <= s && j <= e.newest+slots; j++ {
			e.counts[j%slots] = 0
		}
		e.newest = s
	}
	if c := &e.counts[s%slots]; *c < maxCount {
		*c++
	}
	return e.sum(counted(e, s))
}

// home is where a key of hash h starts probing.
func (sh *addrShard) home(h uint64) int { return int(h>>32) & (len(sh.table) - 1) }

// find returns the table position of k, or -1.
func (sh *addrShard) find(k Key, h uint64) int {
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
func (sh *addrShard) insert(i int32, h uint64) {
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
func (sh *addrShard) remove(l *Limiter, pos int) {
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
func (sh *addrShard) slot(l *Limiter) int32 {
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
func (sh *addrShard) grow(l *Limiter) {
	room := min(max(2*cap(sh.entries), 64), sh.max)
	grown := make([]addrEntry, len(sh.entries), room)
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

func (sh *addrShard) unlink(i int32) {
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

func (sh *addrShard) pushFront(i int32) {
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
