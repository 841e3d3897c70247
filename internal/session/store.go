// Package session keeps wechat_auth's server-side state for one app: the
// sessions the handler hands out opaque tokens for, and each user's record
// (the session_keys WeChat holds for them, the phone they bound, the index
// of their sessions). It knows nothing of HTTP or Caddy.
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
	Phone        string // purePhoneNumber, once bound (to the user)
	PhoneCountry string // countryCode, once bound
}

// Limits are an app's store settings. They belong to the app, not to one
// config block, and a reload may change them on a live store (SetLimits).
type Limits struct {
	// MaxSessions bounds the sessions a Memory store holds, exactly
	// (DefaultMaxSessions when <= 0): a login into a full store ends the
	// session used least recently. Redis ignores it.
	MaxSessions int64
	// SessionTTL is how long a session lives after its login, at most
	// (DefaultSessionTTL when <= 0).
	SessionTTL time.Duration
	// IdleTimeout, when > 0, ends a session unused for longer. Use renews
	// it, at most about every IdleTimeout/4 (never a store write per
	// request): a session used at least every IdleTimeout/2 lives until
	// SessionTTL; one unused for 1.5 × IdleTimeout has ended.
	IdleTimeout time.Duration
	// PhoneTTL is how long a phone bound to a user stays bound, from the
	// bind, for every later login of the user (DefaultPhoneTTL when <= 0).
	PhoneTTL time.Duration
}

// Defaults of Limits.
const (
	DefaultMaxSessions = 1_000_000
	DefaultSessionTTL  = 720 * time.Hour
	DefaultPhoneTTL    = 720 * time.Hour
)

// WithDefaults returns l with every unset field at its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxSessions <= 0 {
		l.MaxSessions = DefaultMaxSessions
	}
	if l.SessionTTL <= 0 {
		l.SessionTTL = DefaultSessionTTL
	}
	if l.PhoneTTL <= 0 {
		l.PhoneTTL = DefaultPhoneTTL
	}
	if l.IdleTimeout < 0 {
		l.IdleTimeout = 0
	}
	return l
}

// Errors a Store returns.
var (
	// ErrNotFound: no such session (never issued, logged out, revoked,
	// expired, idle too long or evicted), or no such user record. The
	// caller cannot tell which, and need not.
	ErrNotFound = errors.New("session not found")
	// ErrFull: the store refused a new session for lack of room. No
	// store returns it any more (Memory makes room, Redis has no bound);
	// it stays until no caller tests for it.
	ErrFull = errors.New("session store full")
	// ErrUnavailable: the store's backend (Redis) failed, is too slow, or
	// is known to be down.
	ErrUnavailable = errors.New("session store unavailable")
)

// Store holds one app's sessions under their tokens, and its users'
// records. Implementations are safe for concurrent use.
type Store interface {
	// SetLimits applies new settings to the live store (a config reload):
	// every live session stays; a new SessionTTL applies to new sessions.
	SetLimits(Limits)

	// NewToken returns a fresh token for a session of openID: at least
	// 128 bits from crypto/rand, base64url, and well-formed for
	// WellFormedToken. It carries neither the openid nor a session_key (a
	// store may put an opaque routing tag in it, such as a Redis Cluster
	// hash slot tag derived from a keyed hash of the user).
	NewToken(openID string) string

	// Login records a login of s.OpenID: sessionKey (base64 of 16 bytes
	// as WeChat sent it, of 24 as Baidu does; "" for a platform without
	// one, such as Alipay: the user's keys then stay as they are) becomes the user's newest session_key, and the
	// newest before it the previous one, unless it is that same key again
	// (WeChat hands out an unchanged key within its refresh period: then
	// nothing moves). It stores a new session for s under token, for
	// SessionTTL, in the user's index. The session returned is s with the
	// phone the user has bound, if that bind is younger than PhoneTTL.
	Login(ctx context.Context, token string, s Session, sessionKey string) (Session, error)

	// Get returns the live session of token, or ErrNotFound. With an
	// IdleTimeout it renews the session's idle expiry when due.
	Get(ctx context.Context, token string) (Session, error)

	// BindPhone binds a phone to the user of token's session (openID),
	// replacing any phone bound before, for PhoneTTL: token's session
	// carries it at once, and so does every later login of the user.
	// ErrNotFound if token's session is gone (a bind never revives a
	// session nor extends its life).
	BindPhone(ctx context.Context, token, openID, phone, country string) error

	// Delete ends token's session; deleting a missing one is no error.
	Delete(ctx context.Context, token string) error

	// RevokeUser ends every session of openID, and with forgetUser also
	// forgets the user's bound phone and session_keys. It returns how many
	// live sessions it ended.
	RevokeUser(ctx context.Context, openID string, forgetUser bool) (int, error)

	// UserKeys returns the user's newest and previous session_keys ("" for
	// none); ErrNotFound when the store knows neither.
	UserKeys(ctx context.Context, openID string) (newest, previous string, err error)

	// Len returns how many live sessions the store holds; ok is false
	// when the store cannot count them cheaply (Redis).
	Len() (n int64, ok bool)

	// Close releases the store's resources.
	Close() error
}

// WellFormedToken tells whether t could be a token NewToken made (43
// characters of base64url: 256 bits), so that junk is refused without a
// store lookup.
func WellFormedToken(t string) bool {
	if len(t) != TokenLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// TokenBytes is the size of a token before encoding, TokenLen its length.
const (
	TokenBytes = 32
	TokenLen   = 43 // base64.RawURLEncoding.EncodedLen(TokenBytes)
)
