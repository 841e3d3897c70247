package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// Memory is a Store in this process's memory: a ristretto cache of
// sessions by token, bounded to MaxSessions entries (cost 1 each) with
// per-entry TTLs, and userRecords (the user records: session_keys, phone,
// generation and count of live sessions; as many users at most).
//
// When full, ristretto's admission policy decides between a new entry and
// the ones it would evict; a refused new session is reported as ErrFull,
// and an evicted one simply reads as ErrNotFound.
//
// With an IdleTimeout, a session's TTL in the cache is the idle timeout
// (capped by its absolute expiry), and a Get at least IdleTimeout/4 after
// the last renewal renews it in place: one compare-and-swap decides which
// Get writes, so a busy session costs one cache write per IdleTimeout/4.
//
// RevokeUser moves the user to a new generation: the sessions of older
// generations read as ErrNotFound at once and leave the cache when a Get
// meets them, or when they expire or are evicted. Len and RevokeUser see
// a session that expired as live until ristretto's cleanup removes it
// (every few seconds).
type Memory struct {
	sessions *ristretto.Cache[string, *entry]
	users    *userRecords

	sessionTTL atomic.Int64
	idle       atomic.Int64

	limitsMu sync.Mutex
	limits   Limits
	close    sync.Once
}

// NewMemory returns a Memory store with the limits l (defaults for the
// unset ones).
func NewMemory(l Limits) (*Memory, error) {
	l = l.WithDefaults()
	m := &Memory{users: newUserRecords(l.MaxSessions, l.PhoneTTL, time.Minute)}
	sessions, err := ristretto.NewCache(&ristretto.Config[string, *entry]{
		NumCounters:        4 * l.MaxSessions, // see the README: 4-bit counters for admission when full
		MaxCost:            l.MaxSessions,
		BufferItems:        64,
		IgnoreInternalCost: true,
		OnEvict: func(it *ristretto.Item[*entry]) {
			if it.Value != nil { // nil: the entry had left already
				m.users.end(it.Value)
			}
		},
	})
	if err != nil {
		m.users.close()
		return nil, err
	}
	m.sessions = sessions
	m.limits = l
	m.sessionTTL.Store(int64(l.SessionTTL))
	m.idle.Store(int64(l.IdleTimeout))
	return m, nil
}

// SetLimits implements Store: live sessions stay. MaxSessions resizes
// the cache in place (shrinking it evicts only as new sessions come; the
// admission counters stay sized for the first MaxSessions), a new
// SessionTTL applies to new sessions, a new IdleTimeout to every session
// at its next use, a new PhoneTTL to every bound phone.
func (m *Memory) SetLimits(l Limits) {
	l = l.WithDefaults()
	m.limitsMu.Lock()
	defer m.limitsMu.Unlock()
	if l.MaxSessions != m.limits.MaxSessions {
		m.sessions.UpdateMaxCost(l.MaxSessions)
		m.users.setLimit(l.MaxSessions)
	}
	m.sessionTTL.Store(int64(l.SessionTTL))
	m.idle.Store(int64(l.IdleTimeout))
	m.users.phoneTTL.Store(int64(l.PhoneTTL))
	m.limits = l
}

// NewToken implements Store.
func (m *Memory) NewToken(string) string { return randomToken() }

// randomToken returns TokenBytes from crypto/rand, base64url.
func randomToken() string {
	var raw [TokenBytes]byte
	_, _ = rand.Read(raw[:]) // never fails (it crashes the program first)
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

var (
	errSessionKey = errors.New("session: session_key is not base64 of 16 bytes")
	errOpenID     = errors.New("session: openid is empty or longer than 65535 bytes")
	errUnionID    = errors.New("session: unionid is longer than 65535 bytes")
)

// parseSessionKey decodes a session_key as WeChat sends it.
func parseSessionKey(key string) ([16]byte, error) {
	var raw [16]byte
	if base64.StdEncoding.DecodedLen(len(key)) > 18 {
		return raw, errSessionKey
	}
	var buf [18]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(key))
	if err != nil || n != 16 {
		return raw, errSessionKey
	}
	copy(raw[:], buf[:16])
	return raw, nil
}

// Login implements Store.
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
	idle := time.Duration(m.idle.Load())
	now := m.users.now()
	gen, phone, country := m.users.login(s.OpenID, key, now, now+ttl)
	capped := idle > 0 && idle < ttl
	e := newEntry(s.OpenID, s.UnionID, gen, now, now+ttl, capped)
	first := ttl
	if capped {
		first = idle
	}
	if !m.sessions.SetWithTTL(token, e, 1, first) {
		m.users.end(e)
		return Session{}, ErrFull
	}
	// ristretto applies new entries asynchronously; the token must work
	// as soon as the client has it.
	m.sessions.Wait()
	if got, ok := m.sessions.Get(token); !ok || got != e {
		m.users.end(e) // refused by the admission policy
		return Session{}, ErrFull
	}
	s.Phone, s.PhoneCountry = phone, country
	return s, nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, token string) (Session, error) {
	e, ok := m.sessions.Get(token)
	if !ok {
		return Session{}, ErrNotFound
	}
	if !m.fresh(token, e, true) {
		return Session{}, ErrNotFound
	}
	phone, country, ok := m.users.lookup(e)
	if !ok {
		// revoked: out of the cache with it (it was counted out then)
		m.sessions.Del(token)
		return Session{}, ErrNotFound
	}
	return Session{OpenID: e.openID(), UnionID: e.unionID(), Phone: phone, PhoneCountry: country}, nil
}

// fresh tells whether e (token's entry) has neither ended nor been idle
// too long; with renew, it renews e when due.
func (m *Memory) fresh(token string, e *entry, renew bool) bool {
	st := e.state.Load()
	if st&stateDead != 0 {
		return false
	}
	idle := time.Duration(m.idle.Load())
	if idle <= 0 && st&stateCapped == 0 {
		return true // the hot path without an idle timeout: no clock read
	}
	now := m.users.now()
	if idle > 0 && now-lastRenewal(st) > idle {
		// idle too long, though the cache has it still (it may have
		// been put there under a longer IdleTimeout)
		m.end(token, e)
		return false
	}
	rest := e.absExpiry() - now
	if rest <= 0 {
		return false // past its absolute expiry: the cache drops it soon
	}
	if !renew || idle > 0 && now-lastRenewal(st) < idle/4 {
		return true
	}
	// due: renew (or, the idle timeout now off, give it back its
	// absolute expiry)
	ttl, capped := rest, false
	if idle > 0 && idle < rest {
		ttl, capped = idle, true
	}
	if !e.state.CompareAndSwap(st, renewedState(now, capped)) {
		return !e.dead() // renewed by another Get meanwhile, or ended
	}
	if st&stateCapped != 0 || capped {
		// Should the entry have left the cache since the Get (evicted
		// or expired), this puts it back; but it is dead then, so it
		// reads as ErrNotFound and is never counted out twice.
		m.sessions.SetWithTTL(token, e, 1, ttl)
	}
	return true
}

// end ends token's session e.
func (m *Memory) end(token string, e *entry) {
	m.users.end(e)
	m.sessions.Del(token)
}

// BindPhone implements Store.
func (m *Memory) BindPhone(_ context.Context, token, openID, phone, country string) error {
	e, ok := m.sessions.Get(token)
	if !ok || e.openID() != openID || !m.fresh(token, e, false) {
		return ErrNotFound
	}
	if !m.users.bindPhone(e, phone, country, m.users.now()) {
		return ErrNotFound
	}
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, token string) error {
	if e, ok := m.sessions.Get(token); ok {
		m.end(token, e)
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
		return base64.StdEncoding.EncodeToString(newest[:]), "", nil
	}
	return base64.StdEncoding.EncodeToString(newest[:]), base64.StdEncoding.EncodeToString(previous[:]), nil
}

// Len implements Store.
func (m *Memory) Len() (int64, bool) { return max(m.users.live.Load(), 0), true }

// Close implements Store.
func (m *Memory) Close() error {
	m.close.Do(func() {
		m.sessions.Close()
		m.users.close()
	})
	return nil
}
