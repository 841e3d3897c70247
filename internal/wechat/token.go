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
// token other servers hold), caches it until RefreshBefore its expiry, and
// lets one fetch run at a time: concurrent callers wait for that fetch.
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

	mu        sync.Mutex
	token     string
	refreshAt time.Time
	inflight  *tokenFetch
	fetches   atomic.Int64
}

type tokenFetch struct {
	done  chan struct{}
	token string
	err   error
}

// Fetches returns how many stable_token calls this source has made.
func (s *TokenSource) Fetches() int64 { return s.fetches.Load() }

// Token returns a live access_token, fetching one if needed.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	now := time.Now()
	if s.token != "" && now.Before(s.refreshAt) {
		t := s.token
		s.mu.Unlock()
		return t, nil
	}
	f := s.inflight
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		s.inflight = f
		go s.fetch(f)
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

// fetch runs one stable_token call, detached from any caller's context
// (several callers wait for it), and publishes its result.
func (s *TokenSource) fetch(f *tokenFetch) {
	timeout := s.FetchTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s.fetches.Add(1)
	at, err := s.Client.StableToken(ctx, false)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight = nil
	f.token, f.err = at.Value, err
	if err == nil {
		now := time.Now()
		margin := s.RefreshBefore
		if margin <= 0 {
			margin = 5 * time.Minute
		}
		// A token handed out late in its life would be stale at once:
		// keep it for half of what is left instead.
		if margin > at.ExpiresIn/2 {
			margin = at.ExpiresIn / 2
		}
		s.token = at.Value
		s.refreshAt = now.Add(at.ExpiresIn - margin)
	}
	close(f.done)
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
