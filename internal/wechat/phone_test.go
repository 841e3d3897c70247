package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// WeChat's published test vector (shared/official-vector.txt).
const (
	vectorAppID = "wx4f4bc4dec97d474b"
	vectorKey   = "tiihtNczf5v6AKRyjwEUhQ=="
	vectorIV    = "r7BXXKkLb8qrSNn05n0qiA=="
	vectorData  = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
)

func TestDecryptOfficialVector(t *testing.T) {
	plain, err := Decrypt(vectorKey, vectorIV, vectorData)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	var p struct {
		OpenID    string `json:"openId"`
		Watermark struct {
			AppID     string `json:"appid"`
			Timestamp int64  `json:"timestamp"`
		} `json:"watermark"`
	}
	if err := json.Unmarshal(plain, &p); err != nil {
		t.Fatalf("plaintext is not JSON: %v", err)
	}
	if p.OpenID != "oGZUI0egBJY1zhBYw2KhdUfwVJJE" || p.Watermark.AppID != vectorAppID || p.Watermark.Timestamp != 1477314187 {
		t.Errorf("decrypted %+v", p)
	}
	// it is user-info data: as a phone payload it must be refused
	if _, err := DecryptPhone(vectorKey, vectorIV, vectorData, vectorAppID); !errors.Is(err, ErrNoPhone) {
		t.Errorf("DecryptPhone(vector) = %v, want ErrNoPhone", err)
	}
	if _, err := DecryptPhone(vectorKey, vectorIV, vectorData, "wxsomeotherapp"); !errors.Is(err, ErrNoPhone) && !errors.Is(err, ErrWatermark) {
		t.Errorf("DecryptPhone(vector, other app) = %v", err)
	}
}

// seal is an independent PKCS#7 + AES-128-CBC sealer for the tests.
func seal(t testing.TB, key, iv []byte, plain []byte) string {
	n := aes.BlockSize - len(plain)%aes.BlockSize
	plain = append(append([]byte{}, plain...), bytes.Repeat([]byte{byte(n)}, n)...)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

var (
	testKey = bytes.Repeat([]byte{7}, 16)
	testIV  = bytes.Repeat([]byte{9}, 16)
	key64   = base64.StdEncoding.EncodeToString(testKey)
	iv64    = base64.StdEncoding.EncodeToString(testIV)
)

func TestDecryptPhone(t *testing.T) {
	const app = "wxapp"
	cases := []struct {
		name    string
		payload string
		want    Phone
		err     error
	}{
		{"mainland", `{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86","watermark":{"appid":"wxapp","timestamp":1}}`,
			Phone{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}, nil},
		{"numeric country code", `{"phoneNumber":"+1 2025550123","purePhoneNumber":"2025550123","countryCode":1,"watermark":{"appid":"wxapp","timestamp":1}}`,
			Phone{PhoneNumber: "+1 2025550123", PurePhoneNumber: "2025550123", CountryCode: "1"}, nil},
		{"other app", `{"purePhoneNumber":"13800138000","countryCode":"86","watermark":{"appid":"wxevil","timestamp":1}}`, Phone{}, ErrWatermark},
		{"no watermark", `{"purePhoneNumber":"13800138000","countryCode":"86"}`, Phone{}, ErrWatermark},
		{"no phone", `{"nickName":"x","watermark":{"appid":"wxapp","timestamp":1}}`, Phone{}, ErrNoPhone},
		{"empty phone", `{"purePhoneNumber":"","watermark":{"appid":"wxapp","timestamp":1}}`, Phone{}, ErrNoPhone},
		{"not digits", `{"purePhoneNumber":"13800<b>","watermark":{"appid":"wxapp","timestamp":1}}`, Phone{}, ErrNoPhone},
		{"array", `[1,2]`, Phone{}, ErrNoPhone},
		{"not json", `hello there`, Phone{}, ErrUndecryptable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := seal(t, testKey, testIV, []byte(c.payload))
			got, err := DecryptPhone(key64, iv64, data, app)
			if err == nil && !got.Timestamp.Equal(time.Unix(1, 0)) {
				t.Errorf("Timestamp %v, want the watermark's", got.Timestamp)
			}
			got.Timestamp = time.Time{}
			if !errors.Is(err, c.err) || got != c.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, err, c.want, c.err)
			}
		})
	}
}

func TestDecryptRefusesBadInput(t *testing.T) {
	good := seal(t, testKey, testIV, []byte(`{"purePhoneNumber":"1","watermark":{"appid":"a"}}`))
	raw, _ := base64.StdEncoding.DecodeString(good)
	tampered := append([]byte{}, raw...)
	tampered[len(tampered)-1] ^= 0x55
	otherKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 16))
	cases := []struct {
		name, key, iv, data string
		err                 error
	}{
		{"key not base64", "!!!", iv64, good, ErrMalformed},
		{"key too short", base64.StdEncoding.EncodeToString([]byte("short")), iv64, good, ErrMalformed},
		{"iv not base64", key64, "%%%", good, ErrMalformed},
		{"iv of 8 bytes", key64, base64.StdEncoding.EncodeToString(make([]byte, 8)), good, ErrMalformed},
		{"data not base64", key64, iv64, "not base64!", ErrMalformed},
		{"data empty", key64, iv64, "", ErrMalformed},
		{"data not whole blocks", key64, iv64, base64.StdEncoding.EncodeToString(raw[:len(raw)-3]), ErrMalformed},
		{"data huge", key64, iv64, strings.Repeat("A", 64<<10), ErrMalformed},
		{"wrong key", otherKey, iv64, good, ErrUndecryptable},
		{"tampered last block", key64, iv64, base64.StdEncoding.EncodeToString(tampered), ErrUndecryptable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Decrypt(c.key, c.iv, c.data); !errors.Is(err, c.err) {
				t.Errorf("err = %v, want %v", err, c.err)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000": "138****8000",
		"2025550123":  "202***0123",
		"12345678":    "123*5678",
		"1234567":     "*****67",
		"12":          "**",
		"":            "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDecryptPhone: any input gives a phone or one of the package's
// errors, never a panic; a phone has digits only.
func FuzzDecryptPhone(f *testing.F) {
	f.Add(vectorKey, vectorIV, vectorData, vectorAppID)
	f.Add(key64, iv64, seal(f, testKey, testIV, []byte(`{"purePhoneNumber":"13800138000","countryCode":86,"watermark":{"appid":"a"}}`)), "a")
	f.Add(key64, iv64, "AAAAAAAAAAAAAAAAAAAAAA==", "a")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, key, iv, data, app string) {
		p, err := DecryptPhone(key, iv, data, app)
		if err != nil {
			for _, known := range []error{ErrMalformed, ErrUndecryptable, ErrNoPhone, ErrWatermark, ErrStale} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("unexpected error %v", err)
		}
		if !platform.IsDigits(p.PurePhoneNumber) || (p.CountryCode != "" && !platform.IsDigits(p.CountryCode)) {
			t.Fatalf("accepted phone %+v", p)
		}
	})
}

// FuzzSealedPhonePayload: arbitrary plaintexts sealed with a known key:
// the payload parser must refuse or accept cleanly.
func FuzzSealedPhonePayload(f *testing.F) {
	f.Add([]byte(`{"purePhoneNumber":"13800138000","countryCode":"86","watermark":{"appid":"a"}}`))
	f.Add([]byte(`{"purePhoneNumber":13800138000}`))
	f.Add([]byte(`{"countryCode":{"x":1}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, plain []byte) {
		data := seal(t, testKey, testIV, plain)
		p, err := DecryptPhone(key64, iv64, data, "a")
		if err == nil && (!platform.IsDigits(p.PurePhoneNumber) || !json.Valid(plain)) {
			t.Fatalf("accepted %+v from %q", p, plain)
		}
	})
}

// watermark.timestamp: never in the future beyond the skew; older than
// MaxAge refused only when MaxAge is set.
func TestDecryptPhoneTimestamp(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	sealAt := func(ts int64) string {
		return seal(t, testKey, testIV, []byte(fmt.Sprintf(
			`{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86","watermark":{"appid":"wxapp","timestamp":%d}}`, ts)))
	}
	noTS := seal(t, testKey, testIV, []byte(`{"purePhoneNumber":"13800138000","countryCode":"86","watermark":{"appid":"wxapp"}}`))
	at := func(d time.Duration) string { return sealAt(now.Add(d).Unix()) }
	cases := []struct {
		name   string
		data   string
		maxAge time.Duration
		err    error
	}{
		{"now", at(0), 0, nil},
		{"a year old, any age", at(-365 * 24 * time.Hour), 0, nil},
		{"within the skew", at(DefaultWatermarkSkew - time.Second), 0, nil},
		{"in the future", at(DefaultWatermarkSkew + time.Second), 0, ErrStale},
		{"far in the future, with max age", at(24 * time.Hour), time.Hour, ErrStale},
		{"younger than max age", at(-59 * time.Minute), time.Hour, nil},
		{"older than max age", at(-61 * time.Minute), time.Hour, ErrStale},
		{"no timestamp, any age", noTS, 0, nil},
		{"no timestamp, with max age", noTS, time.Hour, ErrStale},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := DecryptPhoneWith(key64, iv64, c.data, PhoneCheck{AppID: "wxapp", MaxAge: c.maxAge, Now: now})
			if !errors.Is(err, c.err) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if err == nil && p.PurePhoneNumber != "13800138000" {
				t.Errorf("phone %+v", p)
			}
		})
	}
	// a wider skew
	if _, err := DecryptPhoneWith(key64, iv64, at(10*time.Minute), PhoneCheck{AppID: "wxapp", Skew: 15 * time.Minute, Now: now}); err != nil {
		t.Errorf("skew 15m: %v", err)
	}
	// the appid is still checked first
	if _, err := DecryptPhoneWith(key64, iv64, at(0), PhoneCheck{AppID: "wxother", Now: now}); !errors.Is(err, ErrWatermark) {
		t.Errorf("other app: %v", err)
	}
	// DecryptPhone checks against the real clock
	if _, err := DecryptPhone(key64, iv64, sealAt(time.Now().Add(time.Hour).Unix()), "wxapp"); !errors.Is(err, ErrStale) {
		t.Errorf("DecryptPhone, an hour ahead: %v", err)
	}
}
