package fakedouyin

import (
	"crypto/rsa"
	_ "embed"
	"sync"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// TestPrivateKeyPEM is a fixed 2048-bit RSA key pair (PKCS#8 PEM) for
// tests and the demo: its public half is what TestApp carries, its
// private half what app_private_key is set to. Never use it for a real app.
//
//go:embed testdata/app_key.pem
var TestPrivateKeyPEM string

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := platform.ParseRSAPrivateKey(TestPrivateKeyPEM)
	if err != nil {
		panic("fakedouyin: the test key does not parse: " + err.Error())
	}
	return k
})

// TestPrivateKey is TestPrivateKeyPEM parsed.
func TestPrivateKey() *rsa.PrivateKey { return testKey() }
