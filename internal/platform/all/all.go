// Package all imports every platform of internal/platform, each of which
// registers itself: import it (blank) to have them all.
package all

import (
	_ "github.com/wechat-auth/wechat_auth/internal/platform/alipay"
	_ "github.com/wechat-auth/wechat_auth/internal/platform/baidu"
	_ "github.com/wechat-auth/wechat_auth/internal/platform/douyin"
	_ "github.com/wechat-auth/wechat_auth/internal/platform/kuaishou"
	_ "github.com/wechat-auth/wechat_auth/internal/platform/qq"
	_ "github.com/wechat-auth/wechat_auth/internal/platform/wechat"
)
