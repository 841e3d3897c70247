package wechatauth_test

import (
	"fmt"
	"net/http"
	"testing"
)

// A full store refuses new logins with 503 or evicts old sessions, whose
// requests then get 401: never a 500, never a request through unchecked.
func TestFullStoreRefusesOrEvictsCleanly(t *testing.T) {
	e := newEnv(t, `
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		{{template "appA" .}}
		max_sessions 20
	}
	reverse_proxy {{.Upstream}}
}`)
	var tokens []string
	refused := 0
	for i := 0; i < 200; i++ {
		a := e.do("POST", "/wx/login", fmt.Sprintf(`{"code":"ok-full%d"}`, i))
		switch a.status {
		case http.StatusOK:
			tok, _ := a.json(t)["token"].(string)
			e.secret(tok, "a session token")
			tokens = append(tokens, tok)
		case http.StatusServiceUnavailable:
			if got := a.errorCode(t, 503); got != "session_store_full" {
				t.Fatalf("login %d: %q", i, got)
			}
			refused++
		default:
			t.Fatalf("login %d: %d %s", i, a.status, a.body)
		}
	}
	live := 0
	for _, tok := range tokens {
		a := e.do("GET", "/api", "", bearer(tok)...)
		switch a.status {
		case http.StatusOK:
			a.upstream(t)
			live++
		case http.StatusUnauthorized:
			if got := a.errorCode(t, 401); got != "invalid_token" {
				t.Errorf("evicted session: %q", got)
			}
		default:
			t.Fatalf("request: %d %s", a.status, a.body)
		}
	}
	t.Logf("200 logins into 20 places: %d refused, %d issued, %d still live", refused, len(tokens), live)
	if live > 20 {
		t.Errorf("%d live sessions in a store of 20", live)
	}
	if refused == 0 && live == len(tokens) {
		t.Errorf("the store never filled: the test proves nothing")
	}
}
