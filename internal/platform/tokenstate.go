package platform

import "time"

// Fetching reports whether a fetch is under way (for tests that wait for
// a background refresh to end).
func (s *TokenSource) Fetching() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight != nil
}

// BackoffAfter is the wait after the given number of failed fetches in a
// row, MinBackoff doubling up to MaxBackoff.
func (s *TokenSource) BackoffAfter(failures int) time.Duration { return s.backoff(failures) }
