package wechatauth

// takeAppClient takes a reference to the app's shared WeChat client and
// access_token source (the clientEntry of state.go), making it if this is
// the first block of the app with these credentials. It returns the key to
// give back with releaseAppClient. Every module that needs the app's
// token goes through here, so that there is one token per app however
// many wechat_auth and wechat_api blocks use it, across reloads.
func takeAppClient(appID, apiBase, secret string) (string, *clientEntry) {
	return acquireClient(appID, apiBase, secret)
}

// releaseAppClient gives back a reference taken with takeAppClient.
func releaseAppClient(key string) {
	_, _ = clients.Delete(key)
}
