package session

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// table holds the Memory store's sessions: sharded maps from a keyed hash
// of the token to its entry, where lookups of different sessions never
// contend, and one eviction clock that only logins move, under one lock.
//
// The clock is a second-chance FIFO of every entry (CLOCK, as a ring):
// a login into a full table pops the oldest entry; if a use set its
// reference bit since it was last popped, it is cleared and the entry
// goes to the back; otherwise it is the victim. So a session used since
// the clock last passed it outlives every idle one, and eviction costs
// O(1) per login amortized (a pass clears each bit once).
//
// Entries that ended otherwise (Delete, the sweep) stay in the ring until
// the clock pops them or the ring, full, is compacted (dropping them
// instead of growing when they are a quarter of it or more), so the ring
// holds at most about twice the peak of live sessions.
type table struct {
	seed, checkSeed maphash.Seed
	count           atomic.Int64 // entries in the maps
	shards          [tableShards]tableShard

	mu      sync.Mutex // the clock: ring, head, n
	ring    []*entry   // ring[(head+i)%len(ring)] for i < n, oldest first
	head, n int
}

const tableShards = 64

type tableShard struct {
	mu sync.RWMutex
	m  map[uint64]*entry
	_  [32]byte // one cache line per shard
}

func (t *table) init() {
	t.seed, t.checkSeed = maphash.MakeSeed(), maphash.MakeSeed()
	for i := range t.shards {
		t.shards[i].m = make(map[uint64]*entry)
	}
}

// hash returns the two keyed hashes an entry of token holds.
func (t *table) hash(token string) (key, check uint64) {
	return maphash.String(t.seed, token), maphash.String(t.checkSeed, token)
}

func (t *table) shard(key uint64) *tableShard { return &t.shards[key%tableShards] }

// get returns token's entry, or nil.
func (t *table) get(token string) *entry {
	key := maphash.String(t.seed, token)
	s := t.shard(key)
	s.mu.RLock()
	e := s.m[key]
	s.mu.RUnlock()
	if e == nil || e.check != maphash.String(t.checkSeed, token) {
		return nil
	}
	return e
}

// put adds e to the maps and returns the entry it replaced under the
// same key (the same token logged in again, or a 2^-64 chance), if any.
// The caller holds t.mu and pushes e on the clock.
func (t *table) put(e *entry) (replaced *entry) {
	s := t.shard(e.key)
	s.mu.Lock()
	replaced = s.m[e.key]
	s.m[e.key] = e
	s.mu.Unlock()
	if replaced == nil {
		t.count.Add(1)
	}
	return replaced
}

// remove takes e out of the maps, if there still.
func (t *table) remove(e *entry) {
	s := t.shard(e.key)
	s.mu.Lock()
	if s.m[e.key] == e {
		delete(s.m, e.key)
		t.count.Add(-1)
	}
	s.mu.Unlock()
}

// snapshot appends the entries of shard i to buf.
func (t *table) snapshot(i int, buf []*entry) []*entry {
	s := &t.shards[i]
	s.mu.RLock()
	for _, e := range s.m {
		buf = append(buf, e)
	}
	s.mu.RUnlock()
	return buf
}

// push puts e at the back of the clock. t.mu is held.
func (t *table) push(e *entry) {
	if t.n == len(t.ring) {
		t.regrow()
	}
	t.ring[(t.head+t.n)%len(t.ring)] = e
	t.n++
}

// pop takes the oldest entry off the clock (nil when empty). t.mu is held.
func (t *table) pop() *entry {
	if t.n == 0 {
		return nil
	}
	e := t.ring[t.head]
	t.ring[t.head] = nil
	t.head = (t.head + 1) % len(t.ring)
	t.n--
	return e
}

// regrow makes room in a full ring: a ring of the same size without the
// dead entries if they are a quarter of it or more, else one twice the
// size. The order stays. t.mu is held.
func (t *table) regrow() {
	dead := 0
	for i := 0; i < t.n; i++ {
		if t.ring[(t.head+i)%len(t.ring)].dead() {
			dead++
		}
	}
	size := len(t.ring)
	if dead < t.n/4 || size == 0 {
		size = max(2*size, 64)
	}
	ring := make([]*entry, size)
	j := 0
	for i := 0; i < t.n; i++ {
		if e := t.ring[(t.head+i)%len(t.ring)]; !e.dead() {
			ring[j] = e
			j++
		}
	}
	t.ring, t.head, t.n = ring, 0, j
}
