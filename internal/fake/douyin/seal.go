package fakedouyin

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
)

// SealRSA is what Douyin does to a phone answer: RSA PKCS#1 v1.5 under
// the app public key, block by block (k-11 bytes of plaintext each), the
// blocks concatenated, base64.
func SealRSA(pub *rsa.PublicKey, plain []byte) (string, error) {
	if pub == nil {
		return "", errors.New("no public key")
	}
	step := pub.Size() - 11
	var out []byte
	for off := 0; off < len(plain); off += step {
		ct, err := rsa.EncryptPKCS1v15(rand.Reader, pub, plain[off:min(off+step, len(plain))])
		if err != nil {
			return "", err
		}
		out = append(out, ct...)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}
