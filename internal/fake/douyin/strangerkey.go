package fakedouyin

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

// strangers are RSA keys of no app, by size in bytes, for "badseal-"
// codes: made once (a 2048-bit key takes a while under -race).
var strangers sync.Map

func strangerKey(size int) *rsa.PublicKey {
	if k, ok := strangers.Load(size); ok {
		return k.(*rsa.PublicKey)
	}
	priv, err := rsa.GenerateKey(rand.Reader, size*8)
	if err != nil {
		panic("fakedouyin: " + err.Error())
	}
	k, _ := strangers.LoadOrStore(size, &priv.PublicKey)
	return k.(*rsa.PublicKey)
}
