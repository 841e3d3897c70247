package wechatauth

// SharedStates counts the per-app states (session stores and WeChat
// clients) alive in the process, for the tests of sharing and cleanup.
func SharedStates() int {
	n := 0
	stores.Range(func(_, _ any) bool { n++; return true })
	clients.Range(func(_, _ any) bool { n++; return true })
	return n
}
