package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// OnceStore keeps one-time records: values put under a key for a short
// time, each taken at most once. The browser login keeps its OAuth states
// and web-view handoff tickets in one, next to the app's sessions, so that
// every Caddy sharing a Redis honours a state or a ticket exactly once.
//
// Redis implements it; a Memory store does not (its file stays as it is):
// use OnceFor, which answers a Redis store itself and a MemoryOnce for
// any other store.
type OnceStore interface {
	// PutOnce stores value under (kind, key) for ttl. A key that is
	// already there (live) is refused, not replaced.
	PutOnce(ctx context.Context, kind, key string, value []byte, ttl time.Duration) error
	// TakeOnce returns the value under (kind, key) and removes it, in
	// one atomic step: of two concurrent takers (on any Caddy sharing the
	// store) one gets it, the other ErrNotFound. A key never put, taken
	// already or expired gives ErrNotFound.
	TakeOnce(ctx context.Context, kind, key string) ([]byte, error)
}

// OnceFor returns the OnceStore for the records of st's app: st itself
// when it is one (Redis), else a new MemoryOnce (DefaultMaxOnce records)
// that the caller keeps next to st for as long as st lives.
func OnceFor(st Store) OnceStore {
	if o, ok := st.(OnceStore); ok {
		return o
	}
	return NewMemoryOnce(DefaultMaxOnce, nil)
}

// Limits of one-time records.
const (
	// DefaultMaxOnce bounds the records of a MemoryOnce made by OnceFor.
	DefaultMaxOnce = 100_000
	// MaxOnceKeyLen and MaxOnceValueLen bound a key and a value.
	MaxOnceKeyLen   = 256
	MaxOnceValueLen = 16 << 10
)

// ErrOnceExists: PutOnce found a live record under the key.
var ErrOnceExists = errors.New("session: a one-time record is already under this key")

// checkOnce validates the arguments of PutOnce (value and ttl only when
// put is set) and TakeOnce.
func checkOnce(kind, key string, value []byte, ttl time.Duration, put bool) error {
	if kind == "" || len(kind) > 32 {
		return fmt.Errorf("session: one-time record kind %q: want 1 to 32 characters of [a-z0-9_]", kind)
	}
	for i := 0; i < len(kind); i++ {
		if c := kind[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Errorf("session: one-time record kind %q: want 1 to 32 characters of [a-z0-9_]", kind)
		}
	}
	if key == "" || len(key) > MaxOnceKeyLen {
		return fmt.Errorf("session: one-time record key of %d bytes: want 1 to %d", len(key), MaxOnceKeyLen)
	}
	if !put {
		return nil
	}
	if len(value) > MaxOnceValueLen {
		return fmt.Errorf("session: one-time record value of %d bytes: want at most %d", len(value), MaxOnceValueLen)
	}
	if ttl < time.Millisecond {
		return fmt.Errorf("session: one-time record TTL %v: want at least 1ms", ttl)
	}
	return nil
}
