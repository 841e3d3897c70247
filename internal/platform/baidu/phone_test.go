package baidu

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	fakebaidu "github.com/wechat-auth/wechat_auth/internal/fake/baidu"
	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// The official vector of "用户数据的签名验证和加解密" (platforms.md §5, B2).
const (
	vecAppKey     = "y2dTfnWfkx2OXttMEMWlGHoB1KzMogm7"
	vecSessionKey = "1df09d0a1677dd72b8325aec59576e0c"
	vecIV         = "1df09d0a1677dd72b8325Q=="
	vecData       = "OpCoJgs7RrVgaMNDixIvaCIyV2SFDBNLivgkVqtzq2GC10egsn+PKmQ/+5q+chT8xzldLUog2haTItyIkKyvzvmXonBQLIMeq54axAu9c3KG8IhpFD6+ymHocmx07ZKi7eED3t0KyIxJgRNSDkFk5RV1ZP2mSWa7ZgCXXcAbP0RsiUcvhcJfrSwlpsm0E1YJzKpYy429xrEEGvK+gfL+Cw=="
)

func TestOfficialVector(t *testing.T) {
	payload, appKey, err := Open(vecSessionKey, vecIV, vecData)
	if err != nil {
		t.Fatal(err)
	}
	if appKey != vecAppKey {
		t.Fatalf("trailer %q", appKey)
	}
	want := `{"openid":"open_id","nickname":"baidu_user","headimgurl":"url of image","sex":1}`
	if string(payload) != want {
		t.Fatalf("payload %s", payload)
	}
	var u struct{ OpenID, Nickname string }
	if json.Unmarshal(payload, &u) != nil || u.OpenID != "open_id" || u.Nickname != "baidu_user" {
		t.Fatalf("user info %+v", u)
	}
	// The vector's padding is 28 bytes: a 16-byte PKCS#7 check refuses it.
	k, _ := base64.StdEncoding.DecodeString(vecSessionKey)
	iv, _ := base64.StdEncoding.DecodeString(vecIV)
	d, _ := base64.StdEncoding.DecodeString(vecData)
	if _, err := platform.DecryptCBC(k, iv, d, 16); !errors.Is(err, platform.ErrUndecryptable) {
		t.Fatalf("a 16-byte padding check: %v", err)
	}
	// Through Phone: the vector's app, a payload with no mobile.
	c, _ := New(platform.Config{AppID: vecAppKey, Secret: "x"})
	if _, err := c.Phone(context.Background(), platform.PhoneRequest{Keys: []string{vecSessionKey}, EncryptedData: vecData, IV: vecIV}); !errors.Is(err, platform.ErrNoPhone) {
		t.Fatalf("user info as phone: %v", err)
	}
	c, _ = New(platform.Config{AppID: key1, Secret: "x"})
	if _, err := c.Phone(context.Background(), platform.PhoneRequest{Keys: []string{vecSessionKey}, EncryptedData: vecData, IV: vecIV}); !errors.Is(err, platform.ErrWatermark) {
		t.Fatalf("another app's payload: %v", err)
	}
}

func TestSealRoundTrip(t *testing.T) {
	data, iv, err := fakebaidu.Seal(vecSessionKey, vecAppKey, []byte(`{"mobile":"15000000000"}`))
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := base64.StdEncoding.DecodeString(data); len(raw)%32 != 0 {
		t.Fatalf("sealed %d bytes, want a multiple of 32", len(raw))
	}
	payload, appKey, err := Open(vecSessionKey, iv, data)
	if err != nil || appKey != vecAppKey || string(payload) != `{"mobile":"15000000000"}` {
		t.Fatalf("%s %q %v", payload, appKey, err)
	}
}

func TestPhone(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, key1, secret1, nil)
	ctx := context.Background()
	id, err := c.Login(ctx, f.fake.MintCode(key1, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	old := id.SessionKey
	data, iv, err := f.fake.SealPhone(key1, "alice", "15000000000", "")
	if err != nil {
		t.Fatal(err)
	}
	want := platform.Phone{PhoneNumber: "15000000000", PurePhoneNumber: "15000000000", CountryCode: "86"}
	got, err := c.Phone(ctx, platform.PhoneRequest{OpenID: id.OpenID, Keys: []string{old}, EncryptedData: data, IV: iv})
	if err != nil || got != want {
		t.Fatalf("phone: %+v %v", got, err)
	}
	// A new login: the old payload opens with the older key, second.
	id2, err := c.Login(ctx, f.fake.MintCode(key1, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{id2.SessionKey, old}
	if got, err := c.Phone(ctx, platform.PhoneRequest{Keys: keys, EncryptedData: data, IV: iv}); err != nil || got != want {
		t.Fatalf("phone with the older key: %+v %v", got, err)
	}
	forOther, ivOther, _ := f.fake.SealPhone(key1, "alice", "15000000000", key2)
	// Flipping the top bit of the first block flips N's top bit: never
	// a valid layout.
	raw, _ := base64.StdEncoding.DecodeString(data)
	raw[0] ^= 0x80
	tampered := base64.StdEncoding.EncodeToString(raw)
	noMobile, ivNoMobile, _ := fakebaidu.Seal(id2.SessionKey, key1, []byte(`{"openid":"x"}`))
	plus, ivPlus, _ := fakebaidu.Seal(id2.SessionKey, key1, []byte(`{"mobile":"+86 150"}`))
	for _, tc := range []struct {
		name string
		req  platform.PhoneRequest
		err  error
	}{
		{"another app's payload", platform.PhoneRequest{Keys: keys, EncryptedData: forOther, IV: ivOther}, platform.ErrWatermark},
		{"tampered", platform.PhoneRequest{Keys: keys, EncryptedData: tampered, IV: iv}, platform.ErrUndecryptable},
		{"wrong key", platform.PhoneRequest{Keys: []string{vecSessionKey}, EncryptedData: data, IV: iv}, platform.ErrUndecryptable},
		{"no keys", platform.PhoneRequest{EncryptedData: data, IV: iv}, platform.ErrUndecryptable},
		{"no mobile", platform.PhoneRequest{Keys: keys, EncryptedData: noMobile, IV: ivNoMobile}, platform.ErrNoPhone},
		{"not digits", platform.PhoneRequest{Keys: keys, EncryptedData: plus, IV: ivPlus}, platform.ErrNoPhone},
		{"iv not base64", platform.PhoneRequest{Keys: keys, EncryptedData: data, IV: "!!"}, platform.ErrMalformed},
		{"iv missing", platform.PhoneRequest{Keys: keys, EncryptedData: data}, platform.ErrMalformed},
		{"data not base64", platform.PhoneRequest{Keys: keys, EncryptedData: "%%%", IV: iv}, platform.ErrMalformed},
		{"no flow", platform.PhoneRequest{Code: "x", Response: "y"}, platform.ErrNoPhoneFlow},
		{"a stored key of another form is skipped", platform.PhoneRequest{Keys: []string{"c2hvcnQ=", old}, EncryptedData: data, IV: iv}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Phone(ctx, tc.req)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
		})
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(vecSessionKey, vecIV, vecData)
	f.Fuzz(func(t *testing.T, key, iv, data string) {
		payload, _, err := Open(key, iv, data)
		if err == nil && len(payload) > len(data) {
			t.Fatal("payload longer than its sealed text")
		}
	})
}
