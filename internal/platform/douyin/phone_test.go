package douyin

import (
	"encoding/json"
	"testing"

	fakedouyin "github.com/wechat-auth/wechat_auth/internal/fake/douyin"
)

// FuzzPhoneData feeds get_phonenumber_info's data through its decoding
// and decryption: refusals, never a panic, and nothing opens but what
// was sealed for the key.
func FuzzPhoneData(f *testing.F) {
	c := &client{appID: "tt5daf2b12c2857910", key: fakedouyin.TestPrivateKey()}
	sealed, _ := fakedouyin.SealRSA(&c.key.PublicKey, []byte(`{"purePhoneNumber":"1"}`))
	raw, _ := json.Marshal(sealed)
	f.Add(raw)
	f.Add([]byte(`{"encrypted_data":"AAAA"}`))
	f.Add([]byte(`""`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, ok := sealedData(raw)
		if !ok {
			return
		}
		if p, err := c.openRSA(b); err == nil && len(p) == 0 && len(b) == 0 {
			t.Fatal("opened nothing")
		}
	})
}
