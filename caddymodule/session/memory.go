package session

import (
	"context"
	"sync"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// DefaultMaxSessions is how many sessions a Memory store holds when no
// bound is given.
const DefaultMaxSessions = 1_000_000

// Memory is a Store in this process's memory: two ristretto caches, one of
// sessions by token and one of session_keys by openid, each bounded to
// MaxSessions entries (cost 1 per entry) with per-entry TTLs.
//
// When full, ristretto's admission policy decides between a new entry and
// the ones it would evict; a refused new session is reported as ErrFull,
// and an evicted one simply reads as ErrNotFound.
type Memory struct {
	sessions *ristretto.Cache[string, Session]
	keys     *ristretto.Cache[string, userKeys]
	// mu orders the writes that read before they write (Update,
	// PutUserKey) against Delete, so that a logout is never undone.
	mu sync.Mutex
}

type userKeys struct{ newest, previous string }

// NewMemory returns a Memory store for at most maxSessions sessions
// (DefaultMaxSessions if maxSessions <= 0).
func NewMemory(maxSessions int64) (*Memory, error) {
	if maxSessions <= 0 {
		maxSessions = DefaultMaxSessions
	}
	sessions, err := ristretto.NewCache(&ristretto.Config[string, Session]{
		NumCounters:        10 * maxSessions, // ristretto's advice: 10x the item count
		MaxCost:            maxSessions,
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, err
	}
	keys, err := ristretto.NewCache(&ristretto.Config[string, userKeys]{
		NumCounters:        10 * maxSessions,
		MaxCost:            maxSessions,
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	if err != nil {
		sessions.Close()
		return nil, err
	}
	return &Memory{sessions: sessions, keys: keys}, nil
}

// Create implements Store.
func (m *Memory) Create(_ context.Context, token string, s Session, ttl time.Duration) error {
	s.Expires = time.Now().Add(ttl).Unix()
	if !m.sessions.SetWithTTL(token, s, 1, ttl) {
		return ErrFull
	}
	// ristretto applies new entries asynchronously; the token must work
	// as soon as the client has it.
	m.sessions.Wait()
	if _, ok := m.sessions.Get(token); !ok {
		return ErrFull
	}
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, token string) (Session, error) {
	s, ok := m.sessions.Get(token)
	if !ok {
		return Session{}, ErrNotFound
	}
	return s, nil
}

// Update implements Store.
func (m *Memory) Update(_ context.Context, token string, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.sessions.Get(token)
	if !ok {
		return ErrNotFound
	}
	s.Expires = cur.Expires
	ttl := time.Until(time.Unix(cur.Expires, 0))
	if ttl <= 0 {
		return ErrNotFound
	}
	// The key exists, so ristretto updates it in place, synchronously.
	m.sessions.SetWithTTL(token, s, 1, ttl)
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions.Del(token) // immediate in ristretto
	return nil
}

// PutUserKey implements Store.
func (m *Memory) PutUserKey(_ context.Context, openID, key string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, _ := m.keys.Get(openID)
	if cur.newest == key {
		return nil
	}
	if !m.keys.SetWithTTL(openID, userKeys{newest: key, previous: cur.newest}, 1, ttl) {
		return ErrFull
	}
	m.keys.Wait()
	return nil
}

// UserKeys implements Store.
func (m *Memory) UserKeys(_ context.Context, openID string) (string, string, error) {
	k, ok := m.keys.Get(openID)
	if !ok {
		return "", "", ErrNotFound
	}
	return k.newest, k.previous, nil
}

// Close implements Store.
func (m *Memory) Close() error {
	m.sessions.Close()
	m.keys.Close()
	return nil
}

var _ Store = (*Memory)(nil)
