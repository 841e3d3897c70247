package platform

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
)

func TestValidSessionKey(t *testing.T) {
	k16 := base64.StdEncoding.EncodeToString(make([]byte, 16))
	k24 := base64.StdEncoding.EncodeToString(make([]byte, 24))
	for _, tc := range []struct {
		key  string
		size int
		ok   bool
	}{{k16, 16, true}, {k24, 24, true}, {k24, 16, false}, {"", 16, false}, {"!!!!", 16, false}, {k16[:len(k16)-2], 16, false}} {
		if ValidSessionKey(tc.key, tc.size) != tc.ok {
			t.Errorf("%q/%d: want %v", tc.key, tc.size, tc.ok)
		}
	}
}

func TestOpenWithKeys(t *testing.T) {
	key, other := make([]byte, 16), make([]byte, 16)
	other[0] = 1
	iv := make([]byte, 16)
	sealed, _ := SealCBC(key, iv, []byte(`{"a":1}`), 16)
	b := base64.StdEncoding.EncodeToString
	data, ivs := b(sealed), b(iv)
	if p, err := OpenWithKeys([]string{b(other), "garbage", b(key)}, ivs, data, 16, 16); err != nil || string(p) != `{"a":1}` {
		t.Errorf("%s %v", p, err)
	}
	notJSON, _ := SealCBC(key, iv, []byte("not json"), 16)
	for _, tc := range []struct {
		keys     []string
		iv, data string
		want     error
	}{
		{[]string{b(other)}, ivs, data, ErrUndecryptable},
		{nil, ivs, data, ErrUndecryptable},
		{[]string{b(key)}, ivs, b(notJSON), ErrUndecryptable},
		{[]string{b(key)}, "AAAA", data, ErrMalformed},
		{[]string{b(key)}, ivs, data[:8], ErrMalformed},
		{[]string{b(key)}, ivs, "", ErrMalformed},
	} {
		if _, err := OpenWithKeys(tc.keys, tc.iv, tc.data, 16, 16); !errors.Is(err, tc.want) {
			t.Errorf("%v: %v, want %v", tc, err, tc.want)
		}
	}
}

func TestParseCountryCode(t *testing.T) {
	for raw, want := range map[string]string{`"86"`: "86", `86`: "86", `"+1"`: "1", `""`: "86", `null`: "86", ``: "86", `"8a"`: "", `-1`: "", `{}`: ""} {
		got, ok := ParseCountryCode(json.RawMessage(raw))
		if got != want && !(want == "" && !ok) || ok != (want != "") {
			t.Errorf("%s: %q %v, want %q", raw, got, ok, want)
		}
	}
}

func FuzzOpenWithKeys(f *testing.F) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 16))
	f.Add(key, "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA==")
	f.Fuzz(func(t *testing.T, k, iv, data string) {
		p, err := OpenWithKeys([]string{k, key}, iv, data, 16, 16)
		if err == nil && !json.Valid(p) {
			t.Fatalf("opened to non-JSON %q", p)
		}
	})
}
