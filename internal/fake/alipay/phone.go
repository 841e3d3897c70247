package fakealipay

import (
	"crypto/aes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// PhoneVariant says which my.getPhoneNumber answer PhoneAnswer mints.
type PhoneVariant string

// Variants of my.getPhoneNumber's answer.
const (
	PhoneOK            PhoneVariant = "ok"       // code 10000 and the mobile, signed
	PhoneNoSign        PhoneVariant = "nosign"   // no sign (the app set no signing keys)
	PhoneBadSign       PhoneVariant = "badsign"  // a sign that does not verify
	PhoneNotAuthorized PhoneVariant = "40003"    // 40003 isv.invalid-auth-relations, signed
	PhoneWrongAESKey   PhoneVariant = "wrongkey" // sealed with another AES key, signed
)

// PhoneAnswer mints res.response of my.getPhoneNumber for an app: the
// plaintext JSON AES-CBC sealed (zero IV, PKCS#7) with the app's AES key,
// base64; signed over "<b64>" (double quotes included) with the fake
// Alipay key; wrapped in {response, sign, sign_type, encrypt_type,
// charset}. The string is what the mini program hands the server as is.
func (s *Server) PhoneAnswer(appID, mobile string, v PhoneVariant) (string, error) {
	a := s.apps[appID]
	if a == nil {
		return "", fmt.Errorf("fakealipay: unknown app %q", appID)
	}
	plain := map[string]string{"code": "10000", "msg": "Success", "mobile": mobile}
	if v == PhoneNotAuthorized {
		plain = map[string]string{"code": "40003", "msg": "Insufficient Conditions", "subCode": "isv.invalid-auth-relations", "subMsg": "无效的授权关系"}
	}
	text, _ := json.Marshal(plain)
	key := a.aesKey
	if v == PhoneWrongAESKey {
		key = derive("wrong\x00" + appID)[:len(key)]
	}
	sealed, err := platform.SealCBC(key, make([]byte, aes.BlockSize), text, aes.BlockSize)
	if err != nil {
		return "", err
	}
	content := base64.StdEncoding.EncodeToString(sealed)
	out := map[string]string{"response": content, "sign_type": "RSA2", "encrypt_type": "AES", "charset": "UTF-8"}
	switch v {
	case PhoneNoSign:
	case PhoneBadSign:
		out["sign"] = s.sign(`"` + content + `" `)
	default:
		out["sign"] = s.sign(`"` + content + `"`)
	}
	b, _ := json.Marshal(out)
	return string(b), nil
}
