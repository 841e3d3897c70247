// Command sessiond is the "session service" of bench/run.sh's option C: what
// a team puts behind Caddy's forward_auth when it keeps its own sessions. It
// is deliberately as lean as such a service usually is: an in-memory map
// token -> identity under a sync.RWMutex, standard library only.
//
//	POST /issue?openid=o123[&unionid=u456]   200, a new token as plain text
//	GET  /check   + Authorization: Bearer <token>
//	              200 with X-WX-OpenID (and X-WX-UnionID when set), else 401
//
//	go run ./bench/sessiond -listen 127.0.0.1:19104
package main

import (
	"crypto/rand"
	"encoding/base64"
	"flag"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"
)

type identity struct {
	openid, unionid string
}

type store struct {
	mu       sync.RWMutex
	sessions map[string]identity
}

func (s *store) issue(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	id := identity{openid: q.Get("openid"), unionid: q.Get("unionid")}
	if id.openid == "" {
		http.Error(w, "missing openid", http.StatusBadRequest)
		return
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		http.Error(w, "no randomness", http.StatusInternalServerError)
		return
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	s.mu.Lock()
	s.sessions[token] = id
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(token + "\n"))
}

func (s *store) check(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	s.mu.RLock()
	id, known := s.sessions[token]
	s.mu.RUnlock()
	if !known {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h := w.Header()
	h.Set("X-WX-OpenID", id.openid)
	if id.unionid != "" {
		h.Set("X-WX-UnionID", id.unionid)
	}
	w.WriteHeader(http.StatusOK)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:19104", "address to listen on")
	flag.Parse()
	s := &store{sessions: make(map[string]identity)}
	mux := http.NewServeMux()
	mux.HandleFunc("/issue", s.issue)
	mux.HandleFunc("/check", s.check)
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("sessiond on http://%s", *listen)
	log.Fatal(srv.ListenAndServe())
}
