// Command wxfake serves a fake WeChat mini program server API (see package
// fakewx) for demos and tests:
//
//	go run ./cmd/wxfake -listen 127.0.0.1:9100 -app wxdemo0000000001:demosecret
//
// -app may be repeated. It logs one line per request to stderr, without
// secrets, tokens or bodies.
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

func main() {
	listen := flag.String("listen", "127.0.0.1:9100", "address to listen on")
	ttl := flag.Duration("token-ttl", 7200*time.Second, "access_token lifetime")
	overlap := flag.Duration("token-overlap", 5*time.Minute, "how long an access_token and its successor are both valid (at most half of -token-ttl)")
	flag.Usage = usage
	cfgApps := apps{}
	flag.Var(cfgApps, "app", "an app as appid:secret (repeatable; default wxdemo0000000001:demosecret)")
	flag.Parse()
	if len(cfgApps) == 0 {
		cfgApps["wxdemo0000000001"] = "demosecret"
	}

	wx := fakewx.New(fakewx.Config{Apps: cfgApps, TokenTTL: *ttl, TokenOverlap: *overlap})
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
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
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

Helper endpoints: POST /fake/encrypt {"user", "pure_phone_number",
"country_code"}, GET /fake/stats, POST /fake/reset_counts,
POST /fake/expire_token?appid=, POST /fake/token_mode?appid=&mode=
(ok|quota|ip|busy|hang|html), POST /fake/advance?by=<duration>.
`
