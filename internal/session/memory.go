package session

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// Memory is a Store in this process's memory: a ristretto cache of
// sessions by token, bounded to maxSessions entries (cost 1 each) with
// per-entry TTLs, and a keyring of each user's session_keys (as many
// users at most).
//
// When full, ristretto's admission policy decides between a new entry and
// the ones it would evict; a refused new session is reported as ErrFull,
// and an evicted one simply reads as ErrNotFound.
type Memory struct {
	sessions *ristretto.Cache[string, packed]
	keys     *keyring
	// mu orders Update, which reads before it writes, against Delete, so
	// that a logout is never undone.
	mu sync.Mutex
	// live counts the sessions held: created, less deleted, evicted and
	// expired (as ristretto's cleanup finds them, every few seconds).
	live atomic.Int64
}

// packed is a Session in one string, "openid\x00unionid\x00phone\x00cc":
// one allocation and a 16-byte header instead of four, since memory per
// session is what bounds how many users one Caddy holds. Get slices it
// back without allocating.
type packed string

func pack(s Session) packed {
	return packed(s.OpenID + "\x00" + s.UnionID + "\x00" + s.Phone + "\x00" + s.PhoneCountry)
}

func (p packed) unpack() Session {
	var s Session
	rest := string(p)
	s.OpenID, rest, _ = strings.Cut(rest, "\x00")
	s.UnionID, rest, _ = strings.Cut(rest, "\x00")
	s.Phone, s.PhoneCountry, _ = strings.Cut(rest, "\x00")
	return s
}

// NewMemory returns a Memory store for at most maxSessions sessions
// (DefaultMaxSessions if maxSessions <= 0).
func NewMemory(maxSessions int64) (*Memory, error) {
	if maxSessions <= 0 {
		maxSessions = DefaultMaxSessions
	}
	m := &Memory{}
	sessions, err := ristretto.NewCache(&ristretto.Config[string, packed]{
		NumCounters:        4 * maxSessions, // see the README: 4-bit counters for admission when full
		MaxCost:            maxSessions,
		BufferItems:        64,
		IgnoreInternalCost: true,
		OnEvict:            func(*ristretto.Item[packed]) { m.live.Add(-1) },
	})
	if err != nil {
		return nil, err
	}
	keys := newKeyring(maxSessions, time.Minute)
	m.sessions, m.keys = sessions, keys
	return m, nil
}

// Create implements Store.
func (m *Memory) Create(_ context.Context, token string, s Session, ttl time.Duration) error {
	if !m.sessions.SetWithTTL(token, pack(s), 1, ttl) {
		return ErrFull
	}
	// ristretto applies new entries asynchronously; the token must work
	// as soon as the client has it.
	m.sessions.Wait()
	if _, ok := m.sessions.Get(token); !ok {
		return ErrFull
	}
	m.live.Add(1)
	return nil
}

// Len returns how many sessions the store holds.
func (m *Memory) Len() int64 { return max(m.live.Load(), 0) }

// Get implements Store.
func (m *Memory) Get(_ context.Context, token string) (Session, error) {
	p, ok := m.sessions.Get(token)
	if !ok {
		return Session{}, ErrNotFound
	}
	s := p.unpack()
	return s, nil
}

// Update implements Store.
func (m *Memory) Update(_ context.Context, token string, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ttl, ok := m.sessions.GetTTL(token)
	if !ok || ttl <= 0 {
		return ErrNotFound
	}
	// The key exists, so ristretto updates it in place, synchronously,
	// and the expiry stays where it was (to the second).
	m.sessions.SetWithTTL(token, pack(s), 1, ttl)
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions.Get(token); ok {
		m.live.Add(-1)
	}
	m.sessions.Del(token) // immediate in ristretto
	return nil
}

// PutUserKey implements Store.
func (m *Memory) PutUserKey(_ context.Context, openID, key string, ttl time.Duration) error {
	var raw [16]byte
	if n, err := base64.StdEncoding.Decode(raw[:], []byte(key)); err != nil || n != 16 {
		return errors.New("session_key is not base64 of 16 bytes")
	}
	m.keys.put(openID, raw, ttl)
	return nil
}

// UserKeys implements Store.
func (m *Memory) UserKeys(_ context.Context, openID string) (string, string, error) {
	k, ok := m.keys.get(openID)
	if !ok {
		return "", "", ErrNotFound
	}
	newest := base64.StdEncoding.EncodeToString(k.newest[:])
	if !k.hasPrevious {
		return newest, "", nil
	}
	return newest, base64.StdEncoding.EncodeToString(k.previous[:]), nil
}

// Close implements Store.
func (m *Memory) Close() error {
	m.sessions.Close()
	m.keys.close()
	return nil
}
