package alipay

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"sort"
	"strings"
)

// SignContent is the text an RSA2 signature of a gateway request covers:
// every parameter but sign with a non-empty value, sorted by key (byte
// order), written key=value with the raw (not URL-encoded) value and
// joined with '&'. sign_type stays in.
func SignContent(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "sign" || len(v) == 0 || v[0] == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params.Get(k))
	}
	return b.String()
}

// signRSA2 is SHA256withRSA (PKCS#1 v1.5) of text, standard base64.
func signRSA2(key *rsa.PrivateKey, text []byte) (string, error) {
	sum := sha256.Sum256(text)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// verifyRSA2 reports whether sign (standard base64) is Alipay's
// SHA256withRSA signature of text.
func verifyRSA2(key *rsa.PublicKey, text []byte, sign string) bool {
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sign))
	if err != nil || len(sig) == 0 {
		return false
	}
	sum := sha256.Sum256(text)
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) == nil
}

// topLevel splits a JSON object into its members, each value as the
// exact bytes it has in body (no re-serialization: the signature covers
// those bytes, escapes included). The JSON tokenizer finds where each
// value ends, so braces inside strings do not fool it. Keys match
// exactly (encoding/json's struct decoding would match them regardless
// of case); a key given twice makes the body unusable.
func topLevel(body []byte) (map[string][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("answer is not a JSON object")
	}
	members := map[string][]byte{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, errors.New("answer is not valid JSON")
		}
		key, _ := t.(string)
		start := dec.InputOffset()
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, errors.New("answer is not valid JSON")
		}
		raw := bytes.TrimLeft(body[start:dec.InputOffset()], " \t\r\n:")
		if _, dup := members[key]; dup {
			return nil, errors.New("answer repeats the key " + key)
		}
		members[key] = raw
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, errors.New("answer is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("answer has data after its JSON object")
	}
	return members, nil
}

// jsonString decodes raw as a JSON string; ok is false when it is none.
func jsonString(raw []byte) (s string, ok bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	return s, json.Unmarshal(raw, &s) == nil
}
