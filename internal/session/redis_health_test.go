package session

import (
	"sync"
	"testing"
	"time"
)

// stateLog records OnStateChange calls.
type stateLog struct {
	mu     sync.Mutex
	events []string
	errs   []error
}

func (l *stateLog) hook(up bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if up {
		l.events = append(l.events, "up")
	} else {
		l.events = append(l.events, "down")
	}
	l.errs = append(l.errs, err)
}

func (l *stateLog) get() ([]string, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...), append([]error(nil), l.errs...)
}

// waitFor polls cond for up to d: at once, then after 1 ms, 2 ms, ...
// every 10 ms at most.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	pause := time.Millisecond
	for end := time.Now().Add(d); !cond(); pause = min(2*pause, 10*time.Millisecond) {
		if time.Now().After(end) {
			tb.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(pause)
	}
}
