package assertion

// Where the keys live: the storage they are shared through, and their
// format there.

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"
)

// StorageKey is where the keys live in the storage: a JSON object
// {"keys": [...]} with each private key as PKCS#8 PEM.
const StorageKey = "wechat_auth/assertion/keys.json"

// Storage is what the keys are kept in and shared through: a key-value
// store with a lock that every process using it sees (certmagic.Storage
// is one).
type Storage interface {
	// Load returns the value at key, or an error that is (errors.Is)
	// fs.ErrNotExist if there is none.
	Load(ctx context.Context, key string) ([]byte, error)
	Store(ctx context.Context, key string, value []byte) error
	// Lock waits until it holds the lock name, shared with every
	// process on the storage; Unlock releases it.
	Lock(ctx context.Context, name string) error
	Unlock(ctx context.Context, name string) error
}

// storageRef holds a Storage in an atomic.Pointer.
type storageRef struct{ Storage }

// storageName names a storage in a message: its String if it has one,
// else its type.
func storageName(st Storage) string {
	if s, ok := st.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", st)
}

// storedKeys is the value at StorageKey.
type storedKeys struct {
	Keys []storedKey `json:"keys"`
}

type storedKey struct {
	KID        string    `json:"kid"`
	Created    time.Time `json:"created"`
	SignFrom   time.Time `json:"sign_from"`
	PrivateKey string    `json:"private_key"` // PKCS#8, PEM
}

func marshalKeys(keys []*signingKey) ([]byte, error) {
	var s storedKeys
	for _, k := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			return nil, fmt.Errorf("encoding key %s: %v", k.kid, err)
		}
		s.Keys = append(s.Keys, storedKey{
			KID: k.kid, Created: k.created, SignFrom: k.signFrom,
			PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		})
	}
	return json.MarshalIndent(s, "", "\t")
}

// readKeys loads the keys from the storage: none if it holds none.
func readKeys(ctx context.Context, st Storage) ([]*signingKey, error) {
	raw, err := st.Load(ctx, StorageKey)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", StorageKey, err)
	}
	return parseKeys(raw)
}

func parseKeys(raw []byte) ([]*signingKey, error) {
	var s storedKeys
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s is not a key set: %v", StorageKey, err)
	}
	var keys []*signingKey
	for i, sk := range s.Keys {
		block, _ := pem.Decode([]byte(sk.PrivateKey))
		if block == nil || block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("%s: key %d (kid %q): private_key is not a PEM PRIVATE KEY block", StorageKey, i, sk.KID)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: key %d (kid %q): %v", StorageKey, i, sk.KID, err)
		}
		priv, ok := parsed.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: key %d (kid %q): a %T, want an ECDSA P-256 key", StorageKey, i, sk.KID, parsed)
		}
		k, err := newSigningKey(priv, sk.Created, sk.SignFrom)
		if err != nil {
			return nil, fmt.Errorf("%s: key %d (kid %q): %v", StorageKey, i, sk.KID, err)
		}
		if k.kid != sk.KID {
			return nil, fmt.Errorf("%s: key %d: kid %q does not match its key (thumbprint %s)", StorageKey, i, sk.KID, k.kid)
		}
		keys = append(keys, k)
	}
	slices.SortStableFunc(keys, newestFirst)
	return keys, nil
}
