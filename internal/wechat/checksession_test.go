package wechat

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

func TestSessionSignature(t *testing.T) {
	// hex(HMAC-SHA256(key = the base64 text, msg = "")), computed apart.
	const want = "7154f9f8b4b76b92f541cbf0e37d48840fa06e5e42da92a6f80168a1516a4735"
	if got := SessionSignature("tiihtNczf5v6AKRyjwEUhQ==", ""); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func TestCheckSession(t *testing.T) {
	w := newWorld(t, fakewx.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := w.client.Code2Session(ctx, "ok-alice.1")
	if err != nil {
		t.Fatal(err)
	}
	at, err := w.client.StableToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.client.CheckSession(ctx, at.Value, s.OpenID, s.SessionKey); err != nil {
		t.Fatalf("current key: %v", err)
	}
	if _, err := w.wx.ReplaceSessionKey(fakeApp, s.OpenID); err != nil {
		t.Fatal(err)
	}
	err = w.client.CheckSession(ctx, at.Value, s.OpenID, s.SessionKey)
	if APICode(err) != CodeInvalidSignature {
		t.Fatalf("replaced key: %v, want errcode 87009", err)
	}
	var we *Error
	if !errors.As(err, &we) || we.Endpoint != EndpointCheckSession {
		t.Fatalf("endpoint of %v", err)
	}
	if err := w.client.CheckSession(ctx, "", s.OpenID, s.SessionKey); APICode(err) != 41001 {
		t.Fatalf("no token: %v", err)
	}
}
