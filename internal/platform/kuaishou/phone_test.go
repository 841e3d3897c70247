package kuaishou

import (
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

func FuzzParsePhone(f *testing.F) {
	f.Add([]byte(`{"countryCode":"86","phoneNumber":"13800138000"}`))
	f.Add([]byte(`{"countryCode":1,"phoneNumber":"555"}`))
	f.Fuzz(func(t *testing.T, plain []byte) {
		ph, err := parsePhone(plain)
		if err == nil && (!platform.IsDigits(ph.PurePhoneNumber) || !platform.IsDigits(ph.CountryCode)) {
			t.Fatalf("accepted %+v from %q", ph, plain)
		}
	})
}
