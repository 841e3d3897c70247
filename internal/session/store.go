// Package session keeps wechat_auth's server-side state: the sessions the
// handler hands out opaque tokens for, and each user's session_keys. It
// knows nothing of HTTP or Caddy.
package session

import (
	"context"
	"errors"
	"time"
)

// Session is what a token stands for. It never leaves the server.
type Session struct {
	OpenID       string
	UnionID      string // empty when WeChat gave none
	Phone        string // purePhoneNumber, once bound
	PhoneCountry string // countryCode, once bound
}

// Errors a Store returns.
var (
	// ErrNotFound: no such session (never issued, logged out, expired or
	// evicted). The caller cannot tell which, and need not.
	ErrNotFound = errors.New("session not found")
	// ErrFull: the store refused a new session for lack of room.
	ErrFull = errors.New("session store full")
	// ErrUnavailable: the store's backend (Redis) failed or is too slow.
	ErrUnavailable = errors.New("session store unavailable")
)

// Store holds sessions under their tokens, and the session_keys WeChat
// holds for each user (one per user: the newest login's, plus the one it
// replaced). Implementations are safe for concurrent use.
type Store interface {
	// Create stores s under a new token for ttl.
	Create(ctx context.Context, token string, s Session, ttl time.Duration) error
	// Get returns the live session of token, or ErrNotFound.
	Get(ctx context.Context, token string) (Session, error)
	// Update replaces the session of token, keeping its expiry;
	// ErrNotFound if it is gone. It never brings a deleted session back.
	Update(ctx context.Context, token string, s Session) error
	// Delete ends the session of token; deleting a missing one is no error.
	Delete(ctx context.Context, token string) error
	// PutUserKey records key as the user's newest session_key; the newest
	// one before it becomes the previous one. The record lives for ttl.
	PutUserKey(ctx context.Context, openID, key string, ttl time.Duration) error
	// UserKeys returns the user's newest and previous session_keys ("" for
	// none); ErrNotFound when the store knows neither.
	UserKeys(ctx context.Context, openID string) (newest, previous string, err error)
	// Close releases the store's resources.
	Close() error
}
