package fakebaidu

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Seal seals payload as Baidu does for an app: 16 random bytes ‖ BE32
// len(payload) ‖ payload ‖ appKey, PKCS#7 padded to a multiple of 32,
// AES-192-CBC with the session key and a random iv. Everything base64.
func Seal(sessionKey, appKey string, payload []byte) (encryptedData, iv string, err error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil || len(key) != 24 {
		return "", "", errors.New("fakebaidu: a session key is base64 of 24 bytes")
	}
	plain := append(randomFiller(), make([]byte, 4)...)
	binary.BigEndian.PutUint32(plain[16:], uint32(len(payload)))
	plain = append(append(plain, payload...), appKey...)
	ivb := randomBytes(16)
	sealed, err := platform.SealCBC(key, ivb, plain, 32)
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(sealed), base64.StdEncoding.EncodeToString(ivb), nil
}

// randomFiller is 16 random ASCII letters and digits, as in Baidu's vector.
func randomFiller() []byte {
	const chars = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := randomBytes(16)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return b
}

// SealPhone seals {"mobile":…} for a user of an app with the user's
// newest session key (the user must have logged in). trailerApp, when
// not "", is sealed as the AppKey instead (a payload for another app).
func (s *Server) SealPhone(appKey, user, mobile, trailerApp string) (encryptedData, iv string, err error) {
	keys := s.SessionKeys(appKey, OpenID(appKey, user))
	if len(keys) == 0 {
		return "", "", errors.New("fakebaidu: the user has not logged in to the app")
	}
	if trailerApp == "" {
		trailerApp = appKey
	}
	payload, _ := json.Marshal(map[string]string{"mobile": mobile})
	return Seal(keys[0], trailerApp, payload)
}
