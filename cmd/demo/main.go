// Command demo runs wechat_auth end to end on one machine, with no WeChat
// account: the fake WeChat API on 127.0.0.1:9100, an echo upstream on
// 127.0.0.1:9200, and Caddy with the repo's Caddyfile on :8080.
//
//	go run ./cmd/demo            # from the repository root
//	go run ./cmd/demo -config other/Caddyfile
//
// Then log in and call the app:
//
//	TOKEN=$(curl -s -X POST localhost:8080/wx/login -d '{"code":"ok-alice"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
//	curl -H "Authorization: Bearer $TOKEN" localhost:8080/api/hello
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/wechat-auth/wechat_auth"
	"github.com/wechat-auth/wechat_auth/internal/echoserver"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

func main() {
	config := flag.String("config", "Caddyfile", "the Caddyfile to run")
	wxAddr := flag.String("wechat", "127.0.0.1:9100", "address of the fake WeChat API")
	upAddr := flag.String("upstream", "127.0.0.1:9200", "address of the echo upstream")
	flag.Parse()

	const appID, secret = "wxdemo0000000001", "demosecret"
	if os.Getenv("WX_APP_SECRET") == "" {
		_ = os.Setenv("WX_APP_SECRET", secret) // the fake's secret for the demo app
	}
	wx := fakewx.New(fakewx.Config{Apps: map[string]string{appID: secret}})
	serve("fake WeChat API", *wxAddr, fakewx.LogRequests(wx, prefixed("wechat   ")))
	// the echo app also answers POST /api/check, a content-security check
	// through the Caddyfile's wechat_api gateway (no access_token needed)
	gwPort := os.Getenv("WX_DEMO_GATEWAY_PORT")
	if gwPort == "" {
		gwPort = "2020"
	}
	up := echoserver.WithContentCheck(echoserver.Handler(prefixed("upstream ")), "http://127.0.0.1:"+gwPort, prefixed("upstream "))
	serve("echo upstream", *upAddr, up)
	_ = os.Setenv("WX_API_BASE", "http://"+*wxAddr)
	_ = os.Setenv("UPSTREAM", *upAddr)

	log.Printf("Caddy with %s on :8080; try:\n"+
		"  curl -s -X POST localhost:8080/wx/login -d '{\"code\":\"ok-alice\"}'\n"+
		"  curl -s -H 'Authorization: Bearer <token>' localhost:8080/api/hello\n"+
		"  curl -s -H 'Authorization: Bearer <token>' localhost:8080/api/check -d '{\"content\":\"hello\"}'", *config)
	os.Args = []string{"caddy", "run", "--config", *config, "--adapter", "caddyfile"}
	caddycmd.Main()
}

// serve listens now (so a port in use fails at once) and serves in the
// background.
func serve(name, addr string, h http.Handler) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { log.Fatal(srv.Serve(ln)) }()
	log.Printf("%s on http://%s", name, addr)
}

func prefixed(prefix string) func(string, ...any) {
	return func(format string, args ...any) { log.Printf(prefix+format, args...) }
}
