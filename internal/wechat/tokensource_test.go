package wechat

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// (Test code: wechat_auth's access_token source is the wechat platform's
// platform.TokenSource, in internal/platform/wechat. This wrapper over it,
// with this package's Client and errors, is what the token tests below
// drive; it was the source before the platform seam.)

// TokenSource hands out an app's access_token. It fetches one from
// /cgi-bin/stable_token (never the old /cgi-bin/token, which kills the
// token other servers hold) and caches it until it expires: a
// platform.TokenSource (one fetch at a time, refreshed RefreshBefore its
// expiry in the background, a failed refresh changing nothing while the
// cached token lives, a backoff between failed fetches) whose errors are
// this package's *Error.
//
// It never asks for force_refresh, so a dead token seen by this server
// does not kill the token that other servers of the app share.
type TokenSource struct {
	Client *Client
	// RefreshBefore is how long before its expiry a token is replaced.
	// Default 5 minutes (WeChat hands out a new stable token in the last
	// five minutes of the old one, and honours both meanwhile).
	RefreshBefore time.Duration
	// FetchTimeout bounds one fetch. Default 10 seconds.
	FetchTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed fetch before
	// the next one: MinBackoff after the first failure, doubling with each
	// failure in a row up to MaxBackoff. Defaults 1 second and 1 minute.
	MinBackoff, MaxBackoff time.Duration
	// OnRefreshError, when set, is told of every failed fetch (so at most
	// once per backoff), from the goroutine that fetched. It must not
	// block for long.
	OnRefreshError func(RefreshError)

	now func() time.Time // the clock; time.Now when nil (tests set it)

	// The fields above are read once, at the first use.
	once    sync.Once
	src     *platform.TokenSource
	fetches atomic.Int64
}

// RefreshError tells of a failed access_token fetch.
type RefreshError struct {
	Err error // the *Error of the fetch
	// Backoff is how long the source waits before it fetches again.
	Backoff time.Duration
	// Failures counts the failed fetches in a row, this one included.
	Failures int
	// CachedFor is how long the cached token remains valid and in use;
	// 0 when there is none: calls that need a token fail meanwhile.
	CachedFor time.Duration
}

// source is the platform.TokenSource behind s, made at the first use.
func (s *TokenSource) source() *platform.TokenSource {
	s.once.Do(func() {
		s.src = &platform.TokenSource{
			Platform: "wechat",
			AppID:    s.Client.AppID,
			Endpoint: EndpointStableToken,
			Fetch: func(ctx context.Context) (string, time.Duration, error) {
				s.fetches.Add(1)
				at, err := s.Client.StableToken(ctx, false)
				if err != nil {
					return "", 0, err
				}
				return at.Value, at.ExpiresIn, nil
			},
			IsInvalid:     func(err error) bool { return TokenInvalidCode(APICode(err)) },
			RefreshBefore: s.RefreshBefore,
			FetchTimeout:  s.FetchTimeout,
			MinBackoff:    s.MinBackoff,
			MaxBackoff:    s.MaxBackoff,
			Now:           s.now,
		}
		if report := s.OnRefreshError; report != nil {
			s.src.OnError = func(e platform.TokenError) {
				report(RefreshError{Err: e.Err, Backoff: e.Backoff, Failures: e.Failures, CachedFor: e.CachedFor})
			}
		}
	})
	return s.src
}

// Token returns a live access_token: the cached one while it is valid
// (starting a background refresh once it is due), else the result of a
// fetch it waits for.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	tok, err := s.source().Token(ctx)
	return tok, fromPlatform(err)
}

// Invalidate drops token if it is the cached one, so that the next Token
// call fetches. Call it when WeChat answers 40001, 42001 or 40014.
func (s *TokenSource) Invalidate(token string) { s.source().Invalidate(token) }

// Do runs call with the current access_token; if WeChat says that token is
// dead, it drops it, gets a fresh one and runs call once more.
func (s *TokenSource) Do(ctx context.Context, call func(token string) error) error {
	return fromPlatform(s.source().Do(ctx, call))
}
