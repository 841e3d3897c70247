package douyin

import (
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// TestKindOf covers the error numbers the fake does not send.
func TestKindOf(t *testing.T) {
	for code, want := range map[int]platform.Kind{
		ErrNoBadParams: platform.KindRefused, ErrNoBadAnonymousCode: platform.KindInvalidCode,
		TokenUnknownKey2: platform.KindConfig, TokenBadSecret2: platform.KindConfig, TokenBadParams2: platform.KindRefused,
		TokenBadParams: platform.KindRefused, OpenBadParams: platform.KindRefused, OpenNoAbility: platform.KindConfig,
		OpenAppBanned: platform.KindConfig, OpenQuotaUsed: platform.KindConfig, OldBusy: platform.KindBusy,
		OpenTokenInvalid: platform.KindConfig, 12345: platform.KindRefused,
	} {
		kind, action := kindOf(code)
		if kind != want || (kind == platform.KindConfig) != (action != "") {
			t.Errorf("%d: %v %q, want %v", code, kind, action, want)
		}
	}
}
