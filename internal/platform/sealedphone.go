package platform

import (
	"crypto/aes"
)

// OpenSealedPhone opens phone data sealed in WeChat's scheme (WeChat, QQ,
// and Douyin's old flow): AES-128-CBC with a user's session key, PKCS#7
// in 16-byte blocks, the watermarked JSON of WatermarkedPhone. It tries
// keys newest first (standard base64 of 16 bytes; a stored key of another
// shape is skipped) and reads the payload with c.
//
// Malformed iv or data is ErrMalformed; data that no key opens to JSON is
// ErrUndecryptable (OpenWithKeys: a wrong key gives bad padding, or by chance good
// padding over bytes that are not JSON); once a key opens it, the
// payload's own verdict stands (ErrNoPhone, ErrWatermark, ErrStale).
func OpenSealedPhone(keys []string, iv, data string, c PhoneCheck) (Phone, error) {
	plain, err := OpenWithKeys(keys, iv, data, 16, aes.BlockSize)
	if err != nil {
		return Phone{}, err
	}
	return WatermarkedPhone(plain, c)
}
