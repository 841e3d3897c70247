// Command demo runs wechat_auth end to end on one machine, with no WeChat
// account: the fakes of every platform (package fakeworld: WeChat, QQ,
// Douyin, Kuaishou, Baidu and Alipay on one address), an echo upstream, and
// Caddy with the repo's Caddyfile in front of them.
//
// The demo apps' keys (the fakes' fixed, public test keys) are written to
// a temporary directory, WX_DEMO_KEYS, that the Caddyfile reads with
// {file.…} placeholders: douyin_app_private_key.pem,
// alipay_app_private_key.pem and alipay_public_key.pem.
//
//	go run ./cmd/demo                               # from the repository root
//	WX_DEMO_PORT=8081 go run ./cmd/demo -wechat 127.0.0.1:9101 -upstream 127.0.0.1:9201
//
// Where things listen (the README's "Demo ports"):
//
//	Caddy                  :8080            WX_DEMO_PORT (read by the Caddyfile)
//	Caddy's admin API      off              WX_DEMO_ADMIN, e.g. localhost:2999 (read by the Caddyfile)
//	fake WeChat API        127.0.0.1:9100   -wechat
//	echo upstream          127.0.0.1:9200   -upstream
//
// An address in use stops the demo at once, with the variable or flag that
// moves it. Caddy runs with its own temporary config and data directories
// (HOME, XDG_CONFIG_HOME, XDG_DATA_HOME), removed when it exits, and the
// Caddyfile turns config persistence off: the demo writes nothing under
// your home and does not meet another Caddy's admin endpoint on :2019.
//
// Then log in and call the app (the README's walkthrough goes further):
//
//	TOKEN=$(curl -fsS -X POST localhost:8080/wx/login -d '{"code":"ok-bob.1"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
//	curl -fsS -H "Authorization: Bearer $TOKEN" localhost:8080/api/hello
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/wechat-auth/wechat_auth"
	"github.com/wechat-auth/wechat_auth/internal/echoserver"
	fakeworld "github.com/wechat-auth/wechat_auth/internal/fake/world"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// The demo's defaults; the Caddyfile holds the same two for Caddy.
const (
	defaultPort  = "8080"
	defaultAdmin = "off"
)

func main() {
	config := flag.String("config", "Caddyfile", "the Caddyfile to run (the repo's reads WX_DEMO_PORT and WX_DEMO_ADMIN)")
	wxAddr := flag.String("wechat", "127.0.0.1:9100", "`address` the fake WeChat API listens on")
	upAddr := flag.String("upstream", "127.0.0.1:9200", "`address` the echo upstream listens on")
	flag.Parse()

	caddyfile, err := os.ReadFile(*config)
	if err != nil {
		fail("reading the Caddyfile (-config): %v\nrun the demo from the repository root, or pass -config", err)
	}
	port, admin := envOr("WX_DEMO_PORT", defaultPort), envOr("WX_DEMO_ADMIN", defaultAdmin)
	// Caddy's addresses first, while nothing runs yet. A Caddyfile that does
	// not read the variables chooses its own addresses.
	if strings.Contains(string(caddyfile), "{$WX_DEMO_PORT") {
		checkFree("Caddy", ":"+port, "set WX_DEMO_PORT to a free port, e.g. WX_DEMO_PORT=8081 go run ./cmd/demo")
	}
	if strings.Contains(string(caddyfile), "{$WX_DEMO_ADMIN") && admin != "off" && !strings.HasPrefix(admin, "unix/") {
		checkFree("Caddy's admin API", admin, "set WX_DEMO_ADMIN to a free address (e.g. localhost:2999) or to off")
	}
	gwPort := envOr("WX_DEMO_GATEWAY_PORT", "2020")
	if strings.Contains(string(caddyfile), "{$WX_DEMO_GATEWAY_PORT") {
		checkFree("the WeChat API gateway (wechat_api)", "127.0.0.1:"+gwPort, "set WX_DEMO_GATEWAY_PORT to a free port, e.g. WX_DEMO_GATEWAY_PORT=2021 go run ./cmd/demo")
	}

	// the fakes' secrets for the demo apps
	const oaID, oaSecret, webID, webSecret = "wxdemooa00000001", "demo-oa-secret", "wxdemoweb0000001", "demo-web-secret"
	for name, secret := range map[string]string{
		"WX_APP_SECRET": fakeworld.DemoWeChatSecret, "WX_DOUYIN_SECRET": fakeworld.DemoDouyinSecret,
		"WX_QQ_SECRET": fakeworld.DemoQQSecret, "WX_KUAISHOU_SECRET": fakeworld.DemoKuaishouSecret,
		"WX_BAIDU_SECRET": fakeworld.DemoBaiduSecret,
		"WX_OA_SECRET":    oaSecret, "WX_WEB_SECRET": webSecret,
	} {
		if os.Getenv(name) == "" {
			_ = os.Setenv(name, secret)
		}
	}
	dir := isolate()
	cfg := fakeworld.DemoConfig()
	// WeChat in the browser: an Official Account and a website app of the
	// same open platform account as the mini program
	cfg.WeChat.WebApps = map[string]fakewx.WebApp{
		oaID:  {Kind: fakewx.OfficialAccount, Secret: oaSecret, UnionID: true},
		webID: {Kind: fakewx.WebsiteApp, Secret: webSecret, UnionID: true},
	}
	world := fakeworld.New(cfg)
	writeKeys(filepath.Join(dir, "keys"), world.DemoKeys())
	wxAt := serve("fake platform APIs", *wxAddr, "-wechat", fakewx.LogRequests(world, prefixed("platform ")))
	// the echo app also answers POST /api/check, a content-security check
	// through the Caddyfile's wechat_api gateway (no access_token needed)
	up := echoserver.WithWebPage(echoserver.WithContentCheck(echoserver.Handler(prefixed("upstream ")), "http://127.0.0.1:"+gwPort, prefixed("upstream ")))
	upAt := serve("echo upstream", *upAddr, "-upstream", up)
	_ = os.Setenv("WX_API_BASE", "http://"+wxAt)
	_ = os.Setenv("WX_OPEN_BASE", "http://"+wxAt)
	_ = os.Setenv("UPSTREAM", upAt)

	log.Printf("Caddy with %s on :%s (WX_DEMO_PORT), admin API %s (WX_DEMO_ADMIN), WeChat API gateway on 127.0.0.1:%s (WX_DEMO_GATEWAY_PORT); try:\n"+
		"  curl -fsS -X POST localhost:%s/wx/login -d '{\"code\":\"ok-bob.1\"}'\n"+
		"  curl -fsS -H 'Authorization: Bearer <token>' localhost:%s/api/hello\n"+
		"  curl -fsS -H 'Authorization: Bearer <token>' localhost:%s/api/check -d '{\"content\":\"hello\"}'\n"+
		"  open http://localhost:%s/web/ in a browser (WeChat QR login through the fake's page)", *config, port, admin, gwPort, port, port, port, port)
	os.Args = []string{"caddy", "run", "--config", *config, "--adapter", "caddyfile"}
	caddycmd.Main()
}

// fail stops the demo with a plain message (the log is Caddy's JSON).
func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "demo: "+format+"\n", args...)
	os.Exit(1)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// checkFree stops the demo if addr cannot be listened on, saying how to
// move it.
func checkFree(name, addr, fix string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail("%s cannot listen on %s: %v\n%s", name, addr, err, fix)
	}
	_ = ln.Close()
}

// serve listens now (so a port in use fails at once, naming the flag that
// moves it), serves in the background, and returns the address it got.
func serve(name, addr, flagName string, h http.Handler) string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail("%s cannot listen on %s: %v\nmove it with %s, e.g. go run ./cmd/demo %s 127.0.0.1:0 (any free port)", name, addr, err, flagName, flagName)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { log.Fatal(srv.Serve(ln)) }()
	at := ln.Addr().String()
	log.Printf("%s on http://%s (%s)", name, at, flagName)
	return at
}

// isolate gives Caddy temporary config and data directories, removed when
// it exits: it keeps an instance ID, locks and storage marks in its data
// directory, and would autosave its config under the config one (the
// Caddyfile also says persist_config off).
func isolate() string {
	dir, err := os.MkdirTemp("", "wechat_auth_demo-")
	if err != nil {
		fail("a temporary directory for Caddy: %v", err)
	}
	for name, value := range map[string]string{
		"HOME":            dir,
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_DATA_HOME":   filepath.Join(dir, "data"),
	} {
		_ = os.Setenv(name, value)
	}
	// Caddy computed these two at start-up, from the real home.
	caddy.DefaultStorage.Path = caddy.AppDataDir()
	caddy.ConfigAutosavePath = filepath.Join(caddy.AppConfigDir(), "autosave.json")
	caddy.OnExit(func(context.Context) { _ = os.RemoveAll(dir) })
	log.Printf("Caddy's config and data directories are under %s (removed on exit)", dir)
	return dir
}

// writeKeys writes the demo apps' keys for the Caddyfile's {file.…}
// placeholders and points WX_DEMO_KEYS at them.
func writeKeys(dir string, k fakeworld.Keys) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fail("the demo's key directory: %v", err)
	}
	for name, pem := range map[string]string{
		"douyin_app_private_key.pem": k.DouyinAppPrivateKey,
		"alipay_app_private_key.pem": k.AlipayAppPrivateKey,
		"alipay_public_key.pem":      k.AlipayPublicKey,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(pem), 0o600); err != nil {
			fail("the demo's keys: %v", err)
		}
	}
	_ = os.Setenv("WX_DEMO_KEYS", dir)
}

func prefixed(prefix string) func(string, ...any) {
	return func(format string, args ...any) { log.Printf(prefix+format, args...) }
}
