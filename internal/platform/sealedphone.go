package platform

import (
	"crypto/aes"
	"encoding/base64"
	"encoding/json"
)

// OpenSealedPhone opens phone data sealed in WeChat's scheme (WeChat, QQ,
// and Douyin's old flow): AES-128-CBC with a user's session key, PKCS#7
// in 16-byte blocks, the watermarked JSON of WatermarkedPhone. It tries
// keys newest first (standard base64 of 16 bytes; a stored key of another
// shape is skipped) and reads the payload with c.
//
// Malformed iv or data is ErrMalformed; data that no key opens to JSON is
// ErrUndecryptable (a wrong key gives bad padding, or by chance good
// padding over bytes that are not JSON); once a key opens it, the
// payload's own verdict stands (ErrNoPhone, ErrWatermark, ErrStale).
func OpenSealedPhone(keys []string, iv, data string, c PhoneCheck) (Phone, error) {
	ivb, err := base64.StdEncoding.DecodeString(iv)
	if err != nil || len(ivb) != aes.BlockSize || len(data) > MaxSealedSize {
		return Phone{}, ErrMalformed
	}
	sealed, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(sealed) == 0 || len(sealed)%aes.BlockSize != 0 {
		return Phone{}, ErrMalformed
	}
	for _, key := range keys {
		k, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(k) != 16 {
			continue
		}
		plain, err := DecryptCBC(k, ivb, sealed, aes.BlockSize)
		if err != nil || !json.Valid(plain) {
			continue
		}
		return WatermarkedPhone(plain, c)
	}
	return Phone{}, ErrUndecryptable
}
