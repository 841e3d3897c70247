package platform

import (
	"context"
	"errors"
	"sync"
	"time"
)

// TokenSource hands out an app's access token (WeChat's stable_token,
// Douyin's client_token, Baidu's token, ...): fetched by Fetch, cached
// until it expires, one fetch at a time.
//
// RefreshBefore its expiry the token is due for replacement: the next
// caller starts a fetch in the background and goes on with the cached
// token, as does every caller while that fetch runs. A failed fetch
// changes nothing for callers while the cached token lives (the platforms
// honour a token until its expiry); the next attempt waits a backoff
// (MinBackoff, doubling up to MaxBackoff), and OnError hears of each
// failure. Callers wait only when there is no valid token: then one fetch
// runs at a time and the others wait for it; within the backoff after a
// failed fetch they get its error at once instead of calling again.
type TokenSource struct {
	// Platform and AppID name the app, for errors and TokenError.
	Platform, AppID string
	// Endpoint names the token API, for the *Error of a wait that timed out.
	Endpoint string
	// Fetch gets a new token and how long it lives.
	Fetch func(ctx context.Context) (token string, expiresIn time.Duration, err error)
	// IsInvalid reports whether an API answer says the token it was
	// called with is dead (WeChat's 40001, 42001, 40014): Do then drops
	// it and calls once more with a fresh one. Nil: never.
	IsInvalid func(err error) bool
	// RefreshBefore is how long before its expiry a token is replaced.
	// Default 5 minutes (WeChat, QQ and Douyin hand out a new token while
	// honouring the old one for five minutes).
	RefreshBefore time.Duration
	// FetchTimeout bounds one fetch. Default 10 seconds.
	FetchTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed fetch before
	// the next one. Defaults 1 second and 1 minute.
	MinBackoff, MaxBackoff time.Duration
	// OnError, when set, is told of every failed fetch (so at most once
	// per backoff), from the goroutine that fetched. It must not block.
	OnError func(TokenError)
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu        sync.Mutex
	token     string
	expiresAt time.Time // the cached token is valid before this
	refreshAt time.Time // and due for replacement from this on
	inflight  *tokenFetch
	failures  int       // fetches failed in a row
	retryAt   time.Time // no fetch before this, after a failure
	lastErr   error     // the error of the last fetch, if it failed
	failedAt  time.Time // when it failed
}

type tokenFetch struct {
	done  chan struct{}
	token string
	err   error
}

func (s *TokenSource) clock() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Token returns a live token: the cached one while it is valid (starting
// a background refresh once it is due), else the result of a fetch it
// waits for.
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
		// Without a token, a caller waits for a fetch once the first
		// backoff step has passed since the last failure, however long
		// the backoff has grown: the answer then says what the platform
		// says now (its refusal may have changed, or ended), not what it
		// said a minute ago. Still one fetch at a time, and at most one
		// per MinBackoff; the doubling backoff paces the background
		// refreshes behind a cached token.
		if s.lastErr != nil && now.Before(s.retryAt) && now.Before(s.failedAt.Add(s.backoff(1))) {
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
		return "", &Error{Platform: s.Platform, Endpoint: s.Endpoint, Kind: kind, Err: ctx.Err()}
	}
}

// startFetchLocked starts a fetch; s.mu must be held.
func (s *TokenSource) startFetchLocked() *tokenFetch {
	f := &tokenFetch{done: make(chan struct{})}
	s.inflight = f
	go s.fetch(f)
	return f
}

// fetch runs one Fetch, detached from any caller's context (several
// callers may wait for it, or none), and publishes its result.
func (s *TokenSource) fetch(f *tokenFetch) {
	timeout := s.FetchTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The token's life is counted from before the call: it started on
	// the platform's side somewhere during it.
	start := s.clock()
	tok, life, err := s.Fetch(ctx)

	s.mu.Lock()
	now := s.clock()
	s.inflight = nil
	f.token, f.err = tok, err
	var report TokenError
	if err == nil {
		margin := s.RefreshBefore
		if margin <= 0 {
			margin = 5 * time.Minute
		}
		// A token handed out late in its life would be due at once:
		// keep it for half of what is left instead.
		if margin > life/2 {
			margin = life / 2
		}
		s.token = tok
		s.expiresAt = start.Add(life)
		s.refreshAt = s.expiresAt.Add(-margin)
		s.failures, s.retryAt, s.lastErr = 0, time.Time{}, nil
	} else {
		s.failures++
		backoff := s.backoff(s.failures)
		s.retryAt, s.lastErr, s.failedAt = now.Add(backoff), err, now
		report = TokenError{Platform: s.Platform, AppID: s.AppID, Err: err, Backoff: backoff, Failures: s.failures}
		if s.token != "" && now.Before(s.expiresAt) {
			report.CachedFor = s.expiresAt.Sub(now)
		}
	}
	close(f.done)
	s.mu.Unlock()
	if err != nil && s.OnError != nil {
		s.OnError(report)
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
// call fetches.
func (s *TokenSource) Invalidate(token string) {
	s.mu.Lock()
	if s.token == token {
		s.token = ""
	}
	s.mu.Unlock()
}

// Do runs call with the current token; if IsInvalid says the answer calls
// that token dead, it drops it, gets a fresh one and runs call once more.
func (s *TokenSource) Do(ctx context.Context, call func(token string) error) error {
	tok, err := s.Token(ctx)
	if err != nil {
		return err
	}
	err = call(tok)
	if s.IsInvalid == nil || !s.IsInvalid(err) {
		return err
	}
	s.Invalidate(tok)
	tok, err = s.Token(ctx)
	if err != nil {
		return err
	}
	return call(tok)
}
