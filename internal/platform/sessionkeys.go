package platform

import (
	"encoding/base64"
	"encoding/json"
)

// ValidSessionKey reports whether key is the standard base64 of size
// bytes, the shape of a session_key (16 on most platforms, 24 on Baidu).
func ValidSessionKey(key string, size int) bool {
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == size
}

// OpenWithKeys opens a legacy sealed payload (OpenCBC) with the user's
// session keys, newest first, and returns the plaintext of the first key
// that opens it to JSON: a wrong key passes the padding check now and then,
// so padding alone does not decide. An iv or data that is not of the right
// form is ErrMalformed whatever the keys; no key opening it, or no key at
// all, is ErrUndecryptable.
func OpenWithKeys(keys []string, iv, data string, keyLen, padBlock int) ([]byte, error) {
	ivb, err := base64.StdEncoding.DecodeString(iv)
	if err != nil || len(ivb) != 16 || len(data) > MaxSealedSize {
		return nil, ErrMalformed
	}
	sealed, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(sealed) == 0 || len(sealed)%16 != 0 {
		return nil, ErrMalformed
	}
	for _, key := range keys {
		k, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(k) != keyLen {
			continue // a stored key of the wrong shape opens nothing
		}
		plain, err := DecryptCBC(k, ivb, sealed, padBlock)
		if err == nil && json.Valid(plain) {
			return plain, nil
		}
	}
	return nil, ErrUndecryptable
}
