package fakeworld

import (
	fakealipay "github.com/wechat-auth/wechat_auth/internal/fake/alipay"
	fakebaidu "github.com/wechat-auth/wechat_auth/internal/fake/baidu"
	fakedouyin "github.com/wechat-auth/wechat_auth/internal/fake/douyin"
	fakekuaishou "github.com/wechat-auth/wechat_auth/internal/fake/kuaishou"
	fakeqq "github.com/wechat-auth/wechat_auth/internal/fake/qq"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

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
