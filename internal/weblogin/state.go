package weblogin

import (
	"crypto/rand"
	"encoding/hex"
)

// MaxStateLen is the longest state WeChat accepts (letters and digits).
const MaxStateLen = 128

// stateBytes is the randomness of a state: 192 bits, 48 hex digits.
const stateBytes = 24

// NewState returns a fresh OAuth state: 192 bits from crypto/rand as 48
// lowercase hex digits (letters and digits only, as WeChat requires).
func NewState() string {
	var b [stateBytes]byte
	_, _ = rand.Read(b[:]) // never fails (it crashes the program first)
	return hex.EncodeToString(b[:])
}

// ValidState reports whether s is a state WeChat would carry: 1 to
// MaxStateLen ASCII letters and digits. Use it to refuse junk before any
// store lookup.
func ValidState(s string) bool {
	if len(s) == 0 || len(s) > MaxStateLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
