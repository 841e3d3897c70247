// Command echo is a tiny upstream for demos and tests: it answers every
// request 200 with JSON {"method", "path", "query", "headers"}, headers being
// every request header as received (Host included).
//
//	go run ./cmd/echo -listen 127.0.0.1:9200
//
// With -tiny it answers every request 200 with the body "ok\n" and logs
// nothing: a cheap upstream for load benchmarks (bench/run.sh).
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/echoserver"
)

var okBody = []byte("ok\n")

// tiny answers 200 "ok\n" to everything.
func tiny(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	h := w.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["Content-Length"] = []string{"3"}
	_, _ = w.Write(okBody)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:9200", "address to listen on")
	tinyMode := flag.Bool("tiny", false, `answer every request 200 "ok\n" (no JSON, no log): a cheap upstream for benchmarks`)
	flag.Parse()
	var h http.Handler = echoserver.Handler(log.Printf)
	if *tinyMode {
		h = http.HandlerFunc(tiny)
	}
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("echo upstream on http://%s (tiny=%v)", *listen, *tinyMode)
	log.Fatal(srv.ListenAndServe())
}
