package platform

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
)

// MaxSealedSize bounds sealed data (base64 text): a phone payload is
// about 200 bytes, a user-info payload under 1 KiB.
const MaxSealedSize = 24 << 10

// OpenCBC decrypts AES-CBC data sealed with a user's session key (every
// argument standard base64 as the platform hands it out; the key's length
// picks AES-128, -192 or -256) and checks and strips PKCS#7 padding whose
// block is padBlock bytes (16 on WeChat and most; 32 on Baidu): the last
// byte n is 1..padBlock and the last n bytes all equal n. Malformed input
// is ErrMalformed, a wrong key or iv (bad padding) ErrUndecryptable.
func OpenCBC(key, iv, data string, keyLen, padBlock int) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(k) != keyLen {
		return nil, ErrMalformed
	}
	ivb, err := base64.StdEncoding.DecodeString(iv)
	if err != nil || len(ivb) != aes.BlockSize {
		return nil, ErrMalformed
	}
	if len(data) > MaxSealedSize {
		return nil, ErrMalformed
	}
	sealed, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, ErrMalformed
	}
	return DecryptCBC(k, ivb, sealed, padBlock)
}

// DecryptCBC is OpenCBC on raw bytes.
func DecryptCBC(key, iv, sealed []byte, padBlock int) ([]byte, error) {
	if len(sealed) == 0 || len(sealed)%aes.BlockSize != 0 || len(iv) != aes.BlockSize {
		return nil, ErrMalformed
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, ErrMalformed
	}
	plain := make([]byte, len(sealed))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, sealed)
	n := int(plain[len(plain)-1])
	if n < 1 || n > padBlock || n > len(plain) {
		return nil, ErrUndecryptable
	}
	for _, b := range plain[len(plain)-n:] {
		if int(b) != n {
			return nil, ErrUndecryptable
		}
	}
	return plain[:len(plain)-n], nil
}

// SealCBC is the inverse of DecryptCBC, for fakes and tests: PKCS#7 to a
// multiple of padBlock, then AES-CBC.
func SealCBC(key, iv, plain []byte, padBlock int) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	n := padBlock - len(plain)%padBlock
	buf := make([]byte, len(plain)+n)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(n)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	return buf, nil
}

// errKey is what a key that does not parse says; it never holds the key.
var errKey = errors.New("not an RSA key: want PEM (PKCS#1 or PKCS#8; PKIX for a public key) or the bare base64 the console shows")

// ParseRSAPrivateKey reads an RSA private key given as PEM (PKCS#1
// "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY") or as the bare base64 of
// its DER (either form), as Alipay's and Douyin's consoles show it.
func ParseRSAPrivateKey(text string) (*rsa.PrivateKey, error) {
	der, err := keyDER(text)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
	}
	return nil, errKey
}

// ParseRSAPublicKey reads an RSA public key given as PEM (PKIX "PUBLIC
// KEY" or PKCS#1 "RSA PUBLIC KEY") or as the bare base64 of its DER.
func ParseRSAPublicKey(text string) (*rsa.PublicKey, error) {
	der, err := keyDER(text)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
	}
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, nil
	}
	return nil, errKey
}

// keyDER is the DER inside a PEM block, or the bare base64 decoded.
func keyDER(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "-----BEGIN") {
		// A PEM pasted into a Caddyfile or an env var may have its line
		// breaks written as \n.
		text = strings.ReplaceAll(text, `\n`, "\n")
		b, _ := pem.Decode([]byte(text))
		if b == nil {
			return nil, errKey
		}
		return b.Bytes, nil
	}
	compact := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, text)
	der, err := base64.StdEncoding.DecodeString(compact)
	if err != nil || len(der) == 0 {
		return nil, errKey
	}
	return der, nil
}
