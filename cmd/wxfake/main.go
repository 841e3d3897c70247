// Command wxfake serves a fake WeChat mini program server API (see package
// fakewx) for demos and tests:
//
//	go run ./cmd/wxfake -listen 127.0.0.1:9100 -app wxdemo0000000001:demosecret
//
// -app may be repeated. It logs one line per request to stderr, without
// secrets, tokens or bodies.
package main

import (
	"context"
	"errors"
	"flag"
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
	cfgApps := apps{}
	flag.Var(cfgApps, "app", "an app as appid:secret (repeatable; default wxdemo0000000001:demosecret)")
	flag.Parse()
	if len(cfgApps) == 0 {
		cfgApps["wxdemo0000000001"] = "demosecret"
	}

	wx := fakewx.New(fakewx.Config{Apps: cfgApps, TokenTTL: *ttl})
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
