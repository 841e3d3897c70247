package wechatauth

import (
	"time"

	"github.com/wechat-auth/wechat_auth/internal/appstate"
)

// SharedStates counts the per-app states (session stores and WeChat
// clients) alive in the process, for the tests of sharing and cleanup.
func SharedStates() int {
	n, _ := appstate.Live()
	return n
}

// FailureLimiters counts the failure limiters alive in the process (one
// per app and window), for the black-box tests of sharing and cleanup.
func FailureLimiters() int {
	_, n := appstate.Live()
	return n
}

// SetClock makes every wechat_auth handler read the time from now instead
// of time.Now (the failure limit's window, the sampled log lines), until
// the returned restore is called: tests move the clock instead of
// sleeping. A limiter keeps the clock reading of its making as its start,
// so set the clock before the config is loaded.
func SetClock(now func() time.Time) (restore func()) {
	clock.Store(&now)
	return func() { clock.Store(nil) }
}

// SetWebTTLs shortens how long a browser login's state and a handoff
// ticket live, until the returned restore is called (the records expire
// in the store: memory or Redis).
func SetWebTTLs(state, ticket time.Duration) (restore func()) {
	old := webTTLs.Swap(&[2]time.Duration{state, ticket})
	return func() { webTTLs.Store(old) }
}
