package kuaishou

import (
	"context"
	"encoding/json"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Phone serves {"encryptedData","iv"}: AES-128-CBC with the session keys,
// newest first; the plaintext is {"countryCode","phoneNumber"}, the number
// digits only (used as the pure number too).
func (c *client) Phone(_ context.Context, req platform.PhoneRequest) (platform.Phone, error) {
	if req.EncryptedData == "" && req.IV == "" {
		return platform.Phone{}, platform.ErrNoPhoneFlow
	}
	plain, err := platform.OpenWithKeys(req.Keys, req.IV, req.EncryptedData, 16, 16)
	if err != nil {
		return platform.Phone{}, err
	}
	return parsePhone(plain)
}

// parsePhone reads Kuaishou's phone plaintext.
func parsePhone(plain []byte) (platform.Phone, error) {
	var p struct {
		PhoneNumber string          `json:"phoneNumber"`
		CountryCode json.RawMessage `json:"countryCode"`
	}
	if json.Unmarshal(plain, &p) != nil || !platform.IsDigits(p.PhoneNumber) {
		return platform.Phone{}, platform.ErrNoPhone
	}
	cc, ok := platform.ParseCountryCode(p.CountryCode)
	if !ok {
		return platform.Phone{}, platform.ErrNoPhone
	}
	return platform.Phone{PhoneNumber: p.PhoneNumber, PurePhoneNumber: p.PhoneNumber, CountryCode: cc}, nil
}
