package assertion

// Signing an assertion: what it says (Identity, claims), the ES256 key and
// the JWS it makes. Knows nothing of the Keyring or the cache.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

const (
	// assertionLifetime: exp - iat of every assertion.
	assertionLifetime = 5 * time.Minute
	// assertionRenewBefore: a cached assertion with less than this left
	// is signed anew, so a backend always gets one with a minute to go.
	assertionRenewBefore = time.Minute
)

// Identity is what an assertion says. The cache holds one assertion per
// identity: two sessions of one user share it, a bound phone changes it.
type Identity struct {
	AppID, Platform, OpenID, UnionID, Phone, PhoneCountry string
}

// claims are the assertion's payload.
type claims struct {
	Sub          string `json:"sub"`
	AppID        string `json:"appid"`
	Platform     string `json:"platform"`
	UnionID      string `json:"unionid,omitempty"`
	Phone        string `json:"phone,omitempty"`
	PhoneCountry string `json:"phone_country,omitempty"`
	IssuedAt     int64  `json:"iat"`
	Expires      int64  `json:"exp"`
}

// sign makes the JWS compact serialization of id's claims, signed at now:
// header.payload.signature, ES256 (the signature is r || s, 32 bytes
// each, as RFC 7518 section 3.4 wants, not ASN.1).
func (key *signingKey) sign(id *Identity, now time.Time) (string, error) {
	c := claims{Sub: id.OpenID, AppID: id.AppID, Platform: id.Platform, UnionID: id.UnionID,
		IssuedAt: now.Unix(), Expires: now.Add(assertionLifetime).Unix()}
	if id.Phone != "" {
		c.Phone, c.PhoneCountry = id.Phone, id.PhoneCountry
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding
	buf := make([]byte, 0, len(key.header)+b64.EncodedLen(len(payload))+1+b64.EncodedLen(64))
	buf = append(buf, key.header...)
	buf = b64.AppendEncode(buf, payload)
	digest := sha256.Sum256(buf)
	r, s, err := ecdsa.Sign(rand.Reader, key.priv, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing with key %s: %v", key.kid, err)
	}
	var sig [64]byte
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig[:])
	return string(buf), nil
}

// signingKey is one ES256 key.
type signingKey struct {
	kid      string // RFC 7638 thumbprint
	created  time.Time
	signFrom time.Time
	priv     *ecdsa.PrivateKey
	header   string // base64url of the JWS header, and "."
	x, y     string // base64url of the public point's coordinates
}

// newestFirst orders keys by when they begin signing, the latest first.
func newestFirst(a, b *signingKey) int { return b.signFrom.Compare(a.signFrom) }

func generateKey(created, signFrom time.Time) (*signingKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a P-256 key: %v", err)
	}
	return newSigningKey(priv, created, signFrom)
}

func newSigningKey(priv *ecdsa.PrivateKey, created, signFrom time.Time) (*signingKey, error) {
	if priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("a key on curve %s, want P-256", priv.Curve.Params().Name)
	}
	point, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil || len(point) != 65 {
		return nil, fmt.Errorf("encoding the public key: %v", err)
	}
	b64 := base64.RawURLEncoding
	k := &signingKey{
		created: created.UTC(), signFrom: signFrom.UTC(), priv: priv,
		x: b64.EncodeToString(point[1:33]), y: b64.EncodeToString(point[33:]),
	}
	// RFC 7638: the required members, in lexical order, no whitespace
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + k.x + `","y":"` + k.y + `"}`))
	k.kid = b64.EncodeToString(sum[:])
	k.header = b64.EncodeToString([]byte(`{"alg":"ES256","kid":"`+k.kid+`","typ":"JWT"}`)) + "."
	return k, nil
}
