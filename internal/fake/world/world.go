// Package fakeworld mounts the fake of every mini program platform on one
// mux: WeChat (internal/fakewx), QQ (beside WeChat on /sns/jscode2session,
// by app id: fakeqq.Route), Douyin, Kuaishou, Baidu and Alipay
// (internal/fake/<name>), each on its real paths and with its /fake/<name>/
// controls. One server then answers every app of a wechat_auth block, each
// app's api_base being the world's URL.
//
// The paths do not meet: WeChat /sns/, /cgi-bin/, /wxa/, /connect/ and
// /fake/; QQ /api/getToken and /fake/qq/; Douyin /api/apps/,
// /oauth/client_token/ and /fake/douyin/; Kuaishou /oauth2/ and
// /fake/kuaishou/; Baidu /oauth/jscode2sessionkey, /oauth/2.0/token,
// /rest/2.0/smartapp/ and /fake/baidu/; Alipay /gateway.do and
// /fake/alipay/.
package fakeworld

import (
	"net/http"

	fakealipay "github.com/wechat-auth/wechat_auth/internal/fake/alipay"
	fakebaidu "github.com/wechat-auth/wechat_auth/internal/fake/baidu"
	fakedouyin "github.com/wechat-auth/wechat_auth/internal/fake/douyin"
	fakekuaishou "github.com/wechat-auth/wechat_auth/internal/fake/kuaishou"
	fakeqq "github.com/wechat-auth/wechat_auth/internal/fake/qq"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// Config holds the apps of every platform; a platform without apps is
// still served (it knows no app).
type Config struct {
	WeChat   fakewx.Config
	QQ       []fakeqq.App
	Douyin   []fakedouyin.App
	Kuaishou []fakekuaishou.App
	Baidu    []fakebaidu.App
	Alipay   []fakealipay.App
}

// World is every fake behind one http.Handler. The fakes are exported for
// their Go test controls.
type World struct {
	WeChat   *fakewx.Server
	QQ       *fakeqq.Server
	Douyin   *fakedouyin.Server
	Kuaishou *fakekuaishou.Server
	Baidu    *fakebaidu.Server
	Alipay   *fakealipay.Server

	handler http.Handler
}

// New makes every fake for cfg's apps and mounts them.
func New(cfg Config) *World {
	w := &World{
		WeChat:   fakewx.New(cfg.WeChat),
		QQ:       fakeqq.New(cfg.QQ...),
		Douyin:   fakedouyin.New(cfg.Douyin...),
		Kuaishou: fakekuaishou.New(cfg.Kuaishou...),
		Baidu:    fakebaidu.New(cfg.Baidu...),
		Alipay:   fakealipay.New(cfg.Alipay...),
	}
	w.handler = w.Mount(w.WeChat)
	return w
}

// Mount serves every fake but WeChat's in front of next: each platform's
// paths, and QQ's logins, go to its fake, the rest to next (a fake WeChat
// of the caller's own, as the root package's test harness has).
func (w *World) Mount(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	w.Douyin.Register(mux)
	w.Kuaishou.Register(mux)
	w.Baidu.Register(mux)
	w.Alipay.Register(mux)
	// QQ's own paths, and next (with QQ's logins) for everything else.
	mux.Handle("/", fakeqq.Route(next, w.QQ))
	return mux
}

// ServeHTTP serves every fake.
func (w *World) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.handler.ServeHTTP(rw, r) }

// Close releases every hanging request of every fake.
func (w *World) Close() {
	w.WeChat.Close()
	w.QQ.Close()
	w.Douyin.Close()
	w.Kuaishou.Close()
	w.Baidu.Close()
	w.Alipay.Close()
}

// The demo: its apps, and their keys.

// The demo's apps, one per platform (cmd/demo, cmd/wxfake, the README).
// The keys are the fakes' fixed test keys: FAKE and public.
const (
	DemoWeChatID, DemoWeChatSecret     = "wxdemo0000000001", "demosecret"
	DemoQQID, DemoQQSecret             = "1110000001", "qqdemosecret"
	DemoDouyinID, DemoDouyinSecret     = "tt0123456789abcdef", "dydemosecret"
	DemoKuaishouID, DemoKuaishouSecret = "ks700000000000000001", "ksdemosecret"
	DemoBaiduKey, DemoBaiduSecret      = "demobaiduappkey00000001", "bddemosecret"
	DemoAlipayID                       = "2021000000000001"
)

// DemoConfig is a world with the demo app of every platform.
func DemoConfig() Config {
	return Config{
		WeChat:   fakewx.Config{Apps: map[string]string{DemoWeChatID: DemoWeChatSecret}},
		QQ:       []fakeqq.App{{ID: DemoQQID, Secret: DemoQQSecret, UnionID: true}},
		Douyin:   []fakedouyin.App{DemoDouyinApp(DemoDouyinID, DemoDouyinSecret)},
		Kuaishou: []fakekuaishou.App{{ID: DemoKuaishouID, Secret: DemoKuaishouSecret}},
		Baidu:    []fakebaidu.App{{Key: DemoBaiduKey, Secret: DemoBaiduSecret}},
		Alipay:   []fakealipay.App{DemoAlipayApp(DemoAlipayID)},
	}
}

// DemoDouyinApp is a Douyin app with the phone ability: its public key is
// that of fakedouyin.TestPrivateKeyPEM (its app_private_key), with unionids.
func DemoDouyinApp(id, secret string) fakedouyin.App {
	return fakedouyin.App{ID: id, Secret: secret, PublicKey: &fakedouyin.TestPrivateKey().PublicKey, UnionID: true}
}

// DemoAlipayApp is an Alipay app signing with the fixed key
// fakealipay.KeyApp1 (AlipayKeys says what to configure).
func DemoAlipayApp(id string) fakealipay.App {
	return fakealipay.App{ID: id, PublicKey: fakealipay.PublicKeyPEM(fakealipay.TestKey(fakealipay.KeyApp1))}
}

// Keys is the key material of the demo apps, PEM, as an app block's
// options want it.
type Keys struct {
	DouyinAppPrivateKey string // the Douyin app's app_private_key
	AlipayAppPrivateKey string // the Alipay app's app_private_key
	AlipayPublicKey     string // every Alipay app's alipay_public_key
}

// DemoKeys is the demo apps' Keys.
func (w *World) DemoKeys() Keys {
	return Keys{
		DouyinAppPrivateKey: fakedouyin.TestPrivateKeyPEM,
		AlipayAppPrivateKey: fakealipay.TestKeyPEM(fakealipay.KeyApp1),
		AlipayPublicKey:     w.Alipay.AlipayPublicKeyPEM(),
	}
}
