package wechatauth

// The failure limiter's data structure: refused codes by client address,
// in a sliding window, in memory bounded whatever the number of addresses.

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

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
