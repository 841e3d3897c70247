package alipay

import (
	"context"
	"crypto/aes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Phone resolves my.getPhoneNumber's answer. The client may send it in
// either of two shapes: res.response as my.getPhoneNumber gives it (a
// JSON text {"response","sign","sign_type","encrypt_type","charset"}) as
// Response with no Sign, or that object's response and sign fields as
// Response and Sign. The signature is checked first (Alipay's public
// key; the signed text is the JSON token of the content, double quotes
// included, when it is encrypted), then the content is opened with
// aes_key (AES-CBC, zero IV, PKCS#7). Only code 10000 with a mobile is a
// number; any other plaintext (40003 isv.invalid-auth-relations, the user
// did not authorize, ...) is ErrNoPhone.
func (c *Client) Phone(_ context.Context, req platform.PhoneRequest) (platform.Phone, error) {
	if req.Response == "" {
		return platform.Phone{}, platform.ErrNoPhoneFlow
	}
	if c.aesKey == nil {
		return platform.Phone{}, platform.ErrNoPhoneFlow
	}
	if len(req.Response) > platform.MaxSealedSize || len(req.Sign) > 4096 {
		return platform.Phone{}, platform.ErrMalformed
	}
	content, signed, sign, err := splitPhoneAnswer(req.Response, req.Sign)
	if err != nil {
		return platform.Phone{}, err
	}
	if !c.verifyAny(signed, sign) {
		return platform.Phone{}, platform.ErrBadSignature
	}
	plain := []byte(content)
	if !strings.HasPrefix(content, "{") {
		sealed, err := base64.StdEncoding.DecodeString(content)
		if err != nil {
			return platform.Phone{}, platform.ErrMalformed
		}
		if plain, err = platform.DecryptCBC(c.aesKey, make([]byte, aes.BlockSize), sealed, aes.BlockSize); err != nil {
			return platform.Phone{}, err
		}
	}
	return readPhone(plain)
}

// splitPhoneAnswer finds the content (the response field's string, or
// its object's text when unencrypted), the candidate texts its signature
// may cover, and the signature.
func splitPhoneAnswer(response, sign string) (content string, signed []string, sig string, err error) {
	trimmed := strings.TrimSpace(response)
	if strings.HasPrefix(trimmed, "{") {
		members, err := topLevel([]byte(trimmed))
		if err != nil {
			return "", nil, "", platform.ErrMalformed
		}
		if inner, ok := members["response"]; ok {
			// The outer object as my.getPhoneNumber gives it.
			sig, _ = jsonString(members["sign"])
			if s, ok := jsonString(inner); ok {
				// Alipay signs the JSON token of the content: the raw
				// token, or (the official sample) the decoded string in
				// quotes; they differ only when the token has escapes.
				return s, []string{string(inner), `"` + s + `"`}, sig, nil
			}
			if len(inner) > 0 && inner[0] == '{' {
				return string(inner), []string{string(inner)}, sig, nil
			}
			return "", nil, "", platform.ErrMalformed
		}
		// An unencrypted content sent as Response, with Sign beside it.
		return trimmed, []string{trimmed}, sign, nil
	}
	return trimmed, []string{`"` + trimmed + `"`}, sign, nil
}

// verifyAny reports whether sig verifies over one of the texts.
func (c *Client) verifyAny(texts []string, sig string) bool {
	if sig == "" {
		return false
	}
	for _, t := range texts {
		if verifyRSA2(c.alipayKey, []byte(t), sig) {
			return true
		}
	}
	return false
}

// readPhone reads the plaintext of my.getPhoneNumber:
// {"code":"10000","msg":"Success","mobile":"…"}, or a failure with
// camelCase subCode/subMsg.
func readPhone(plain []byte) (platform.Phone, error) {
	var p struct {
		Code   json.Number `json:"code"` // a string in the doc; a number tolerated
		Mobile string      `json:"mobile"`
	}
	if err := json.Unmarshal(plain, &p); err != nil {
		return platform.Phone{}, platform.ErrUndecryptable
	}
	if p.Code != "10000" || !platform.IsDigits(p.Mobile) {
		return platform.Phone{}, platform.ErrNoPhone
	}
	return platform.Phone{PhoneNumber: p.Mobile, PurePhoneNumber: p.Mobile, CountryCode: "86"}, nil
}
