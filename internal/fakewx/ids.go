package fakewx

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// OpenID returns the fake openid of a user name in an app: deterministic,
// 28 characters from [A-Za-z0-9_-] starting with "o" like real ones, and
// different in every app.
func OpenID(appid, user string) string {
	return "o" + digest("openid\x00" + appid + "\x00" + user)[:27]
}

// UnionID returns the fake unionid of a user name: deterministic, 28
// characters starting with "u", the same in every app (like a real unionid
// across the apps of one open platform account).
func UnionID(user string) string {
	return "u" + digest("unionid\x00" + user)[:27]
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomBytes returns n bytes from crypto/rand (which never fails).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// newSessionKey returns a fresh session_key: base64 of 16 random bytes.
func newSessionKey() string {
	return base64.StdEncoding.EncodeToString(randomBytes(16))
}

// newAccessToken returns a fresh access_token: 64 characters, URL safe.
func newAccessToken() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(48))
}

// rid returns a request id in the real format: the time and two random
// 32-bit words in hex, e.g. "66a1f0c2-1b2c3d4e-5f607182".
func rid() string {
	b := randomBytes(8)
	return fmt.Sprintf("%08x-%08x-%08x", uint32(time.Now().Unix()),
		binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:]))
}
