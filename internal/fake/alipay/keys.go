package fakealipay

import (
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"fmt"
)

// The keys under keys/ are FAKE, PUBLIC and for tests and demos only:
// RSA-2048 keys made once by TestWriteKeys (go test -run TestWriteKeys
// -args -writekeys), kept fixed because making 2048-bit keys is slow
// under -race. Nothing real is ever signed with them.
//
//go:embed keys/*.pem
var keyFiles embed.FS

// Fixed test keys: the fake Alipay's own key, and two app keys.
const (
	KeyAlipay = "alipay"
	KeyApp1   = "app1"
	KeyApp2   = "app2"
)

// TestKeyPEM is the PEM (PKCS#8) of a fixed fake private key: KeyAlipay,
// KeyApp1 or KeyApp2.
func TestKeyPEM(name string) string {
	b, err := keyFiles.ReadFile("keys/" + name + ".pem")
	if err != nil {
		panic("fakealipay: no test key " + name)
	}
	return string(b)
}

// TestKey is TestKeyPEM parsed.
func TestKey(name string) *rsa.PrivateKey {
	b, _ := pem.Decode([]byte(TestKeyPEM(name)))
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		panic(fmt.Sprintf("fakealipay: test key %s: %v", name, err))
	}
	return k.(*rsa.PrivateKey)
}

// PublicKeyPEM is the PKIX PEM of a key's public half, as Alipay's console
// shows a public key (with the PEM armour).
func PublicKeyPEM(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
