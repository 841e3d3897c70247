package fakewx

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNoSessionKey is EncryptPhone's error for a user who never logged in.
var ErrNoSessionKey = errors.New("fakewx: the user has no session_key (no login yet)")

// EncryptPhone plays the mini program client: it seals a phone payload the
// way WeChat seals getPhoneNumber data (AES-128-CBC, PKCS#7, base64) with
// the user's current session_key. The plaintext is
//
//	{"phoneNumber": "+<cc> <pure>", "purePhoneNumber": pure, "countryCode": cc,
//	 "watermark": {"timestamp": <now>, "appid": watermarkAppID}}
//
// It returns ErrNoSessionKey if the user has not logged in.
func (s *Server) EncryptPhone(appid, openid, pure, countryCode, watermarkAppID string) (encryptedData, iv string, err error) {
	key, _ := s.SessionKeys(appid, openid)
	if key == "" {
		return "", "", ErrNoSessionKey
	}
	plaintext, err := json.Marshal(phoneInfo{
		PhoneNumber:     displayNumber(pure, countryCode),
		PurePhoneNumber: pure,
		CountryCode:     countryCode,
		Watermark:       watermark{Timestamp: s.Now().Unix(), AppID: watermarkAppID},
	})
	if err != nil {
		return "", "", err
	}
	return Encrypt(key, plaintext)
}

// displayNumber is WeChat's phoneNumber: the pure number for China (86),
// else "+<cc> <pure>".
func displayNumber(pure, countryCode string) string {
	if countryCode == "86" {
		return pure
	}
	return "+" + countryCode + " " + pure
}

// Encrypt seals plaintext like WeChat with a base64 session_key and a
// random iv: AES-128-CBC with PKCS#7 padding; both results are standard
// base64.
func Encrypt(sessionKeyB64 string, plaintext []byte) (encryptedData, iv string, err error) {
	return encryptWithIV(sessionKeyB64, randomBytes(aes.BlockSize), plaintext)
}

// encryptWithIV is Encrypt with a given iv (16 bytes).
func encryptWithIV(sessionKeyB64 string, iv, plaintext []byte) (encryptedData, ivB64 string, err error) {
	key, err := base64.StdEncoding.DecodeString(sessionKeyB64)
	if err != nil {
		return "", "", fmt.Errorf("fakewx: session_key is not base64: %w", err)
	}
	if len(key) != 16 {
		return "", "", fmt.Errorf("fakewx: session_key is %d bytes, want 16", len(key))
	}
	if len(iv) != aes.BlockSize {
		return "", "", fmt.Errorf("fakewx: iv is %d bytes, want %d", len(iv), aes.BlockSize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", "", err
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	data := append(bytes.Clone(plaintext), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)
	enc := base64.StdEncoding
	return enc.EncodeToString(data), enc.EncodeToString(iv), nil
}
