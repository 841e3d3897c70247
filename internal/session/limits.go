package session

import "time"

// (Interim: moves into store.go with the v2 Store interface.)

// Limits are an app's store settings. They belong to the app, not to one
// config block, and a reload may change them on a live store (SetLimits).
type Limits struct {
	// MaxSessions bounds the sessions a Memory store holds
	// (DefaultMaxSessions when <= 0). Redis ignores it.
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
	DefaultSessionTTL = 720 * time.Hour
	DefaultPhoneTTL   = 720 * time.Hour
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
