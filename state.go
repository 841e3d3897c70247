package wechatauth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// apps holds the state that every wechat_auth block of one app shares and
// that must outlive a config reload: the session store, and the WeChat
// client with its access_token. Blocks take a reference in Provision and
// give it back in Cleanup; the state goes when the last block of the app
// does. A reload provisions the new config before cleaning up the old
// one, so the state is never dropped in between.
var apps = caddy.NewUsagePool()

// storeKey names a session store: one per app and store settings. A Redis
// store's session_key encryption is derived from the secret, so the
// secret is part of its name (hashed).
func storeKey(appID string, maxSessions int64, redisURL, secret string) string {
	if redisURL == "" {
		return fmt.Sprintf("store\x00%s\x00memory\x00%d", appID, maxSessions)
	}
	return "store\x00" + appID + "\x00redis\x00" + redisURL + "\x00" + secretHash(secret)
}

// clientKey names a WeChat client and its access_token: one per app and
// credentials (a changed secret makes a new client, not new sessions).
func clientKey(appID, apiBase, secret string) string {
	return "client\x00" + appID + "\x00" + apiBase + "\x00" + secretHash(secret)
}

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

type storeEntry struct {
	session.Store
	appID string
}

func (e storeEntry) Destruct() error { return e.Close() }

type clientEntry struct {
	client *wechat.Client
	tokens *wechat.TokenSource
}

func (e clientEntry) Destruct() error {
	e.client.HTTPClient.CloseIdleConnections()
	return nil
}

func newClientEntry(appID, apiBase, secret string) clientEntry {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	client := &wechat.Client{
		BaseURL: apiBase,
		AppID:   appID,
		Secret:  secret,
		HTTPClient: &http.Client{
			Transport: transport,
			// WeChat does not redirect; a redirect is a misbehaving
			// gateway, and its answer is reported as such.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	client.Observe = observeWeChat(appID)
	return clientEntry{client: client, tokens: &wechat.TokenSource{Client: client}}
}
