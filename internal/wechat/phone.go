package wechat

import (
	"bytes"
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
	// ErrNoPhone: the payload holds no phone number.
	ErrNoPhone = errors.New("payload has no phone number")
	// ErrWatermark: the payload was made for another app.
	ErrWatermark = errors.New("watermark is of another app")
)

// phonePayload is the phone JSON of getuserphonenumber's phone_info.
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

// phone checks the payload of getuserphonenumber's answer (over TLS: a
// watermark, when there is one, must be the app's) and returns its phone.
func (p *phonePayload) phone(appID string) (Phone, error) {
	pure := strings.TrimSpace(p.PurePhoneNumber)
	if pure == "" || !platform.IsDigits(pure) {
		return Phone{}, ErrNoPhone
	}
	if p.Watermark != nil && p.Watermark.AppID != appID {
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
