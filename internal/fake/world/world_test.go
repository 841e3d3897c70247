package fakeworld_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	fakebaidu "github.com/wechat-auth/wechat_auth/internal/fake/baidu"
	fakedouyin "github.com/wechat-auth/wechat_auth/internal/fake/douyin"
	fakekuaishou "github.com/wechat-auth/wechat_auth/internal/fake/kuaishou"
	fakeqq "github.com/wechat-auth/wechat_auth/internal/fake/qq"
	fakeworld "github.com/wechat-auth/wechat_auth/internal/fake/world"
	"github.com/wechat-auth/wechat_auth/internal/platform"
	_ "github.com/wechat-auth/wechat_auth/internal/platform/all"
)

// Every platform's client logs in against one world, each on its real
// paths: the mounts do not shadow one another, and QQ's logins (same
// path as WeChat's) reach the QQ fake.
func TestEveryPlatformOnOneMux(t *testing.T) {
	w := fakeworld.New(fakeworld.DemoConfig())
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	t.Cleanup(w.Close)
	keys := w.DemoKeys()

	cases := []struct {
		platform, app, secret string
		options               map[string]string
		code                  string
		openid                string
	}{
		{"wechat", fakeworld.DemoWeChatID, fakeworld.DemoWeChatSecret, nil, "ok-alice.1", ""},
		{"qq", fakeworld.DemoQQID, fakeworld.DemoQQSecret, nil, w.QQ.MintCode(fakeworld.DemoQQID, "alice"), fakeqq.OpenID(fakeworld.DemoQQID, "alice")},
		{"douyin", fakeworld.DemoDouyinID, fakeworld.DemoDouyinSecret, map[string]string{"app_private_key": keys.DouyinAppPrivateKey},
			w.Douyin.MintCode(fakeworld.DemoDouyinID, "alice"), fakedouyin.OpenID(fakeworld.DemoDouyinID, "alice")},
		{"kuaishou", fakeworld.DemoKuaishouID, fakeworld.DemoKuaishouSecret, nil,
			w.Kuaishou.MintCode(fakeworld.DemoKuaishouID, "alice"), fakekuaishou.OpenID(fakeworld.DemoKuaishouID, "alice")},
		{"baidu", fakeworld.DemoBaiduKey, fakeworld.DemoBaiduSecret, nil,
			w.Baidu.MintCode(fakeworld.DemoBaiduKey, "alice"), fakebaidu.OpenID(fakeworld.DemoBaiduKey, "alice")},
		{"alipay", fakeworld.DemoAlipayID, "", map[string]string{"app_private_key": keys.AlipayAppPrivateKey, "alipay_public_key": keys.AlipayPublicKey},
			w.Alipay.MintCode(fakeworld.DemoAlipayID, "alice"), ""},
	}
	for _, c := range cases {
		t.Run(c.platform, func(t *testing.T) {
			p, ok := platform.Lookup(c.platform)
			if !ok {
				t.Fatalf("%s is not registered", c.platform)
			}
			client, err := p.New(platform.Config{
				AppID: c.app, Secret: c.secret, APIBase: srv.URL, Options: c.options,
				HTTPClient: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			id, err := client.Login(ctx, c.code)
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if id.OpenID == "" || c.openid != "" && id.OpenID != c.openid {
				t.Errorf("openid %q, want %q", id.OpenID, c.openid)
			}
			if _, err := client.Login(ctx, c.code); err == nil {
				t.Error("a code worked twice")
			}
		})
	}
}
