package baidu

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Baidu's sealing: AES-192-CBC (a 24-byte session_key), PKCS#7 over a
// 32-byte block.
const (
	keyLen   = 24
	padBlock = 32
)

// Open decrypts a Baidu sealed payload (encryptedData, iv, session_key as
// Baidu gives them, base64) and splits its layout: 16 random bytes, a
// big-endian 32-bit length N, N bytes of JSON, then the AppKey of the app
// it was made for. ErrMalformed for input of the wrong form,
// ErrUndecryptable when the key does not open it.
func Open(sessionKey, iv, data string) (payload []byte, appKey string, err error) {
	plain, err := platform.OpenCBC(sessionKey, iv, data, keyLen, padBlock)
	if err != nil {
		return nil, "", err
	}
	if len(plain) < 20 {
		return nil, "", platform.ErrUndecryptable
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, "", platform.ErrUndecryptable
	}
	return plain[20 : 20+n], string(plain[20+n:]), nil
}

// Phone opens {"encryptedData","iv"} with the user's session keys,
// newest first; the trailer must be this app's AppKey (ErrWatermark) and
// the JSON must hold a mobile (ErrNoPhone).
func (c *Client) Phone(_ context.Context, req platform.PhoneRequest) (platform.Phone, error) {
	if req.EncryptedData == "" && req.IV == "" {
		return platform.Phone{}, platform.ErrNoPhoneFlow
	}
	if req.EncryptedData == "" || req.IV == "" {
		return platform.Phone{}, platform.ErrMalformed
	}
	err := platform.ErrUndecryptable
	for _, key := range req.Keys {
		payload, appKey, oerr := Open(key, req.IV, req.EncryptedData)
		if oerr != nil {
			if errors.Is(oerr, platform.ErrMalformed) && !platform.ValidSessionKey(key, sessionKeySize) {
				continue // a stored key of another form: try the next
			}
			if errors.Is(oerr, platform.ErrMalformed) {
				return platform.Phone{}, oerr
			}
			continue
		}
		if appKey != c.appKey {
			return platform.Phone{}, platform.ErrWatermark
		}
		return readPhone(payload)
	}
	return platform.Phone{}, err
}

// readPhone reads {"mobile":"15000000000"}: no country code, no
// watermark.
func readPhone(payload []byte) (platform.Phone, error) {
	var p struct {
		Mobile string `json:"mobile"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return platform.Phone{}, platform.ErrNoPhone
	}
	m := strings.TrimSpace(p.Mobile)
	if !platform.IsDigits(m) {
		return platform.Phone{}, platform.ErrNoPhone
	}
	return platform.Phone{PhoneNumber: m, PurePhoneNumber: m, CountryCode: "86"}, nil
}
