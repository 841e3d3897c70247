package platform

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// DefaultWatermarkSkew is how far in the future a payload's timestamp may
// lie: the platform's clock and this server's may differ a little.
const DefaultWatermarkSkew = 2 * time.Minute

// PhoneCheck says what WatermarkedPhone checks of a phone payload.
type PhoneCheck struct {
	// AppID is the app's own: watermark.appid must equal it.
	AppID string
	// RequireWatermark refuses a payload without one (ErrWatermark): the
	// sealed flows must carry it; an answer over TLS need not.
	RequireWatermark bool
	// MaxAge, when positive, refuses a payload whose watermark.timestamp
	// is older, or missing (ErrStale). 0 accepts any age.
	MaxAge time.Duration
	// Now is the time to check against; time.Now() when zero.
	Now time.Time
}

// WatermarkedPhone reads the phone JSON of WeChat's scheme (WeChat, QQ,
// Douyin): {"phoneNumber", "purePhoneNumber", "countryCode" (a string or
// a number), "watermark": {"appid", "timestamp"}}, and applies c.
func WatermarkedPhone(plain []byte, c PhoneCheck) (Phone, error) {
	var p struct {
		PhoneNumber     string          `json:"phoneNumber"`
		PurePhoneNumber string          `json:"purePhoneNumber"`
		CountryCode     json.RawMessage `json:"countryCode"`
		Watermark       *struct {
			AppID     string `json:"appid"`
			Timestamp int64  `json:"timestamp"`
		} `json:"watermark"`
	}
	if err := json.Unmarshal(plain, &p); err != nil {
		return Phone{}, ErrNoPhone
	}
	pure := strings.TrimSpace(p.PurePhoneNumber)
	if !IsDigits(pure) {
		return Phone{}, ErrNoPhone
	}
	var ts int64
	if p.Watermark == nil {
		if c.RequireWatermark {
			return Phone{}, ErrWatermark
		}
	} else {
		if p.Watermark.AppID != c.AppID {
			return Phone{}, ErrWatermark
		}
		ts = p.Watermark.Timestamp
	}
	cc, ok := countryCode(p.CountryCode)
	if !ok {
		return Phone{}, ErrNoPhone
	}
	if err := checkTime(ts, c); err != nil {
		return Phone{}, err
	}
	num := p.PhoneNumber
	if num == "" {
		num = pure
	}
	ph := Phone{PhoneNumber: num, PurePhoneNumber: pure, CountryCode: cc}
	if ts > 0 {
		ph.Timestamp = time.Unix(ts, 0)
	}
	return ph, nil
}

// countryCode reads a countryCode given as a string or a number; "86"
// when there is none.
func countryCode(raw json.RawMessage) (string, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "86", true
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
	} else if _, err := strconv.ParseUint(s, 10, 32); err != nil {
		return "", false
	}
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	if s == "" {
		return "86", true
	}
	return s, IsDigits(s)
}

// checkTime applies c's time bounds to a timestamp (Unix seconds, 0 for
// none).
func checkTime(ts int64, c PhoneCheck) error {
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
	at := time.Unix(ts, 0)
	if at.After(now.Add(DefaultWatermarkSkew)) || (c.MaxAge > 0 && now.Sub(at) > c.MaxAge) {
		return ErrStale
	}
	return nil
}

// IsDigits reports whether s is one or more ASCII digits.
func IsDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// MaskPhone keeps the first three and last four digits of a number of
// eight or more, and hides the rest; shorter numbers are hidden whole but
// for the last two. For log lines.
func MaskPhone(n string) string {
	switch {
	case len(n) >= 8:
		return n[:3] + strings.Repeat("*", len(n)-7) + n[len(n)-4:]
	case len(n) > 2:
		return strings.Repeat("*", len(n)-2) + n[len(n)-2:]
	default:
		return strings.Repeat("*", len(n))
	}
}
