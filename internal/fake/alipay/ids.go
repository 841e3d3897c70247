package fakealipay

import (
	"crypto/sha256"
	"encoding/hex"
	"math/big"
)

func derive(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// UserID is the fake user_id of a user name: "2088" and 12 digits, the
// same in every app, like Alipay's.
func UserID(user string) string {
	n := new(big.Int).SetBytes(derive("uid\x00" + user))
	n.Mod(n, big.NewInt(1e12))
	return "2088" + leftPad(n.String(), 12)
}

// OpenID is the fake open_id of a user in an app (OpenID-scheme apps):
// 47 letters and digits, different in every app.
func OpenID(appID, user string) string {
	return "0" + hex.EncodeToString(derive("oid\x00" + appID + "\x00" + user))[:46]
}

// UnionID is the fake union_id of a user: the same in every app.
func UnionID(user string) string {
	return "u" + hex.EncodeToString(derive("union\x00" + user))[:31]
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}
