// Package platformtest holds what the tests of the platform clients and
// their fakes share: serving a fake on loopback, making a client, checking
// an error's kind, and an offline HTTP client that records where calls go.
package platformtest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/platform"
)

// Fake is what a platform's fake offers a test.
type Fake interface {
	Register(mux *http.ServeMux)
	Close()
}

// Serve serves fake on a loopback test server, closed with the test (the
// fake first: it ends hanging requests, so that the server's Close
// returns).
func Serve(t testing.TB, fake Fake) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	fake.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(fake.Close)
	return srv
}

// NewClient makes a client of the named platform, closed with the test.
func NewClient(t testing.TB, name string, cfg platform.Config) platform.Client {
	t.Helper()
	p, ok := platform.Lookup(name)
	if !ok {
		t.Fatalf("platform %q not registered", name)
	}
	c, err := p.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// WantKind fails the test unless err is a *platform.Error of kind (and of
// code, unless code is ""), whose text holds none of secrets.
func WantKind(t testing.TB, err error, kind platform.Kind, code string, secrets ...string) *platform.Error {
	t.Helper()
	var pe *platform.Error
	if !errors.As(err, &pe) || pe.Kind != kind || (code != "" && pe.Code != code) {
		t.Fatalf("error %v, want a *platform.Error of kind %v, code %q", err, kind, code)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error text %q holds a secret", err)
		}
	}
	return pe
}

// Recorder is an HTTP client that makes no call: it records each request
// as "METHOD URL" and fails it (KindUnreachable for a platform client).
type Recorder struct {
	mu    sync.Mutex
	calls []string
}

// Client is the recording client.
func (r *Recorder) Client() *http.Client { return &http.Client{Transport: r} }

// RoundTrip records req and fails.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.calls = append(r.calls, req.Method+" "+req.URL.String())
	r.mu.Unlock()
	return nil, errors.New("offline")
}

// Calls are the requests seen so far.
func (r *Recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}
