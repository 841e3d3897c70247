package appstate

import (
	"sync"
	"time"
)

// SampledLog lets one line through per period and counts the others, for
// events that may come in floods (WeChat's 45011 frequency limit, the
// sessions a full store ends).
type SampledLog struct {
	Every time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// Allow reports whether a line may be logged at now, and how many were
// held back since the last one that was.
func (l *SampledLog) Allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.Every {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}
