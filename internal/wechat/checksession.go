package wechat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
)

// EndpointCheckSession names /wxa/checksession in an *Error.
const EndpointCheckSession = "checksession"

// CodeInvalidSignature is checksession's answer for a session_key that is
// not the user's current one (WeChat replaced or expired it).
const CodeInvalidSignature = 87009

// SessionSignature is the signature checksession (and resetusersessionkey)
// takes: lowercase hex of HMAC-SHA256 keyed with the session_key, the
// base64 text as WeChat gave it, over msg (the empty string for
// checksession).
func SessionSignature(sessionKey, msg string) string {
	m := hmac.New(sha256.New, []byte(sessionKey))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckSession asks WeChat whether sessionKey is still the user's current
// session_key: nil when it is, an *Error with Code CodeInvalidSignature
// (87009) when WeChat replaced or expired it, another *Error when the
// call failed. The key itself never leaves this server: only its
// signature is sent.
func (c *Client) CheckSession(ctx context.Context, accessToken, openid, sessionKey string) error {
	q := url.Values{}
	q.Set("access_token", accessToken)
	q.Set("openid", openid)
	q.Set("signature", SessionSignature(sessionKey, ""))
	q.Set("sig_method", "hmac_sha256")
	var ans struct{ apiStatus }
	return c.call(ctx, EndpointCheckSession, http.MethodGet, "/wxa/checksession?"+q.Encode(), nil, &ans)
}
