package douyin

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Phone serves {"code"} (with app_private_key) and {"encryptedData","iv"}.
// A button callback may carry both: the code wins when the key is
// configured, else the sealed data; a code alone without the key is
// ErrNoPhoneFlow.
func (c *client) Phone(ctx context.Context, req platform.PhoneRequest) (platform.Phone, error) {
	switch {
	case req.Code != "" && c.key != nil:
		return c.phoneByCode(ctx, req.Code)
	case req.EncryptedData != "" || req.IV != "":
		plain, err := platform.OpenWithKeys(req.Keys, req.IV, req.EncryptedData, 16, 16)
		if err != nil {
			return platform.Phone{}, err
		}
		return platform.WatermarkedPhone(plain, platform.PhoneCheck{
			AppID: c.appID, RequireWatermark: true, MaxAge: c.phoneMaxAge, Now: c.now(),
		})
	}
	return platform.Phone{}, platform.ErrNoPhoneFlow
}

// phoneAnswer is get_phonenumber_info's answer. The message is err_msg in
// the open.douyin.com docs and err_tips in some SDKs' tests: both are read.
type phoneAnswer struct {
	ErrNo   *int            `json:"err_no"`
	ErrMsg  string          `json:"err_msg"`
	ErrTips string          `json:"err_tips"`
	Data    json.RawMessage `json:"data"`
}

// phoneByCode redeems a phone button's code at POST {open host}
// /api/apps/v1/get_phonenumber_info/ with the client_token in the
// access-token header; a token Douyin calls dead is dropped and the call
// made once more with a fresh one.
func (c *client) phoneByCode(ctx context.Context, code string) (platform.Phone, error) {
	body, _ := json.Marshal(map[string]string{"code": code})
	var ans phoneAnswer
	err := c.tokens.Do(ctx, func(token string) error {
		ans = phoneAnswer{}
		h := http.Header{"Access-Token": {token}}
		if err := c.postJSON(ctx, EndpointPhone, c.openBase, PathPhone, h, body, &ans); err != nil {
			return err
		}
		if ans.ErrNo == nil {
			return c.caller.BadAnswer(EndpointPhone, http.StatusOK, errors.New("answer without err_no"))
		}
		if *ans.ErrNo != 0 {
			msg := ans.ErrMsg
			if msg == "" {
				msg = ans.ErrTips
			}
			return apiError(EndpointPhone, *ans.ErrNo, msg)
		}
		return nil
	})
	if err != nil {
		return platform.Phone{}, err
	}
	sealed, ok := sealedData(ans.Data)
	if !ok {
		return platform.Phone{}, c.caller.BadAnswer(EndpointPhone, http.StatusOK, errors.New("data is not base64 text"))
	}
	plain, err := c.openRSA(sealed)
	if err != nil {
		return platform.Phone{}, err
	}
	// An answer over TLS need not carry a watermark; one that does must
	// name this app. Its age is the code's business (5 minutes, single use).
	return platform.WatermarkedPhone(plain, platform.PhoneCheck{AppID: c.appID, Now: c.now()})
}

// sealedData reads data as a base64 string, or (defensively, as one
// client does) an object {"encrypted_data"}, and decodes it.
func sealedData(raw json.RawMessage) ([]byte, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var obj struct {
			EncryptedData string `json:"encrypted_data"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			return nil, false
		}
		s = obj.EncryptedData
	}
	if s == "" || len(s) > platform.MaxSealedSize {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	return b, err == nil
}

// openRSA decrypts RSAES-PKCS1-v1_5 ciphertext of one or more blocks of
// the key's size (Douyin seals a long plaintext block by block). A
// ciphertext that does not fit the key or does not decrypt says that the
// console holds another public key: KindConfig.
func (c *client) openRSA(sealed []byte) ([]byte, error) {
	k := c.key.Size()
	fail := func(why string) error {
		return &platform.Error{Platform: Name, Endpoint: EndpointPhone, Kind: platform.KindConfig,
			Action: actionKey, Err: errors.New(why)}
	}
	if len(sealed) == 0 || len(sealed)%k != 0 {
		return nil, fail("data is not a whole number of RSA blocks of app_private_key's size")
	}
	var plain []byte
	for off := 0; off < len(sealed); off += k {
		p, err := rsa.DecryptPKCS1v15(rand.Reader, c.key, sealed[off:off+k])
		if err != nil {
			return nil, fail("data does not decrypt with app_private_key")
		}
		plain = append(plain, p...)
	}
	return plain, nil
}
