package wechatauth_test

import (
	"bytes"
	"testing"
)

// Answers are JSON written as text: a message reads as it does in the
// source ("Bearer <token>", not "Bearer \u003ctoken\u003e"), and every
// body, error or success, ends with one newline (a terminal's prompt
// starts on its own line after curl).
func TestAnswersAreReadableJSON(t *testing.T) {
	e := newEnv(t, "")
	noToken := e.do("GET", "/api/hello", "")
	if code := noToken.errorCode(t, 401); code != "unauthorized" {
		t.Fatalf("no token: %q", code)
	}
	if !bytes.Contains(noToken.body, []byte("Bearer <token>")) {
		t.Errorf("the message is not written as text: %s", noToken.body)
	}
	login := e.do("POST", "/wx/login", `{"code":"ok-alice"}`)
	for name, body := range map[string][]byte{"error": noToken.body, "login": login.body} {
		if !bytes.HasSuffix(body, []byte("}\n")) {
			t.Errorf("the %s answer does not end with one newline: %q", name, body)
		}
	}
	tok, _ := login.json(t)["token"].(string)
	e.secret(tok, "a session token")
}
