package fakealipay

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var writeKeys = flag.Bool("writekeys", false, "write new fixed test keys to keys/")

// TestWriteKeys makes the fixed FAKE keys of keys/ (only with -writekeys).
func TestWriteKeys(t *testing.T) {
	if !*writeKeys {
		t.Skip("run with -args -writekeys to make new fixed test keys")
	}
	for _, name := range []string{KeyAlipay, KeyApp1, KeyApp2} {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := os.WriteFile(filepath.Join("keys", name+".pem"), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKeysDiffer(t *testing.T) {
	a, b, c := TestKey(KeyAlipay), TestKey(KeyApp1), TestKey(KeyApp2)
	if a.Equal(b) || a.Equal(c) || b.Equal(c) || a.N.BitLen() != 2048 {
		t.Fatal("the fixed test keys must be three distinct 2048-bit keys")
	}
}
