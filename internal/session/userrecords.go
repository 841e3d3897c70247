package session

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// userRecords holds the Memory store's user records: each user's newest and
// previous session_key, the generation and count of their live sessions,
// and the phone they bound. A record is 48 bytes in plain sharded maps
// keyed by a seeded 64-bit hash of the openid (far leaner than a cache
// entry); a second, independent 32-bit hash tells apart two openids that
// share the first (odds about n²/2^65): the newcomer takes the slot over,
// and the sessions of the other end, so no user ever sees another's phone.
//
// Generations make RevokeUser O(1): every session carries the generation
// of its user at login, and is live only while the record holds that
// generation. Generations come from one store-wide counter, so a record
// created again (after a sweep, an eviction or a forgetting RevokeUser)
// never gives an older session life back.
//
// The live count of a record is the number of its sessions of the current
// generation that have not ended; their sum is the store's Len. A session
// is counted in by Login and out exactly once, by whoever sets its dead
// bit, always under the record's shard lock (so that a count never races
// a RevokeUser).
type userRecords struct {
	seed, checkSeed maphash.Seed
	epoch           time.Time    // the store's clock: time.Since(epoch) + skew
	skew            atomic.Int64 // moves the clock on, in tests
	limit           atomic.Int64 // records per shard
	phoneTTL        atomic.Int64 // Limits.PhoneTTL
	live            atomic.Int64 // live sessions, all users
	gens            atomic.Uint32
	ended           atomic.Uint64 // how often sessions ended by generation: revocations and dropped records
	shards          [userRecordShards]userShard
	stop            chan struct{}
	done            chan struct{}
}

const userRecordShards = 64

type userShard struct {
	mu     sync.Mutex
	users  map[uint64]userRecord
	phones map[uint64]phoneRecord // users with flagPhone
}

type userRecord struct {
	newest, previous sessionKey
	// expires is when the record may go (a login pushes it to the login's
	// absolute expiry), in seconds since the epoch, rounded up; a bound
	// phone younger than the PhoneTTL keeps it longer.
	expires uint32
	gen     uint32 // generation of the live sessions
	check   uint32 // the second hash of the openid
	bits    uint32 // flags (high 8 bits), live sessions (low 24, saturating)
}

const (
	flagKey      = 1 << 31 // newest is set
	flagPrevious = 1 << 30 // previous is set
	flagPhone    = 1 << 29 // phones holds the user's phone
	liveMask     = 1<<24 - 1
)

func (r *userRecord) live() int { return int(r.bits & liveMask) }

func (r *userRecord) addLive(d int) {
	n := min(max(r.live()+d, 0), liveMask)
	r.bits = r.bits&^liveMask | uint32(n)
}

type phoneRecord struct {
	phone, country string
	bound          time.Duration // since the epoch
}

func newUserRecords(maxSessions int64, phoneTTL, sweep time.Duration) *userRecords {
	k := &userRecords{
		seed:      maphash.MakeSeed(),
		checkSeed: maphash.MakeSeed(),
		epoch:     time.Now(),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	k.setLimit(maxSessions)
	k.phoneTTL.Store(int64(phoneTTL))
	for i := range k.shards {
		k.shards[i].users = make(map[uint64]userRecord)
		k.shards[i].phones = make(map[uint64]phoneRecord)
	}
	go every(sweep, k.stop, k.done, k.sweepAll)
	return k
}

// setLimit sizes the shards for maxSessions users, with room for the
// unevenness of hashing (four standard deviations).
func (k *userRecords) setLimit(maxSessions int64) {
	mean := float64(maxSessions) / userRecordShards
	k.limit.Store(int64(mean+4*math.Sqrt(mean)) + 16)
}

// now returns the store's clock (monotonic).
func (k *userRecords) now() time.Duration { return time.Since(k.epoch) + time.Duration(k.skew.Load()) }

func secondsUp(d time.Duration) uint32 {
	return uint32(min((d+time.Second-1)/time.Second, math.MaxUint32))
}

func (k *userRecords) shard(openID string) (*userShard, uint64) {
	h := maphash.String(k.seed, openID)
	return &k.shards[h%userRecordShards], h
}

func (k *userRecords) checkOf(openID string) uint32 {
	return uint32(maphash.String(k.checkSeed, openID))
}

// newGen returns a generation never handed out before (until 2^32 have).
func (k *userRecords) newGen() uint32 {
	for {
		if g := k.gens.Add(1); g != 0 {
			return g
		}
	}
}

// login records a login of openID with key at now, for a session that
// lives until absExp: the key rotates in, the session is counted in the
// user's generation (returned), and the phone the user has bound, if any,
// is returned, with how many live sessions of other users ended to make
// room for the user's record (almost never: see makeRoom).
func (k *userRecords) login(openID string, key sessionKey, now, absExp time.Duration) (gen uint32, phone, country string, ended int) {
	s, h := k.shard(openID)
	check := k.checkOf(openID)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.users[h]
	if ok && r.check != check {
		k.drop(s, h, r) // another openid with the same hash: it gives way
		ok = false
	}
	if !ok {
		if int64(len(s.users)) >= k.limit.Load() {
			ended = k.makeRoom(s, now)
		}
		r = userRecord{gen: k.newGen(), check: check}
	}
	if r.expires < secondsUp(now) {
		r.bits &^= flagKey | flagPrevious // the keys expired with the record
	}
	switch {
	case key.n == 0:
		// a platform without session keys (Alipay): nothing to keep
	case r.bits&flagKey == 0:
		r.newest = key
		r.bits |= flagKey
	case r.newest != key:
		// an unchanged key handed out again moves nothing
		r.previous, r.newest = r.newest, key
		r.bits |= flagPrevious
	}
	r.expires = max(r.expires, secondsUp(absExp))
	r.addLive(1)
	k.live.Add(1)
	phone, country = k.phoneOf(s, h, &r, now)
	s.users[h] = r
	return r.gen, phone, country, ended
}

// phoneOf returns the user's phone, if bound within the PhoneTTL, and
// forgets it otherwise. s is locked.
func (k *userRecords) phoneOf(s *userShard, h uint64, r *userRecord, now time.Duration) (string, string) {
	if r.bits&flagPhone == 0 {
		return "", ""
	}
	p := s.phones[h]
	if now-p.bound >= time.Duration(k.phoneTTL.Load()) {
		return "", ""
	}
	return p.phone, p.country
}

// end ends e: it sets its dead bit and, if this call set it and e is of
// its user's current generation, counts it out. It reports whether it
// counted a live session out.
func (k *userRecords) end(e *entry) bool {
	s, h := k.shard(e.openID())
	s.mu.Lock()
	defer s.mu.Unlock()
	if !e.markDead() {
		return false
	}
	if r, ok := s.users[h]; ok && r.gen == e.gen && r.live() > 0 {
		r.addLive(-1)
		s.users[h] = r
		k.live.Add(-1)
		return true
	}
	return false
}

// current tells whether e is of its user's current generation.
func (k *userRecords) current(e *entry) bool {
	s, h := k.shard(e.openID())
	s.mu.Lock()
	r, ok := s.users[h]
	s.mu.Unlock()
	return ok && r.gen == e.gen
}

// lookup tells whether e belongs to its user's current generation (its
// record is there and was not revoked since), and returns the phone the
// user has bound.
func (k *userRecords) lookup(e *entry) (phone, country string, ok bool) {
	s, h := k.shard(e.openID())
	s.mu.Lock()
	r, found := s.users[h]
	if !found || r.gen != e.gen {
		s.mu.Unlock()
		return "", "", false
	}
	if r.bits&flagPhone != 0 {
		phone, country = k.phoneOf(s, h, &r, k.now())
	}
	s.mu.Unlock()
	return phone, country, true
}

// bindPhone binds a phone to the user of e, if e is live and of the
// current generation.
func (k *userRecords) bindPhone(e *entry, phone, country string, now time.Duration) bool {
	s, h := k.shard(e.openID())
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.users[h]
	if !ok || r.gen != e.gen || e.dead() {
		return false
	}
	s.phones[h] = phoneRecord{phone: phone, country: country, bound: now}
	r.bits |= flagPhone
	s.users[h] = r
	return true
}

// revoke ends every session of openID and returns how many were live;
// with forget it forgets the user's record altogether.
func (k *userRecords) revoke(openID string, forget bool) int {
	s, h := k.shard(openID)
	check := k.checkOf(openID)
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.users[h]
	if !ok || r.check != check {
		return 0
	}
	n := r.live()
	if forget {
		k.drop(s, h, r)
		return n
	}
	k.live.Add(-int64(n))
	k.ended.Add(1)
	r.addLive(-n)
	r.gen = k.newGen()
	s.users[h] = r
	return n
}

// keys returns the user's session_keys; ok is false without any.
func (k *userRecords) keys(openID string) (newest, previous sessionKey, hasPrevious, ok bool) {
	s, h := k.shard(openID)
	check := k.checkOf(openID)
	now := secondsUp(k.now())
	s.mu.Lock()
	r, found := s.users[h]
	s.mu.Unlock()
	if !found || r.check != check || r.bits&flagKey == 0 || r.expires < now {
		return newest, previous, false, false
	}
	return r.newest, r.previous, r.bits&flagPrevious != 0, true
}

// drop removes a record, and the live sessions it counted. s is locked.
func (k *userRecords) drop(s *userShard, h uint64, r userRecord) {
	k.live.Add(-int64(r.live()))
	k.ended.Add(1)
	delete(s.users, h)
	delete(s.phones, h)
}

// sweep drops the records that have expired and hold no phone still
// bound, and forgets the phones bound too long ago; it returns how many
// records it dropped. s is locked.
func (k *userRecords) sweep(s *userShard, now time.Duration) int {
	n := 0
	sec := secondsUp(now)
	phoneTTL := time.Duration(k.phoneTTL.Load())
	for h, r := range s.users {
		if r.bits&flagPhone != 0 && now-s.phones[h].bound >= phoneTTL {
			delete(s.phones, h)
			r.bits &^= flagPhone
			s.users[h] = r
		}
		if r.expires < sec && r.bits&flagPhone == 0 {
			k.drop(s, h, r)
			n++
		}
	}
	return n
}

// makeRoom frees records in a full shard, a batch at a time so that the
// scans stay rare: the expired first, then those without a live session
// nor a phone, then those without a live session, and only as a last
// resort (the store holds more users with live sessions than it was
// sized for) any. It returns how many live sessions the last resort
// ended. s is locked.
func (k *userRecords) makeRoom(s *userShard, now time.Duration) (ended int) {
	batch := max(len(s.users)/32, 1)
	freed := k.sweep(s, now)
	for pass := 0; pass < 3 && freed < batch; pass++ {
		for h, r := range s.users {
			if freed >= batch {
				break
			}
			if pass < 2 && r.live() > 0 || pass < 1 && r.bits&flagPhone != 0 {
				continue
			}
			ended += r.live()
			k.drop(s, h, r)
			freed++
		}
	}
	return ended
}

// sweepAll sweeps every shard, one at a time.
func (k *userRecords) sweepAll() {
	for i := range k.shards {
		s := &k.shards[i]
		s.mu.Lock()
		k.sweep(s, k.now())
		s.mu.Unlock()
	}
}

func (k *userRecords) close() {
	close(k.stop)
	<-k.done
}
