package assertion

// The JWK Set document: the verifying keys as a backend fetches them.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
)

// JWKSMaxAge is how long a client may cache the JWK Set, in seconds. A
// new key is published keyActivationDelay before it signs, longer than
// this plus keyRefreshInterval, so a cached set always knows the signer.
const JWKSMaxAge = 300

// JWKS is a published JWK Set (RFC 7517): its JSON and its entity tag.
type JWKS struct {
	body []byte
	etag string
}

// JSON is the document: {"keys": [...]}, public keys only.
func (s *JWKS) JSON() []byte { return s.body }

// ETag is the document's entity tag, quoted.
func (s *JWKS) ETag() string { return s.etag }

// jwk is one published key (RFC 7517, 7518).
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

func newJWKS(keys []*signingKey) JWKS {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, jwk{Kty: "EC", Crv: "P-256", X: k.x, Y: k.y, Kid: k.kid, Use: "sig", Alg: "ES256"})
	}
	body, _ := json.Marshal(set)
	sum := sha256.Sum256(body)
	return JWKS{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}
