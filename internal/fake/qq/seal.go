package fakeqq

import (
	"encoding/json"

	"github.com/wechat-auth/wechat_auth/internal/fake/fakekit"
)

// ErrNoSessionKey: the user never logged in, so nothing can be sealed.
var ErrNoSessionKey = fakekit.ErrNoSessionKey

// phonePayload is the sealed phone JSON of WeChat's scheme.
type phonePayload struct {
	PhoneNumber     string    `json:"phoneNumber"`
	PurePhoneNumber string    `json:"purePhoneNumber"`
	CountryCode     string    `json:"countryCode"`
	Watermark       watermark `json:"watermark"`
}

type watermark struct {
	Timestamp int64  `json:"timestamp"`
	AppID     string `json:"appid"`
}

// SealPhone plays the QQ client: it seals a phone payload for the user
// with the user's current session_key, the way qq.getUserInfo data is
// sealed (WeChat's scheme: AES-128-CBC, PKCS#7, base64), watermarked with
// watermarkAppID and the fake's clock.
func (s *Server) SealPhone(appid, openid, pure, countryCode, watermarkAppID string) (encryptedData, iv string, err error) {
	num := pure
	if countryCode != "86" {
		num = "+" + countryCode + " " + pure
	}
	plain, _ := json.Marshal(phonePayload{PhoneNumber: num, PurePhoneNumber: pure, CountryCode: countryCode,
		Watermark: watermark{Timestamp: s.Now().Unix(), AppID: watermarkAppID}})
	return s.Seal(appid, openid, plain)
}

// Seal seals any payload (user info without a phone, say) with the user's
// current session_key and a random iv.
func (s *Server) Seal(appid, openid string, plain []byte) (encryptedData, iv string, err error) {
	keyText, _ := s.SessionKeys(appid, openid)
	if keyText == "" {
		return "", "", ErrNoSessionKey
	}
	return fakekit.SealCBC(keyText, plain)
}
