// Package alipay is the Alipay mini program platform ("alipay"): login by
// alipay.system.oauth.token on Alipay's gateway, every request signed
// RSA2 with the app's private key and every answer verified with Alipay's
// public key before any field of it is used; the phone number from
// my.getPhoneNumber's signed, AES-sealed answer. Alipay has no app secret,
// no access token and no session key.
package alipay

import (
	"cmp"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Name is the platform's name.
const Name = "alipay"

// Option names.
const (
	OptAppPrivateKey   = "app_private_key"
	OptAlipayPublicKey = "alipay_public_key"
	OptAESKey          = "aes_key"
)

// DefaultAPIBase is Alipay's production gateway host (the sandbox is
// https://openapi-sandbox.dl.alipaydev.com).
const DefaultAPIBase = "https://openapi.alipay.com"

// gatewayPath is the one path of every gateway call.
const gatewayPath = "/gateway.do"

// minKeyBits: RSA2 keys are 2048 bits; shorter ones are refused at load.
const minKeyBits = 2048

// beijing is Asia/Shanghai without tzdata: the gateway's timestamps are
// Beijing time, which has had no DST since 1991.
var beijing = time.FixedZone("CST", 8*3600)

// AppIDPattern is the shape of an Alipay app id: 16 digits
// (production apps 20…, sandbox apps 9021…).
var AppIDPattern = regexp.MustCompile(`^[0-9]{16}$`)

// plat is the platform as registered.
var plat = &platform.Platform{
	Name:        Name,
	AppID:       AppIDPattern,
	AppIDHint:   "16 digits, such as 2021001168648384",
	NeedsSecret: false,
	Options:     []string{OptAppPrivateKey, OptAlipayPublicKey, OptAESKey},
	Required:    []string{OptAppPrivateKey, OptAlipayPublicKey},
	New:         New,
}

func init() { platform.Register(plat) }

// Client is one Alipay app.
type Client struct {
	appID     string
	base      string
	appKey    *rsa.PrivateKey
	alipayKey *rsa.PublicKey
	aesKey    []byte // nil: no phone flow
	now       func() time.Time
	call      platform.Caller
}

// New makes the client of one app from its options.
func New(cfg platform.Config) (platform.Client, error) {
	c := &Client{appID: cfg.AppID, base: cmp.Or(cfg.APIBase, DefaultAPIBase), now: cfg.Clock(), call: cfg.Caller(Name)}
	if !AppIDPattern.MatchString(cfg.AppID) {
		return nil, fmt.Errorf("alipay app %q: app id: want 16 digits, such as 2021001168648384", cfg.AppID)
	}
	bad := func(opt string, err error) error {
		return fmt.Errorf("alipay app %s: %s: %v", cfg.AppID, opt, err)
	}
	text := strings.TrimSpace(cfg.Options[OptAppPrivateKey])
	if text == "" {
		return nil, bad(OptAppPrivateKey, fmt.Errorf("required: the app's RSA2 private key (PEM or the bare base64 of Alipay's key tool)"))
	}
	var err error
	if c.appKey, err = platform.ParseRSAPrivateKey(text); err != nil {
		return nil, bad(OptAppPrivateKey, err)
	}
	if c.appKey.N.BitLen() < minKeyBits {
		return nil, bad(OptAppPrivateKey, fmt.Errorf("a %d-bit key; RSA2 wants %d bits", c.appKey.N.BitLen(), minKeyBits))
	}
	text = strings.TrimSpace(cfg.Options[OptAlipayPublicKey])
	if text == "" {
		return nil, bad(OptAlipayPublicKey, fmt.Errorf("required: Alipay's public key (支付宝公钥) from the app's console, PEM or bare base64"))
	}
	if c.alipayKey, err = platform.ParseRSAPublicKey(text); err != nil {
		return nil, bad(OptAlipayPublicKey, err)
	}
	if c.alipayKey.N.BitLen() < minKeyBits {
		return nil, bad(OptAlipayPublicKey, fmt.Errorf("a %d-bit key; RSA2 wants %d bits", c.alipayKey.N.BitLen(), minKeyBits))
	}
	if c.alipayKey.Equal(&c.appKey.PublicKey) {
		return nil, bad(OptAlipayPublicKey, fmt.Errorf("this is the app's own public key (应用公钥); want Alipay's public key (支付宝公钥), shown next to it in the console"))
	}
	if text = strings.TrimSpace(cfg.Options[OptAESKey]); text != "" {
		k, err := base64.StdEncoding.DecodeString(text)
		if err != nil || (len(k) != 16 && len(k) != 24 && len(k) != 32) {
			return nil, bad(OptAESKey, fmt.Errorf("want the base64 AES key of the console's 接口内容加密方式 (16, 24 or 32 bytes once decoded, 24 characters for the usual 16 bytes)"))
		}
		c.aesKey = k
	}
	return c, nil
}

// Close does nothing: the client holds no token and no goroutine, and
// its HTTP client is the caller's.
func (c *Client) Close() {}

var _ platform.Client = (*Client)(nil)
