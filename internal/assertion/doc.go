// Package assertion signs a user's identity as a short-lived JWT (JWS
// compact, ES256) that a backend verifies against the published JWK Set,
// so that it need not trust the network in between.
//
// The signing keys live in a shared key-value storage with a lock
// (Storage), so that every process on one storage signs with the same
// keys and a restart keeps them. A Keyring reads them, makes the first,
// rotates them on a schedule under the storage's lock, publishes the
// verifying keys (JWKS), and signs each identity once, reusing the
// assertion from a bounded cache until it has a minute left.
//
// Files, each using only the ones before it: sign.go (the identity, the
// claims, one ES256 key and its JWS), cache.go (the assertions signed
// lately), jwks.go (the JWK Set document), storage.go (the storage and
// the keys' format in it), keyring.go (loading, rotation, signing).
package assertion
