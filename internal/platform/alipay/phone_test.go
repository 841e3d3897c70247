package alipay

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	fakealipay "github.com/wechat-auth/wechat_auth/internal/fake/alipay"
	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// A vector made with OpenSSL, independently of this package:
//
//	printf '%s' "$plain" | openssl enc -aes-128-cbc -K <hex of vecAES> -iv 0…0 | base64
//	printf '"%s"' "$content" | openssl dgst -sha256 -sign fake/alipay/keys/alipay.pem | base64
const (
	vecAES     = "MDEyMzQ1Njc4OWFiY2RlZg==" // "0123456789abcdef"
	vecPlain   = `{"code":"10000","msg":"Success","mobile":"13800138000"}`
	vecContent = "sb44umJUD7auqhU6RDzOGa1sxXOWIxth2OsK89GQTNPRxZi2dPdOL4ira86T2iPggMr+qCFgt5esijRcw3SGIA=="
	vecSign    = "ZPP19gMdqsy4OzVLonIP43TfvS8MEgxiDQtAouJpYl1OYPnRmO4ScpXjZVAzuvvbblvR05uaftSo5EmV1jhWGwLVa0eA5aVZXU8d5AEEnDCl+U5iawaSIOxCBnmRCiTnADQ2SUBhxM0bH18iIc3RFs8BKqrzRSWa5tmCp4stOjpespSHCwufonkGDUI/32wgN/L3O9U8GIJZ11OwG3Th08CNYsj3gHA+T8ilEUAse5cA50D+3QZHn0uDnY764Z6qFA5h4WcM0HdZ12/wEdiNSO/8X3wOgAJon4fwp8PNI7aV/nF3PWd+l6xEr87Zd/5yxZ8UAI8HPRvNdzNvGLkOQQ=="
)

func outer(content, sig string) string {
	m := map[string]string{"response": content, "sign_type": "RSA2", "encrypt_type": "AES", "charset": "UTF-8"}
	if sig != "" {
		m["sign"] = sig
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestPhoneVector(t *testing.T) {
	c := offline(t, vecAES)
	want := platform.Phone{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}
	flipped := []byte(vecContent)
	flipped[5] ^= 1
	badSig := strings.Replace(vecSign, "Z", "Y", 1)
	for _, tc := range []struct {
		name string
		req  platform.PhoneRequest
		err  error
	}{
		{"outer JSON as response", platform.PhoneRequest{Response: outer(vecContent, vecSign)}, nil},
		{"outer JSON, slash escaped", platform.PhoneRequest{Response: strings.ReplaceAll(outer(vecContent, vecSign), "/", `\/`)}, nil},
		{"inner fields", platform.PhoneRequest{Response: vecContent, Sign: vecSign}, nil},
		{"outer without sign", platform.PhoneRequest{Response: outer(vecContent, "")}, platform.ErrBadSignature},
		{"outer without sign, sign beside", platform.PhoneRequest{Response: outer(vecContent, ""), Sign: vecSign}, platform.ErrBadSignature},
		{"inner without sign", platform.PhoneRequest{Response: vecContent}, platform.ErrBadSignature},
		{"bad sign", platform.PhoneRequest{Response: vecContent, Sign: badSig}, platform.ErrBadSignature},
		{"sign not base64", platform.PhoneRequest{Response: vecContent, Sign: "!!"}, platform.ErrBadSignature},
		{"tampered content", platform.PhoneRequest{Response: string(flipped), Sign: vecSign}, platform.ErrBadSignature},
		{"no flow", platform.PhoneRequest{EncryptedData: "x", IV: "y"}, platform.ErrNoPhoneFlow},
		{"outer not JSON", platform.PhoneRequest{Response: `{"response":`}, platform.ErrMalformed},
		{"outer response a number", platform.PhoneRequest{Response: `{"response":1,"sign":"x"}`}, platform.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Phone(context.Background(), tc.req)
			if !errors.Is(err, tc.err) || (tc.err == nil && got != want) {
				t.Fatalf("got %+v %v, want %v", got, err, tc.err)
			}
		})
	}
	// Without aes_key the app has no phone flow.
	if _, err := offline(t, "").Phone(context.Background(), platform.PhoneRequest{Response: vecContent, Sign: vecSign}); !errors.Is(err, platform.ErrNoPhoneFlow) {
		t.Fatalf("no aes_key: %v", err)
	}
	// Another AES key: signed by Alipay, but not for this app.
	other := offline(t, "ZmVkY2JhOTg3NjU0MzIxMA==")
	if _, err := other.Phone(context.Background(), platform.PhoneRequest{Response: vecContent, Sign: vecSign}); !errors.Is(err, platform.ErrUndecryptable) {
		t.Fatalf("wrong aes_key: %v", err)
	}
}

func TestPhonePlaintexts(t *testing.T) {
	c := offline(t, vecAES)
	for _, tc := range []struct {
		plain string
		err   error
	}{
		{`{"code":"10000","msg":"Success","mobile":"1597671905"}`, nil},
		{`{"code":"40003","msg":"Insufficient Conditions","subCode":"isv.invalid-auth-relations","subMsg":"无效的授权关系"}`, platform.ErrNoPhone},
		{`{"code":"10000","msg":"Success"}`, platform.ErrNoPhone},
		{`{"code":"10000","mobile":"+86 138"}`, platform.ErrNoPhone},
		{`{"code":20000,"subCode":"aop.unknow-error"}`, platform.ErrNoPhone},
		{`not json`, platform.ErrUndecryptable},
	} {
		// An unencrypted content (no AES set up) is signed as it is.
		if strings.HasPrefix(tc.plain, "{") {
			_, err := c.Phone(context.Background(), platform.PhoneRequest{Response: tc.plain, Sign: sign(t, tc.plain)})
			if !errors.Is(err, tc.err) {
				t.Errorf("plain %s: %v, want %v", tc.plain, err, tc.err)
			}
		}
		_, err := readPhone([]byte(tc.plain))
		if !errors.Is(err, tc.err) {
			t.Errorf("readPhone %s: %v, want %v", tc.plain, err, tc.err)
		}
	}
}

// The fake's minted answers, each variant.
func TestPhoneFake(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, app1, f.options(app1, fakealipay.KeyApp1))
	c2 := f.client(t, app2, f.options(app2, fakealipay.KeyApp2))
	for _, tc := range []struct {
		v   fakealipay.PhoneVariant
		err error
	}{
		{fakealipay.PhoneOK, nil},
		{fakealipay.PhoneNoSign, platform.ErrBadSignature},
		{fakealipay.PhoneBadSign, platform.ErrBadSignature},
		{fakealipay.PhoneNotAuthorized, platform.ErrNoPhone},
		{fakealipay.PhoneWrongAESKey, platform.ErrUndecryptable},
	} {
		resp, err := f.fake.PhoneAnswer(app1, "15000000000", tc.v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Phone(context.Background(), platform.PhoneRequest{Response: resp})
		if !errors.Is(err, tc.err) || (tc.err == nil && got.PurePhoneNumber != "15000000000") {
			t.Errorf("%s: got %+v %v, want %v", tc.v, got, err, tc.err)
		}
	}
	// Another app's answer: its AES key differs.
	resp, _ := f.fake.PhoneAnswer(app1, "15000000000", fakealipay.PhoneOK)
	if _, err := c2.Phone(context.Background(), platform.PhoneRequest{Response: resp}); !errors.Is(err, platform.ErrUndecryptable) {
		t.Errorf("another app's answer: %v", err)
	}
}

func FuzzPhone(f *testing.F) {
	f.Add(outer(vecContent, vecSign), "")
	f.Add(vecContent, vecSign)
	f.Add(`{"response":{"code":"10000"},"sign":"x"}`, "")
	c := offline(f, vecAES)
	f.Fuzz(func(t *testing.T, response, sig string) {
		p, err := c.Phone(context.Background(), platform.PhoneRequest{Response: response, Sign: sig})
		if err == nil && !platform.IsDigits(p.PurePhoneNumber) {
			t.Fatalf("accepted %q", p.PurePhoneNumber)
		}
	})
}
