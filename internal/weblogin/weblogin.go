// Package weblogin holds the pure parts of wechat_auth's browser login
// (WeChat's Official Account web authorization and website QR login): the
// check of the `next` path a login returns to, the OAuth `state`, the
// cookies (the wx_session cookie and the one binding a state to the
// browser that started the login), the removal of a cookie from the
// Cookie header passed upstream, and the request checks (cross-site,
// browser navigation). It knows nothing of Caddy, WeChat's API or the
// session store.
package weblogin
