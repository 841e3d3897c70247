package gateway

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestGatewayUnmarshalCaddyfile(t *testing.T) {
	const creds = "app_id wx1\n app_secret {env.S}\n"
	for _, c := range []struct {
		name  string
		input string
		want  Gateway
		err   string // a part of the error; "" for none
	}{
		{"minimal", "wechat_api {\n" + creds + "}",
			Gateway{AppID: "wx1", AppSecret: "{env.S}"}, ""},
		{"every option", "wechat_api {\n" + creds + `api_base http://127.0.0.1:9100
			allow_from 127.0.0.1 10.0.0.0/8
			allow_from ::1 private_ranges {env.MORE}
			timeout 3s
		}`, Gateway{AppID: "wx1", AppSecret: "{env.S}", APIBase: "http://127.0.0.1:9100",
			AllowFrom: []string{"127.0.0.1", "10.0.0.0/8", "::1", "private_ranges", "{env.MORE}"},
			Timeout:   caddy.Duration(3 * time.Second)}, ""},
		{"placeholder api_base", "wechat_api {\n" + creds + "api_base {env.BASE}\n}",
			Gateway{AppID: "wx1", AppSecret: "{env.S}", APIBase: "{env.BASE}"}, ""},

		{"argument on the line", "wechat_api wx1 {\n" + creds + "}", Gateway{}, `no arguments on its line, got "wx1"`},
		{"no block", "wechat_api", Gateway{}, "wechat_api needs app_id"},
		{"no app_id", "wechat_api {\napp_secret s\n}", Gateway{}, "wechat_api needs app_id"},
		{"no app_secret", "wechat_api {\napp_id wx1\n}", Gateway{}, "wechat_api needs app_secret"},
		{"unknown option", "wechat_api {\n" + creds + "require phone\n}", Gateway{}, `unknown wechat_api option "require": the options are`},
		{"value missing", "wechat_api {\napp_id\n}", Gateway{}, "app_id takes exactly one value, got 0"},
		{"two values", "wechat_api {\napp_id a b\n}", Gateway{}, "app_id takes exactly one value, got 2"},
		{"given twice", "wechat_api {\n" + creds + "app_id wx2\n}", Gateway{}, "app_id is given twice"},
		{"bad api_base", "wechat_api {\n" + creds + "api_base ftp://x\n}", Gateway{}, `api_base must be an http(s) URL without a query, such as https://api.weixin.qq.com; got "ftp://x"`},
		{"api_base with a query", "wechat_api {\n" + creds + "api_base http://x/?a=1\n}", Gateway{}, "api_base must be an http(s) URL"},
		{"allow_from empty", "wechat_api {\n" + creds + "allow_from\n}", Gateway{}, "allow_from needs at least one IP address or CIDR range"},
		{"allow_from bad", "wechat_api {\n" + creds + "allow_from 10.0.0.0/8 localhost\n}", Gateway{}, `allow_from: "localhost" is not an IP address or CIDR range`},
		{"allow_from bad prefix", "wechat_api {\n" + creds + "allow_from 10.0.0.0/33\n}", Gateway{}, `allow_from: "10.0.0.0/33" is not`},
		{"bad timeout", "wechat_api {\n" + creds + "timeout soon\n}", Gateway{}, `timeout must be a positive duration such as 10s, got "soon"`},
		{"zero timeout", "wechat_api {\n" + creds + "timeout 0s\n}", Gateway{}, `timeout must be a positive duration such as 10s, got "0s"`},
		{"negative timeout", "wechat_api {\n" + creds + "timeout -1s\n}", Gateway{}, `got "-1s"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var g Gateway
			err := g.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, c.want) {
				t.Errorf("got %+v\nwant %+v", g, c.want)
			}
		})
	}
}

// The checks that can only run once placeholders are known, at Provision.
func TestGatewayParseAllowFrom(t *testing.T) {
	repl := caddy.NewReplacer()
	t.Setenv("WXGW_ALLOW", "10.1.0.0/16, 192.0.2.7")
	got, err := parseAllowFrom([]string{"{env.WXGW_ALLOW}", "::ffff:0:0/96"}, repl)
	if err != nil || len(got) != 3 || got[0].String() != "10.1.0.0/16" || got[1].String() != "192.0.2.7/32" {
		t.Errorf("got %v, %v", got, err)
	}
	if def, err := parseAllowFrom(nil, repl); err != nil || len(def) != len(defaultAllowFrom) {
		t.Errorf("default: %v, %v", def, err)
	}
	t.Setenv("WXGW_EMPTY", "")
	if _, err := parseAllowFrom([]string{"{env.WXGW_EMPTY}"}, repl); err == nil || !strings.Contains(err.Error(), "names no address") {
		t.Errorf("empty placeholder: %v", err)
	}
	t.Setenv("WXGW_BAD", "10.0.0.0/8 nowhere")
	if _, err := parseAllowFrom([]string{"{env.WXGW_BAD}"}, repl); err == nil || !strings.Contains(err.Error(), `"nowhere"`) {
		t.Errorf("bad placeholder value: %v", err)
	}
}

func TestGatewayQueryAndLabels(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "access_token=T%2B1",
		"a=1&b=2":                 "a=1&b=2&access_token=T%2B1",
		"access_token=forged&a=1": "a=1&access_token=T%2B1",
		"a=1&access%5Ftoken=x&ACCESS_TOKEN=y&cloudbase_access_token=z&b=%20": "a=1&b=%20&access_token=T%2B1",
		"a=1&&access_token":                         "a=1&access_token=T%2B1",
		"x=access_token%3Dkeep":                     "x=access_token%3Dkeep&access_token=T%2B1",
		"a=1;access_token=x":                        "a=1&access_token=T%2B1",
		"a=1;b=2&c=3":                               "a=1;b=2&c=3&access_token=T%2B1",
		";access_token=x;a=1":                       "a=1&access_token=T%2B1",
		"access%255Ftoken=x&a=1;Access_Token=y;b=2": "a=1;b=2&access_token=T%2B1",
		"%61ccess_token=x&access_token+=y&a=1":      "a=1&access_token=T%2B1",
	} {
		if got := withToken(in, "T+1"); got != want {
			t.Errorf("withToken(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"GET /x?access_token=abc&b=1":           "GET /x?access_token=REDACTED&b=1",
		`Post "http://h/p?ACCESS_TOKEN=abc": x`: `Post "http://h/p?ACCESS_TOKEN=REDACTED": x`,
		"cloudbase_access_token=q w":            "cloudbase_access_token=REDACTED w",
		"access_token%3Dabc":                    "access_token%3DREDACTED",
		"no token here":                         "no token here",
	} {
		if got := scrub(in); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"/wxa/msg_sec_check":              "/wxa/msg_sec_check",
		"/cgi-bin/message/subscribe/send": "/cgi-bin/message/subscribe/send",
		"/wxa/x/../y":                     "other",
		"/wxa//x":                         "other",
		"/wxa/":                           "other",
		"/":                               "other",
		"/a/b/c/d/e/f/g":                  "other",
		"/wxa/" + strings.Repeat("a", 60): "other",
		"/wxa/%41":                        "other",
	} {
		if got := pathLabel(in); got != want {
			t.Errorf("pathLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// However many API-shaped paths clients invent, the path label takes at
// most maxPathLabels values.
func TestGatewayPathLabelsAreBounded(t *testing.T) {
	pathLabels.Lock()
	saved := pathLabels.seen
	pathLabels.seen = map[string]struct{}{}
	pathLabels.Unlock()
	t.Cleanup(func() {
		pathLabels.Lock()
		pathLabels.seen = saved
		pathLabels.Unlock()
	})
	labels := map[string]bool{}
	for i := 0; i < 3*maxPathLabels; i++ {
		labels[pathLabel(fmt.Sprintf("/wxa/invented%d", i))] = true
	}
	if len(labels) != maxPathLabels+1 || !labels["other"] {
		t.Errorf("%d labels for %d paths, want %d and other", len(labels), 3*maxPathLabels, maxPathLabels)
	}
	if pathLabel("/wxa/invented0") != "/wxa/invented0" {
		t.Errorf("a path seen before lost its label")
	}
}
