package wechat

import "testing"

// (The legacy decryption, with WeChat's published test vector, is
// internal/platform's: OpenSealedPhone, its tests and FuzzOpenWithKeys.)

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000": "138****8000",
		"2025550123":  "202***0123",
		"12345678":    "123*5678",
		"1234567":     "*****67",
		"12":          "**",
		"":            "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
