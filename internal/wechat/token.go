package wechat

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// TokenSource hands out an app's access_token. It fetches one from
// /cgi-bin/stable_token (never the old /cgi-bin/token, which kills the
// token other servers hold) and caches it until it expires.
//
// RefreshBefore its expiry the token is due for replacement: the next
// caller starts a fetch in the background and goes on with the cached
// token, as does every caller while that fetch runs. A failed fetch (45009
// daily quota, 40164 IP not whitelisted, -1, a timeout) changes nothing
// for callers while the cached token lives, since WeChat honours it until
// its expiry; the next attempt waits a backoff (MinBackoff, doubling up to
// MaxBackoff), and OnRefreshError hears of each failure. Callers wait only
// when there is no valid token: then one fetch runs at a time and the
// others wait for it; within the backoff after a failed fetch they get its
// error at once instead of calling WeChat again.
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

	mu        sync.Mutex
	token     string
	expiresAt time.Time // the cached token is valid before this
	refreshAt time.Time // and due for replacement from this on
	inflight  *tokenFetch
	failures  int       // fetches failed in a row
	retryAt   time.Time // no fetch before this, after a failure
	lastErr   error     // the error of the last fetch, if it failed
	fetches   atomic.Int64
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

type tokenFetch struct {
	done  chan struct{}
	token string
	err   error
}

func (s *TokenSource) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// Token returns a live access_token: the cached one while it is valid
// (starting a background refresh once it is due), else the result of a
// fetch it waits for.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	now := s.clock()
	if s.token != "" && now.Before(s.expiresAt) {
		t := s.token
		if !now.Before(s.refreshAt) && s.inflight == nil && !now.Before(s.retryAt) {
			s.startFetchLocked()
		}
		s.mu.Unlock()
		return t, nil
	}
	f := s.inflight
	if f == nil {
		if s.lastErr != nil && now.Before(s.retryAt) {
			err := s.lastErr
			s.mu.Unlock()
			return "", err
		}
		f = s.startFetchLocked()
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		kind := KindTimeout
		if errors.Is(ctx.Err(), context.Canceled) {
			kind = KindCanceled
		}
		return "", &Error{Endpoint: EndpointStableToken, Kind: kind, Err: ctx.Err()}
	}
}

// startFetchLocked starts a fetch; s.mu must be held.
func (s *TokenSource) startFetchLocked() *tokenFetch {
	f := &tokenFetch{done: make(chan struct{})}
	s.inflight = f
	go s.fetch(f)
	return f
}

// fetch runs one stable_token call, detached from any caller's context
// (several callers may wait for it, or none), and publishes its result.
func (s *TokenSource) fetch(f *tokenFetch) {
	timeout := s.FetchTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s.fetches.Add(1)
	// The token's life is counted from before the call: it started on
	// WeChat's side somewhere during it.
	start := s.clock()
	at, err := s.Client.StableToken(ctx, false)

	s.mu.Lock()
	now := s.clock()
	s.inflight = nil
	f.token, f.err = at.Value, err
	var report RefreshError
	if err == nil {
		margin := s.RefreshBefore
		if margin <= 0 {
			margin = 5 * time.Minute
		}
		// A token handed out late in its life would be due at once:
		// keep it for half of what is left instead.
		if margin > at.ExpiresIn/2 {
			margin = at.ExpiresIn / 2
		}
		s.token = at.Value
		s.expiresAt = start.Add(at.ExpiresIn)
		s.refreshAt = s.expiresAt.Add(-margin)
		s.failures, s.retryAt, s.lastErr = 0, time.Time{}, nil
	} else {
		s.failures++
		backoff := s.backoff(s.failures)
		s.retryAt, s.lastErr = now.Add(backoff), err
		report = RefreshError{Err: err, Backoff: backoff, Failures: s.failures}
		if s.token != "" && now.Before(s.expiresAt) {
			report.CachedFor = s.expiresAt.Sub(now)
		}
	}
	close(f.done)
	s.mu.Unlock()
	if err != nil && s.OnRefreshError != nil {
		s.OnRefreshError(report)
	}
}

// backoff is the wait after the given number of failed fetches in a row.
func (s *TokenSource) backoff(failures int) time.Duration {
	lo, hi := s.MinBackoff, s.MaxBackoff
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = time.Minute
	}
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// Invalidate drops token if it is the cached one, so that the next Token
// call fetches. Call it when WeChat answers 40001, 42001 or 40014.
func (s *TokenSource) Invalidate(token string) {
	s.mu.Lock()
	if s.token == token {
		s.token = ""
	}
	s.mu.Unlock()
}

// Do runs call with the current access_token; if WeChat says that token is
// dead, it drops it, gets a fresh one and runs call once more.
func (s *TokenSource) Do(ctx context.Context, call func(token string) error) error {
	tok, err := s.Token(ctx)
	if err != nil {
		return err
	}
	err = call(tok)
	if !IsTokenInvalid(err) {
		return err
	}
	s.Invalidate(tok)
	tok, err = s.Token(ctx)
	if err != nil {
		return err
	}
	return call(tok)
}
