// Package wechatauth is wechat_auth: WeChat mini program login in front of
// any backend, as Caddy v2 modules.
//
// Build a Caddy with it:
//
//	xcaddy build --with github.com/wechat-auth/wechat_auth
//
// or, from a checkout, `go build ./cmd/caddy` (see xcaddy.toml for the
// pinned recipe). Importing this package registers its modules:
//
//   - http.handlers.wechat_auth (directive wechat_auth): answers POST
//     /wx/login, /wx/phone and /wx/logout itself (it trades wx.login codes
//     with WeChat's jscode2session, keeps the session_key on the server and
//     hands the client an opaque token), and passes every other request on
//     only with a valid "Authorization: Bearer <token>", adding X-WX-OpenID,
//     X-WX-UnionID, X-WX-AppID, X-WX-Phone and X-WX-Phone-Country after
//     removing every X-WX-* header a client sent.
//   - http.handlers.wechat_api (directive wechat_api): the Open API
//     gateway. Backends call any WeChat server API through it without an
//     access_token; it adds the app's token (the one wechat_auth of the
//     same app_id uses), repeats a call once on a dead token, and answers
//     only callers in allow_from. It belongs on an internal listener.
//   - admin.api.wechat_auth: on Caddy's admin endpoint,
//     DELETE /wechat_auth/apps/<app_id>/users/<openid> ends every session
//     of a user and forgets their phone; GET /wechat_auth/apps lists the
//     apps with their live session counts.
//
// Every wechat_auth block of one app_id in a Caddy shares one session store
// (in memory, or in Redis, a Cluster or behind Sentinels, shared by every
// Caddy) and one access_token, and keeps them across config reloads. With
// assertion on, the identity also travels signed, in X-WX-Assertion.
//
// The README (https://github.com/wechat-auth/wechat_auth) walks through a
// first run against the fake WeChat (go run ./cmd/demo) and documents every
// option, endpoint, error code and metric.
package wechatauth

import (
	// http.handlers.wechat_api lives in its own package; importing this
	// one registers it too.
	_ "github.com/wechat-auth/wechat_auth/gateway"
	// every platform (wechat, qq, douyin, ...) registers itself
	_ "github.com/wechat-auth/wechat_auth/internal/platform/all"
)
