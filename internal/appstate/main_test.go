package appstate

import (
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/testharness"
)

func TestMain(m *testing.M) { testharness.Main(m) }
