package wechatauth_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A config that Caddy refuses, with the error it gives.
func (e *env) loadFails(sites string) string {
	e.t.Helper()
	return e.postLoadFails(e.adapt(sites))
}

// postLoadFails posts a JSON config that Caddy refuses, and returns the
// error it gives.
func (e *env) postLoadFails(cfg []byte) string {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.adminURL+"/load", bytes.NewReader(cfg))
	// A connection of its own: Caddy replaces its admin server at every
	// load, closing kept-alive connections, and a POST is not retried.
	req.Close = true
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("admin /load: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		e.t.Fatalf("the config was accepted:\n%s", cfg)
	}
	var m struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.Error == "" {
		e.t.Fatalf("admin /load answered %d %s", resp.StatusCode, body)
	}
	return m.Error
}

// Bad config is refused at load with an error naming the setting, the
// value and what is accepted; the running config goes on serving.
func TestBadConfigIsRefusedAndTheRunningOneKept(t *testing.T) {
	e := newEnv(t, "")
	tok := e.login("", "ok-alice")
	t.Setenv("WXAUTH_TEST_EMPTY", "")
	block := func(lines string) string {
		return `
http://127.0.0.1:{{.Port}} {
	wechat_auth {
		` + lines + `
	}
	reverse_proxy {{.Upstream}}
}`
	}
	cases := []struct {
		name  string
		sites string
		want  []string
	}{
		{"blocks of one app disagree on max_sessions", `
http://127.0.0.1:{{.Port}} {
	handle /a/* {
		wechat_auth {
			{{template "appA" .}}
			max_sessions 50
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
		}
		reverse_proxy {{.Upstream}}
	}
}`, []string{appA, "max_sessions: 50 in one block, 1000000 in another"}},
		{"one block with redis, one without", `
http://127.0.0.1:{{.Port}} {
	handle /a/* {
		wechat_auth {
			{{template "appA" .}}
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
			redis redis://:hunter2@127.0.0.1:1/0
		}
		reverse_proxy {{.Upstream}}
	}
}`, []string{appA, "redis: none (in memory) in one block, redis://:xxxxx@127.0.0.1:1/0 in another"}},
		{"session_ttl differs", `
http://127.0.0.1:{{.Port}} {
	handle /a/* {
		wechat_auth {
			{{template "appA" .}}
			session_ttl 1h
		}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
		}
	}
}`, []string{appA, "session_ttl: 1h0m0s in one block, 2h0m0s in another"}},
		{"app_id shape", block("app_id wx/../x\n\t\tapp_secret s"), []string{`app_id "wx/../x"`, "wx4f4bc4dec97d474b"}},
		{"no app_id", block("app_secret s"), []string{"app_id is required"}},
		{"empty secret placeholder", block("app_id wx1234567890\n\t\tapp_secret {env.WXAUTH_TEST_EMPTY}"),
			[]string{"app_secret {env.WXAUTH_TEST_EMPTY} is empty", "environment variable WXAUTH_TEST_EMPTY"}},
		{"redis scheme", block("app_id wx1234567890\n\t\tapp_secret s\n\t\tredis http://u:hunter2@h:1"),
			[]string{"redis://", "rediss://", "unix://", `"http"`}},
		{"api_base", block("app_id wx1234567890\n\t\tapp_secret s\n\t\tapi_base ftp://x"), []string{`api_base "ftp://x"`, "http:// or https://"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := e.loadFails(c.sites)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("the error shows a Redis password: %s", msg)
			}
			// the running config still serves, with its sessions
			e.do("GET", "/api", "", bearer(tok)...).upstream(t)
		})
	}
}
