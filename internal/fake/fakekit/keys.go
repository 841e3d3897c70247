package fakekit

import (
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// ErrNoSessionKey: the user has not logged in (no session_key to seal with).
var ErrNoSessionKey = errors.New("no session_key for this user: log in first")

// SessionKeys are the users' session keys, per app and user id: the
// current one and the one it replaced.
type SessionKeys struct {
	mu sync.Mutex
	m  map[[2]string][2]string
}

// Rotate gives the user a fresh key and returns it (a login).
func (s *SessionKeys) Rotate(app, user string) string {
	k := NewSessionKey()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[[2]string][2]string{}
	}
	s.m[[2]string{app, user}] = [2]string{k, s.m[[2]string{app, user}][0]}
	return k
}

// Current is the user's newest key, or a fresh one if there is none (a
// login that hands the same key out again).
func (s *SessionKeys) Current(app, user string) string {
	s.mu.Lock()
	k := s.m[[2]string{app, user}][0]
	s.mu.Unlock()
	if k == "" {
		return s.Rotate(app, user)
	}
	return k
}

// Pair is the user's newest key and the one before it, "" where there is
// none.
func (s *SessionKeys) Pair(app, user string) (newest, previous string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.m[[2]string{app, user}]
	return k[0], k[1]
}

// Newest is the user's newest key, "" when the user never logged in.
func (s *SessionKeys) Newest(app, user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[[2]string{app, user}][0]
}

// Token is an access token a fake handed out: its app and its end.
type Token struct {
	App     string
	Expires time.Time
}

// Alive reports whether t is alive at now.
func (t Token) Alive(now time.Time) bool { return now.Before(t.Expires) }

// SealCBC seals plain with a session key (base64; AES-CBC, PKCS#7 to
// 16 bytes) under a fresh iv: encryptedData and iv, base64, as a client
// gets them.
func SealCBC(sessionKey string, plain []byte) (encryptedData, iv string, err error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil {
		return "", "", err
	}
	ivb := RandomBytes(16)
	sealed, err := platform.SealCBC(key, ivb, plain, 16)
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(sealed), base64.StdEncoding.EncodeToString(ivb), nil
}

// ForLogin is the session_key a login of outcome hands out: "same" the
// user's current one, "nokey" none (a broken answer), any other a fresh
// one.
func (s *SessionKeys) ForLogin(app, user, outcome string) string {
	switch outcome {
	case "same":
		return s.Current(app, user)
	case "nokey":
		return ""
	}
	return s.Rotate(app, user)
}
