// Command wxfake serves a fake WeChat mini program server API (see package
// fakewx) for demos and tests:
//
//	go run ./cmd/wxfake -listen 127.0.0.1:9100 -app wxdemo0000000001:demosecret
//
// -app may be repeated. It logs one line per request to stderr, without
// secrets, tokens or bodies.
//
// It plays the other platforms too, on their real paths (package
// fakeworld): -qq, -douyin, -kuaishou and -baidu take id:secret, -alipay
// an app id, each repeatable; a platform without its flag gets its demo
// app (fakeworld.DemoConfig). Douyin apps seal phone answers for the
// fixed test key fakedouyin.TestPrivateKeyPEM, Alipay apps sign with
// fakealipay.KeyApp1; GET /fake/alipay/keys shows the keys to configure.
// Each platform's controls are under /fake/<name>/ (see its package).
//
// The codes a client sends steer the answers (the package fakewx's doc and
// `wxfake -h` list them); these endpoints steer the rest:
//
//	POST /fake/encrypt              seal a legacy getPhoneNumber payload
//	GET  /fake/stats                calls per endpoint
//	POST /fake/reset_counts         zero them
//	POST /fake/expire_token?appid=  expire the app's access_token now
//	POST /fake/token_mode?appid=&mode=ok|quota|ip|busy|hang|html
//	                                stable_token answers: tokens, 45009
//	                                (quota), 40164 (IP not whitelisted), -1,
//	                                no answer, an HTML page
//	POST /fake/advance?by=<duration>  move the fake's clock (5m, -1h)
//
// With -oa appid:secret (an Official Account) or -website appid:secret (a
// website application), both repeatable, it plays open.weixin.qq.com too:
// the browser login's authorize and QR pages and /sns/oauth2/access_token;
// those apps are bound to the open platform account (a user's unionid is
// the same as in the mini programs), and take callbacks on loopback or on
// the -web-domain domains. These steer them:
//
//	POST /fake/web_user?appid=&user=<spec>&auto=1   who confirms on the pages
//	POST /fake/web_domains?appid=&domain=…          the callback domains
//	POST /fake/web_code?appid=&user=&scope=         a code, as a page mints it
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	fakealipay "github.com/wechat-auth/wechat_auth/internal/fake/alipay"
	fakebaidu "github.com/wechat-auth/wechat_auth/internal/fake/baidu"
	fakedouyin "github.com/wechat-auth/wechat_auth/internal/fake/douyin"
	fakekuaishou "github.com/wechat-auth/wechat_auth/internal/fake/kuaishou"
	fakeqq "github.com/wechat-auth/wechat_auth/internal/fake/qq"
	fakeworld "github.com/wechat-auth/wechat_auth/internal/fake/world"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// apps is the repeatable -app flag.
type apps map[string]string

func (a apps) String() string {
	ids := make([]string, 0, len(a))
	for id := range a {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func (a apps) Set(v string) error {
	id, secret, ok := strings.Cut(v, ":")
	if !ok || id == "" || secret == "" {
		return errors.New("want appid:secret")
	}
	a[id] = secret
	return nil
}

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	listen := flag.String("listen", "127.0.0.1:9100", "address to listen on")
	oaApps, websiteApps, domains := apps{}, apps{}, list{}
	flag.Var(oaApps, "oa", "an Official Account as appid:secret (repeatable)")
	flag.Var(websiteApps, "website", "a website application as appid:secret (repeatable)")
	flag.Var(&domains, "web-domain", "a callback domain of every -oa and -website app (repeatable; default: loopback)")
	ttl := flag.Duration("token-ttl", 7200*time.Second, "access_token lifetime")
	overlap := flag.Duration("token-overlap", 5*time.Minute, "how long an access_token and its successor are both valid (at most half of -token-ttl)")
	flag.Usage = usage
	cfgApps := apps{}
	flag.Var(cfgApps, "app", "a WeChat mini program as appid:secret (repeatable; default wxdemo0000000001:demosecret)")
	qqApps, douyinApps, kuaishouApps, baiduApps, alipayApps := apps{}, apps{}, apps{}, apps{}, list{}
	flag.Var(qqApps, "qq", "a QQ mini program as appid:secret (repeatable; default the demo app)")
	flag.Var(douyinApps, "douyin", "a Douyin mini program as appid:secret (repeatable; default the demo app)")
	flag.Var(kuaishouApps, "kuaishou", "a Kuaishou mini program as app_id:app_secret (repeatable; default the demo app)")
	flag.Var(baiduApps, "baidu", "a Baidu smart program as appkey:secret (repeatable; default the demo app)")
	flag.Var(&alipayApps, "alipay", "an Alipay mini program's app id (repeatable; default the demo app)")
	flag.Parse()
	world := fakeworld.DemoConfig()
	if len(cfgApps) == 0 {
		cfgApps[fakeworld.DemoWeChatID] = fakeworld.DemoWeChatSecret
	}
	if len(qqApps) > 0 {
		world.QQ = nil
		for id, secret := range qqApps {
			world.QQ = append(world.QQ, fakeqq.App{ID: id, Secret: secret, UnionID: true})
		}
	}
	if len(douyinApps) > 0 {
		world.Douyin = nil
		for id, secret := range douyinApps {
			world.Douyin = append(world.Douyin, fakeworld.DemoDouyinApp(id, secret))
		}
	}
	if len(kuaishouApps) > 0 {
		world.Kuaishou = nil
		for id, secret := range kuaishouApps {
			world.Kuaishou = append(world.Kuaishou, fakekuaishou.App{ID: id, Secret: secret})
		}
	}
	if len(baiduApps) > 0 {
		world.Baidu = nil
		for key, secret := range baiduApps {
			world.Baidu = append(world.Baidu, fakebaidu.App{Key: key, Secret: secret})
		}
	}
	if len(alipayApps) > 0 {
		world.Alipay = nil
		for _, id := range alipayApps {
			world.Alipay = append(world.Alipay, fakeworld.DemoAlipayApp(id))
		}
	}

	webApps := map[string]fakewx.WebApp{}
	for kind, set := range map[fakewx.WebKind]apps{fakewx.OfficialAccount: oaApps, fakewx.WebsiteApp: websiteApps} {
		for id, secret := range set {
			webApps[id] = fakewx.WebApp{Kind: kind, Secret: secret, UnionID: true, Domains: domains}
		}
	}
	world.WeChat = fakewx.Config{Apps: cfgApps, TokenTTL: *ttl, TokenOverlap: *overlap, WebApps: webApps}
	wx := fakeworld.New(world)
	srv := &http.Server{Addr: *listen, Handler: fakewx.LogRequests(wx, log.Printf), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		wx.Close() // release hanging requests, then drain
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	log.Printf("fake WeChat API on http://%s, apps %s, token TTL %v", *listen, cfgApps, *ttl)
	log.Printf("and QQ %s, Douyin %s, Kuaishou %s, Baidu %s, Alipay %s", ids(world.QQ, func(a fakeqq.App) string { return a.ID }),
		ids(world.Douyin, func(a fakedouyin.App) string { return a.ID }), ids(world.Kuaishou, func(a fakekuaishou.App) string { return a.ID }),
		ids(world.Baidu, func(a fakebaidu.App) string { return a.Key }), ids(world.Alipay, func(a fakealipay.App) string { return a.ID }))
	if len(webApps) > 0 {
		log.Printf("browser login: Official Accounts %s, website apps %s", oaApps, websiteApps)
	}
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func ids[A any](apps []A, id func(A) string) string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = id(a)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprintf(out, "usage: wxfake [flags]\n\nflags:\n")
	flag.PrintDefaults()
	fmt.Fprint(out, codeGrammar)
}

// codeGrammar is the help text on steering the fake.
const codeGrammar = `
Login codes (wx.login), "<outcome>-<args>", a user name may carry ".<n>":
  ok-<user>            success, a new session_key
  same-<user>          success, the user's current session_key again
  union-<user>         success with a unionid
  nokey-<user>         an openid without session_key (broken answer)
  slow-<ms>-<user>     answer after ms milliseconds
  bad- risky- limit- busy-   errcode 40029, 40226, 45011, -1
  hang- http500- html- empty- trunc-   no answer, or a broken one
  any code used before: 40163; 5 minutes after it was minted: 40029

Phone codes (getPhoneNumber), optionally ending in "@<user>" (then a
request whose openid is another user's gets 40003):
  phone-<pure>[-<cc>]      success, countryCode a string
  phonenum-<pure>[-<cc>]   success, countryCode a number
  slow-<ms>-<pure>[-<cc>], bad-, busy-, limit-, hang-, http500-, html-

stable_token: the same token until its last -token-overlap, then a new one
(both valid meanwhile); force_refresh at most 20 a day, 30 s apart; errors
per app with POST /fake/token_mode. Every other error answer of
stable_token and getuserphonenumber is text/plain. Missing appid, secret or
access_token: 41002, 41004, 41001.

Browser login (-oa, -website): GET /connect/oauth2/authorize and
/connect/qrconnect check their parameters as WeChat does, then send the
browser back to redirect_uri?code=&state= (at once, or after a page whose
button confirms); /sns/oauth2/access_token trades a code once, within 5
minutes, for its own app only. Codes steer it as login codes do, and:
  snapshot-<user>      is_snapshotuser 1, a stand-in openid
Who confirms: POST /fake/web_user?appid=&user=<spec>&auto=1, spec being
[<outcome>-]<user> or deny.

Helper endpoints: POST /fake/encrypt {"user", "pure_phone_number",
"country_code"}, GET /fake/stats, POST /fake/reset_counts,
POST /fake/expire_token?appid=, POST /fake/token_mode?appid=&mode=
(ok|quota|ip|busy|hang|html), POST /fake/advance?by=<duration>,
POST /fake/web_user, POST /fake/web_domains?appid=&domain=,
POST /fake/web_code?appid=&user=&scope=.

The other platforms (-qq, -douyin, -kuaishou, -baidu, -alipay) take the
same code grammar (ok-<user>, slow-, hang-, http500-, html-, bad-, busy-,
limit-, ...); each mints single-use codes, seals phone payloads and moves
its clock under /fake/<platform>/ (mint, advance, stats, ...; see its
package doc).
`
