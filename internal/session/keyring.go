package session

import (
	"hash/maphash"
	"sync"
	"time"
)

// keyring holds each user's newest and previous session_key for the
// Memory store: a record of 40 bytes per user in plain sharded maps keyed
// by a seeded 64-bit hash of the openid, far leaner than a cache entry.
// (Two openids with one hash, odds about n²/2^65, would share a record:
// one user's legacy phone data would then fail to decrypt, nothing worse:
// data sealed for one user never opens with another's key.)
type keyring struct {
	seed   maphash.Seed
	limit  int // records per shard
	shards [keyringShards]keyShard
	stop   chan struct{}
	done   chan struct{}
}

const keyringShards = 64

type keyShard struct {
	mu sync.Mutex
	m  map[uint64]keyRecord
}

type keyRecord struct {
	newest, previous [16]byte
	expires          uint32 // Unix seconds
	hasPrevious      bool
}

// newKeyring holds up to max records and sweeps expired ones every sweep.
func newKeyring(max int64, sweep time.Duration) *keyring {
	k := &keyring{
		seed:  maphash.MakeSeed(),
		limit: int(max/keyringShards) + 1,
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for i := range k.shards {
		k.shards[i].m = make(map[uint64]keyRecord)
	}
	go k.sweeper(sweep)
	return k
}

func (k *keyring) shard(openID string) (*keyShard, uint64) {
	h := maphash.String(k.seed, openID)
	return &k.shards[h%keyringShards], h
}

// put makes key the user's newest, the newest before it the previous.
func (k *keyring) put(openID string, key [16]byte, ttl time.Duration) {
	s, h := k.shard(openID)
	now := time.Now()
	exp := uint32(now.Add(ttl).Unix())
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, found := s.m[h]
	if found && cur.expires <= uint32(now.Unix()) {
		found = false
	}
	if found && cur.newest == key {
		cur.expires = exp
		s.m[h] = cur
		return
	}
	if !found && len(s.m) >= k.limit {
		s.evictOne(now)
	}
	s.m[h] = keyRecord{newest: key, previous: cur.newest, hasPrevious: found, expires: exp}
}

// get returns the user's record, if live.
func (k *keyring) get(openID string) (keyRecord, bool) {
	s, h := k.shard(openID)
	s.mu.Lock()
	r, ok := s.m[h]
	s.mu.Unlock()
	if !ok || r.expires <= uint32(time.Now().Unix()) {
		return keyRecord{}, false
	}
	return r, true
}

// evictOne makes room in a full shard: expired records first, else the
// first one map order gives (users are rarely evicted: the bound is the
// store's session bound).
func (s *keyShard) evictOne(now time.Time) {
	if s.sweep(now) > 0 {
		return
	}
	for h := range s.m {
		delete(s.m, h)
		return
	}
}

// sweep deletes the expired records; it returns how many.
func (s *keyShard) sweep(now time.Time) int {
	n := 0
	t := uint32(now.Unix())
	for h, r := range s.m {
		if r.expires <= t {
			delete(s.m, h)
			n++
		}
	}
	return n
}

func (k *keyring) sweeper(every time.Duration) {
	defer close(k.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-k.stop:
			return
		case now := <-tick.C:
			for i := range k.shards {
				s := &k.shards[i]
				s.mu.Lock()
				s.sweep(now)
				s.mu.Unlock()
			}
		}
	}
}

func (k *keyring) close() {
	close(k.stop)
	<-k.done
}
