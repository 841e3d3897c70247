package wechatauth

// SharedStates counts the per-app states (session stores and WeChat
// clients) alive in the process, for the tests of sharing and cleanup.
func SharedStates() int {
	n := 0
	apps.Range(func(_, _ any) bool { n++; return true })
	return n
}
