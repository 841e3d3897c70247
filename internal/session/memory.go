package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is a Store in this process's memory: a table of sessions by a
// keyed hash of their token, bounded to MaxSessions entries exactly, and
// userRecords, the user records (session_keys, phone, generation and count of
// live sessions; as many users at most).
//
// A full store never refuses a login: it makes room by ending the session
// used least recently (as the table's eviction clock approximates it: a
// session used since the clock last passed it outlives every idle one),
// and counts it (Evicted, SetOnEvict). An ended session reads as
// ErrNotFound.
//
// Expiry is computed, not scheduled: a session lives until its absolute
// expiry and, with an IdleTimeout, until IdleTimeout after its last
// renewal; a Get at least IdleTimeout/4 after the last renewal renews it
// in place (one compare-and-swap decides which Get writes, so a busy
// session costs one write per IdleTimeout/4). A Get that meets an ended
// session removes it; a sweep every sessionSweep removes the rest. Len
// and RevokeUser see a session that expired unused as live until then.
//
// RevokeUser moves the user to a new generation: the sessions of older
// generations read as ErrNotFound at once and leave the table when a Get,
// the sweep or the eviction clock meets them.
type Memory struct {
	sessions table
	users    *userRecords

	maxSessions atomic.Int64
	sessionTTL  atomic.Int64
	idle        atomic.Int64
	evicted     atomic.Int64
	swept       atomic.Uint64 // userRecords.ended when the last sweep began
	onEvict     atomic.Pointer[func(int)]

	limitsMu sync.Mutex
	limits   Limits
	close    sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// sessionSweep is how often the sweep removes the sessions that ended
// unused (expired, idle too long, revoked).
const sessionSweep = 30 * time.Second

// NewMemory returns a Memory store with the limits l (defaults for the
// unset ones).
func NewMemory(l Limits) (*Memory, error) {
	l = l.WithDefaults()
	m := &Memory{
		users: newUserRecords(l.MaxSessions, l.PhoneTTL, time.Minute),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	m.sessions.init()
	m.limits = l
	m.maxSessions.Store(l.MaxSessions)
	m.sessionTTL.Store(int64(l.SessionTTL))
	m.idle.Store(int64(l.IdleTimeout))
	go every(sessionSweep, m.stop, m.done, func() { m.sweep() })
	return m, nil
}

// SetLimits implements Store: live sessions stay. A smaller MaxSessions
// evicts as new sessions come (up to two per login, till it fits), a
// larger one makes room at once; a new SessionTTL applies to new
// sessions, a new IdleTimeout to every session at its next use, a new
// PhoneTTL to every bound phone.
func (m *Memory) SetLimits(l Limits) {
	l = l.WithDefaults()
	m.limitsMu.Lock()
	defer m.limitsMu.Unlock()
	if l.MaxSessions != m.limits.MaxSessions {
		m.maxSessions.Store(l.MaxSessions)
		m.users.setLimit(l.MaxSessions)
	}
	m.sessionTTL.Store(int64(l.SessionTTL))
	m.idle.Store(int64(l.IdleTimeout))
	m.users.phoneTTL.Store(int64(l.PhoneTTL))
	m.limits = l
}

// SetOnEvict sets what a login calls after ending n live sessions to make
// room for its own (nil: nothing). It runs on the login's goroutine, after
// the store's locks are released, so it may log and count; it must not
// block.
func (m *Memory) SetOnEvict(f func(n int)) {
	if f == nil {
		m.onEvict.Store(nil)
		return
	}
	m.onEvict.Store(&f)
}

// Evicted returns how many live sessions the store has ended to make
// room, since it was made.
func (m *Memory) Evicted() int64 { return m.evicted.Load() }

// NewToken implements Store.
func (m *Memory) NewToken(string) string { return randomToken() }

// randomToken returns TokenBytes from crypto/rand, base64url.
func randomToken() string {
	var raw [TokenBytes]byte
	_, _ = rand.Read(raw[:]) // never fails (it crashes the program first)
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

var (
	errSessionKey = errors.New("session: session_key is neither empty nor base64 of 16 or 24 bytes")
	errOpenID     = errors.New("session: openid is empty or longer than 65535 bytes")
	errUnionID    = errors.New("session: unionid is longer than 65535 bytes")
)

// sessionKey is a session_key as the Memory store keeps it: 16 bytes
// (WeChat, QQ, Douyin, Kuaishou: AES-128) or 24 (Baidu: AES-192); n is 0
// for none (Alipay has no session key).
type sessionKey struct {
	b [maxKeyBytes]byte
	n uint8
}

const maxKeyBytes = 24

// String is the key as the platform sent it: base64 ("" for none).
func (k sessionKey) String() string {
	return base64.StdEncoding.EncodeToString(k.b[:k.n])
}

// parseSessionKey decodes a session_key as the platform sends it: "" (no
// key), or base64 of 16 or 24 bytes.
func parseSessionKey(key string) (sessionKey, error) {
	var k sessionKey
	if key == "" {
		return k, nil
	}
	if base64.StdEncoding.DecodedLen(len(key)) > maxKeyBytes+2 {
		return k, errSessionKey
	}
	var buf [maxKeyBytes + 2]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(key))
	if err != nil || (n != 16 && n != 24) {
		return k, errSessionKey
	}
	copy(k.b[:], buf[:n])
	k.n = uint8(n)
	return k, nil
}

// Login implements Store. It never fails for lack of room.
func (m *Memory) Login(_ context.Context, token string, s Session, sessionKey string) (Session, error) {
	key, err := parseSessionKey(sessionKey)
	if err != nil {
		return Session{}, err
	}
	if s.OpenID == "" || len(s.OpenID) > maxIDLen {
		return Session{}, errOpenID
	}
	if len(s.UnionID) > maxIDLen {
		return Session{}, errUnionID
	}
	ttl := time.Duration(m.sessionTTL.Load())
	now := m.users.now()
	gen, phone, country, dropped := m.users.login(s.OpenID, key, now, now+ttl)
	h, check := m.sessions.hash(token)
	e := newEntry(h, check, s.OpenID, s.UnionID, gen, now, now+ttl)
	if n := m.insert(e, now) + dropped; n > 0 {
		m.evicted.Add(int64(n))
		if f := m.onEvict.Load(); f != nil {
			(*f)(n)
		}
	}
	s.Phone, s.PhoneCountry = phone, country
	return s, nil
}

// insert puts e in the table, first making room, and returns how many
// live sessions it evicted.
func (m *Memory) insert(e *entry, now time.Duration) int {
	t := &m.sessions
	t.mu.Lock()
	evicted := m.makeRoom(now)
	replaced := t.put(e)
	t.push(e)
	t.mu.Unlock()
	if replaced != nil {
		m.users.end(replaced) // out of the maps already; the clock drops it
	}
	return evicted
}

// makeRoom ends sessions while the table holds MaxSessions or more, two
// at most (so that a smaller MaxSessions takes effect over the next
// logins, not in one): the oldest of the clock's entries that no use
// referenced since the clock last passed it. Sessions that ended anyway
// (expired, idle too long, revoked) go first and are no evictions. It
// returns how many live sessions it evicted. t.mu is held.
func (m *Memory) makeRoom(now time.Duration) (evicted int) {
	t := &m.sessions
	limit := m.maxSessions.Load()
	idle := time.Duration(m.idle.Load())
	// A pass clears every reference bit; uses racing the clock could
	// set them again, so after two passes the oldest goes regardless.
	steps := 2*t.n + 2
	for ended := 0; t.count.Load() >= limit && ended < 2; steps-- {
		e := t.pop()
		switch {
		case e == nil:
			return evicted
		case e.dead():
			t.remove(e) // ended and removed, or about to be
			continue
		case m.ended(e, now, idle):
			m.endEntry(e)
		case steps > 0 && e.takeRef():
			t.push(e) // used: a second chance
			continue
		case m.endEntry(e):
			evicted++
		}
		ended++
	}
	return evicted
}

// ended tells whether e is past its absolute expiry or idle timeout, or
// revoked.
func (m *Memory) ended(e *entry, now, idle time.Duration) bool {
	return expired(e, now, idle) || !m.users.current(e)
}

// expired tells whether e is past its absolute expiry or idle timeout.
func expired(e *entry, now, idle time.Duration) bool {
	return now >= e.absExpiry() || idle > 0 && now-lastRenewal(e.state.Load()) > idle
}

// endEntry ends e and takes it out of the table; it reports whether it
// counted out a live session.
func (m *Memory) endEntry(e *entry) bool {
	live := m.users.end(e)
	m.sessions.remove(e)
	return live
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, token string) (Session, error) {
	e := m.sessions.get(token)
	if e == nil || !m.fresh(e, true) {
		return Session{}, ErrNotFound
	}
	phone, country, ok := m.users.lookup(e)
	if !ok {
		m.endEntry(e) // revoked (it was counted out then)
		return Session{}, ErrNotFound
	}
	return Session{OpenID: e.openID(), UnionID: e.unionID(), Phone: phone, PhoneCountry: country,
		ExpiresIn: m.expiresIn(e)}, nil
}

// expiresIn is what e has left: until its absolute expiry or, with an
// idle timeout, its idle expiry from its last renewal, the earlier.
func (m *Memory) expiresIn(e *entry) time.Duration {
	now := m.users.now()
	end := e.absExpiry()
	if idle := time.Duration(m.idle.Load()); idle > 0 {
		end = min(end, lastRenewal(e.state.Load())+idle)
	}
	return max(end-now, 0)
}

// fresh tells whether e has not ended (ending it if it has expired or
// been idle too long), and marks it used for the eviction clock; with
// renew, it renews e's idle expiry when due.
func (m *Memory) fresh(e *entry, renew bool) bool {
	st := e.state.Load()
	if st&stateDead != 0 {
		return false
	}
	if st&stateRef == 0 {
		st = e.state.Or(stateRef) | stateRef
	}
	now := m.users.now()
	if now >= e.absExpiry() {
		m.endEntry(e)
		return false
	}
	idle := time.Duration(m.idle.Load())
	if idle <= 0 {
		return true
	}
	since := now - lastRenewal(st)
	if since > idle {
		m.endEntry(e)
		return false
	}
	if renew && since >= idle/4 && !e.state.CompareAndSwap(st, renewedState(st, now)) {
		return !e.dead() // renewed by another Get meanwhile, or ended
	}
	return true
}

// BindPhone implements Store.
func (m *Memory) BindPhone(_ context.Context, token, openID, phone, country string) error {
	e := m.sessions.get(token)
	if e == nil || e.openID() != openID || !m.fresh(e, false) {
		return ErrNotFound
	}
	if !m.users.bindPhone(e, phone, country, m.users.now()) {
		return ErrNotFound
	}
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, token string) error {
	if e := m.sessions.get(token); e != nil {
		m.endEntry(e)
	}
	return nil
}

// RevokeUser implements Store.
func (m *Memory) RevokeUser(_ context.Context, openID string, forgetUser bool) (int, error) {
	return m.users.revoke(openID, forgetUser), nil
}

// UserKeys implements Store.
func (m *Memory) UserKeys(_ context.Context, openID string) (string, string, error) {
	newest, previous, hasPrevious, ok := m.users.keys(openID)
	if !ok {
		return "", "", ErrNotFound
	}
	if !hasPrevious {
		return newest.String(), "", nil
	}
	return newest.String(), previous.String(), nil
}

// Len implements Store.
func (m *Memory) Len() (int64, bool) { return max(m.users.live.Load(), 0), true }

// sweep removes the sessions that ended without a Get meeting them, a
// shard at a time (copied under its read lock, so lookups go on), and
// returns how many it removed. It looks up the users' generations only
// if some ended since the last sweep began (a revocation or a dropped
// record).
func (m *Memory) sweep() int {
	n := 0
	now := m.users.now()
	idle := time.Duration(m.idle.Load())
	changes := m.users.ended.Load()
	gens := changes != m.swept.Swap(changes)
	var buf []*entry
	for i := range m.sessions.shards {
		buf = m.sessions.snapshot(i, buf[:0])
		for _, e := range buf {
			if e.dead() || expired(e, now, idle) || gens && !m.users.current(e) {
				m.endEntry(e)
				n++
			}
		}
	}
	return n
}

// every runs f every period until stop is closed, then closes done.
// The Memory store's sweeps run on it (the sessions', the user records').
func every(period time.Duration, stop <-chan struct{}, done chan<- struct{}, f func()) {
	defer close(done)
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			f()
		}
	}
}

// Close implements Store.
func (m *Memory) Close() error {
	m.close.Do(func() {
		close(m.stop)
		<-m.done
		m.users.close()
	})
	return nil
}
