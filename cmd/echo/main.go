// Command echo is a tiny upstream for demos and tests: it answers every
// request 200 with JSON {"method", "path", "query", "headers"}, headers being
// every request header as received (Host included).
//
//	go run ./cmd/echo -listen 127.0.0.1:9200
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/wechat-auth/wechat_auth/cmd/echo/echoserver"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9200", "address to listen on")
	flag.Parse()
	srv := &http.Server{Addr: *listen, Handler: echoserver.Handler(log.Printf), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("echo upstream on http://%s", *listen)
	log.Fatal(srv.ListenAndServe())
}
