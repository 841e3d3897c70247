package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Phone is a user's phone number as WeChat gives it.
type Phone struct {
	PhoneNumber     string // may carry the country code and spaces: "+1 2025550123"
	PurePhoneNumber string // digits only: "2025550123"
	CountryCode     string // "1", "86"
	// Timestamp is watermark.timestamp: when the user shared the number
	// (pressed the button). Zero when WeChat gave none.
	Timestamp time.Time
}

// Masked returns the number fit for a log line: "138****8000".
func (p Phone) Masked() string { return MaskPhone(p.PurePhoneNumber) }

// MaskPhone keeps the first three and last four digits of a number of
// eight or more, and hides the rest; shorter numbers are hidden whole
// but for the last two.
func MaskPhone(n string) string { return platform.MaskPhone(n) }

// Errors of the phone flows, besides *Error.
var (
	// ErrMalformed: encryptedData, iv or the session_key is not base64 of
	// the right length.
	ErrMalformed = errors.New("encrypted data or iv malformed")
	// ErrUndecryptable: the data does not decrypt to JSON under this key
	// (bad padding, or bytes that are not JSON): a wrong key, iv or data.
	ErrUndecryptable = errors.New("data does not decrypt with the session key")
	// ErrNoPhone: the payload decrypted but holds no phone number (such as
	// wx.getUserInfo data).
	ErrNoPhone = errors.New("payload has no phone number")
	// ErrWatermark: the payload was made for another app.
	ErrWatermark = errors.New("watermark is of another app")
	// ErrStale: the payload's watermark.timestamp is in the future (past
	// the clock skew allowed) or older than the maximum age.
	ErrStale = errors.New("watermark timestamp is in the future or too old")
)

// DefaultWatermarkSkew is how far in the future a watermark.timestamp may
// lie by default: WeChat's clock and this server's may differ a little.
const DefaultWatermarkSkew = 2 * time.Minute

// PhoneCheck says what DecryptPhoneWith checks beyond the decryption.
type PhoneCheck struct {
	// AppID is the app's own: watermark.appid must equal it.
	AppID string
	// MaxAge, when positive, refuses data whose watermark.timestamp is
	// older than that, or missing (ErrStale). 0 accepts any age.
	MaxAge time.Duration
	// Skew is how far in the future watermark.timestamp may be; beyond
	// it the data is refused (ErrStale) whatever MaxAge. 0 means
	// DefaultWatermarkSkew.
	Skew time.Duration
	// Now is the time to check against; time.Now() when zero.
	Now time.Time
}

// checkTime applies c's time bounds to a watermark timestamp (Unix
// seconds, 0 for none).
func (c PhoneCheck) checkTime(ts int64) error {
	if ts <= 0 {
		if c.MaxAge > 0 {
			return ErrStale
		}
		return nil
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	skew := c.Skew
	if skew <= 0 {
		skew = DefaultWatermarkSkew
	}
	at := time.Unix(ts, 0)
	if at.After(now.Add(skew)) || (c.MaxAge > 0 && now.Sub(at) > c.MaxAge) {
		return ErrStale
	}
	return nil
}

// phonePayload is the phone JSON in both flows: phone_info of
// getuserphonenumber and the decrypted getPhoneNumber data.
type phonePayload struct {
	PhoneNumber     string     `json:"phoneNumber"`
	PurePhoneNumber string     `json:"purePhoneNumber"`
	CountryCode     flexString `json:"countryCode"`
	Watermark       *watermark `json:"watermark"`
}

type watermark struct {
	AppID     string `json:"appid"`
	Timestamp int64  `json:"timestamp"`
}

// flexString accepts a JSON string or number: WeChat's countryCode comes
// as "86" in most answers and as 86 in the documentation's example.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	if _, err := strconv.ParseUint(n.String(), 10, 32); err != nil {
		return errors.New("countryCode is not a whole number")
	}
	*f = flexString(n.String())
	return nil
}

// phone checks the payload and returns its phone. A payload without a
// watermark is accepted only from the code flow's answer, which WeChat
// gives over TLS; requireWatermark says whether one must be present.
func (p *phonePayload) phoneChecked(appID string, requireWatermark bool) (Phone, error) {
	pure := strings.TrimSpace(p.PurePhoneNumber)
	if pure == "" || !platform.IsDigits(pure) {
		return Phone{}, ErrNoPhone
	}
	if p.Watermark == nil {
		if requireWatermark {
			return Phone{}, ErrWatermark
		}
	} else if p.Watermark.AppID != appID {
		return Phone{}, ErrWatermark
	}
	cc := strings.TrimPrefix(strings.TrimSpace(string(p.CountryCode)), "+")
	if cc != "" && !platform.IsDigits(cc) {
		return Phone{}, ErrNoPhone
	}
	num := p.PhoneNumber
	if num == "" {
		num = pure
	}
	ph := Phone{PhoneNumber: num, PurePhoneNumber: pure, CountryCode: cc}
	if p.Watermark != nil && p.Watermark.Timestamp > 0 {
		ph.Timestamp = time.Unix(p.Watermark.Timestamp, 0)
	}
	return ph, nil
}

func (p *phonePayload) phone(appID string) (Phone, error) { return p.phoneChecked(appID, false) }

// maxEncryptedSize bounds encryptedData: a phone payload is about 200
// bytes, a user-info payload under 1 KiB.
const maxEncryptedSize = 16 << 10

// Decrypt opens data sealed by WeChat with a user's session_key:
// AES-128-CBC with the given iv, PKCS#7 padding checked and removed. All
// three arguments are standard base64 as WeChat hands them out.
func Decrypt(sessionKey, iv, encryptedData string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil || len(key) != 16 {
		return nil, ErrMalformed
	}
	ivb, err := base64.StdEncoding.DecodeString(iv)
	if err != nil || len(ivb) != aes.BlockSize {
		return nil, ErrMalformed
	}
	if len(encryptedData) > maxEncryptedSize*4/3+4 {
		return nil, ErrMalformed
	}
	data, err := base64.StdEncoding.DecodeString(encryptedData)
	if err != nil || len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, ErrMalformed
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, ErrMalformed
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(plain, data)
	n := int(plain[len(plain)-1])
	if n < 1 || n > aes.BlockSize {
		return nil, ErrUndecryptable
	}
	for _, b := range plain[len(plain)-n:] {
		if int(b) != n {
			return nil, ErrUndecryptable
		}
	}
	plain = plain[:len(plain)-n]
	if !json.Valid(plain) {
		return nil, ErrUndecryptable
	}
	return plain, nil
}

// DecryptPhoneWith opens getPhoneNumber data and returns the phone in
// it. It fails with ErrMalformed, ErrUndecryptable, ErrNoPhone,
// ErrWatermark or ErrStale, with the checks of c: the watermark's
// appid, and its timestamp neither in the future nor older than c.MaxAge
// (ErrStale).
func DecryptPhoneWith(sessionKey, iv, encryptedData string, c PhoneCheck) (Phone, error) {
	plain, err := Decrypt(sessionKey, iv, encryptedData)
	if err != nil {
		return Phone{}, err
	}
	var p phonePayload
	if err := json.Unmarshal(plain, &p); err != nil {
		// valid JSON, but not an object of the expected shape
		return Phone{}, ErrNoPhone
	}
	ph, err := p.phoneChecked(c.AppID, true)
	if err != nil {
		return Phone{}, err
	}
	if err := c.checkTime(p.Watermark.Timestamp); err != nil {
		return Phone{}, err
	}
	return ph, nil
}
