package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

const (
	fakeApp    = "wxtokentest00001"
	fakeSecret = "token-test-secret"
)

// world is a Client against the fake WeChat, recording what it sees.
type world struct {
	t      *testing.T
	wx     *fakewx.Server
	client *Client
	rec    *recorder
}

func newWorld(t *testing.T, cfg fakewx.Config) *world {
	t.Helper()
	cfg.Apps = map[string]string{fakeApp: fakeSecret}
	wx := fakewx.New(cfg)
	ts := httptest.NewServer(wx)
	t.Cleanup(ts.Close)
	t.Cleanup(wx.Close) // first: releases hanging requests
	rec := &recorder{next: http.DefaultTransport}
	return &world{t: t, wx: wx, rec: rec, client: &Client{
		BaseURL: ts.URL, AppID: fakeApp, Secret: fakeSecret,
		HTTPClient: &http.Client{Transport: rec},
	}}
}

// recorder keeps the Content-Type of every answer and the body of every
// request.
type recorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	types  map[string]bool
	bodies []string
	// gate, when set, holds every stable_token request until it is
	// closed (or the request's context ends).
	gate chan struct{}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	gate := r.gate
	r.mu.Unlock()
	if gate != nil && strings.HasSuffix(req.URL.Path, "/stable_token") {
		select {
		case <-gate:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	resp, err := r.next.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, string(body))
	if err == nil {
		if r.types == nil {
			r.types = map[string]bool{}
		}
		r.types[resp.Header.Get("Content-Type")] = true
	}
	return resp, err
}

// source returns a TokenSource on the fake's clock whose OnRefreshError
// reports go to the returned channel.
func (w *world) source() (*TokenSource, chan RefreshError) {
	errs := make(chan RefreshError, 32)
	return &TokenSource{
		Client:         w.client,
		now:            w.wx.Now,
		OnRefreshError: func(e RefreshError) { errs <- e },
	}, errs
}

func token(t *testing.T, s *TokenSource) string {
	t.Helper()
	// Generous: a Token call that waits for a fetch it should not wait
	// for shows up as a wrong answer, not as slowness.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tok, err := s.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

// settle waits for a background fetch to end.
func settle(t *testing.T, s *TokenSource) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !s.source().Fetching() {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("the background fetch did not end")
}

func nextReport(t *testing.T, errs chan RefreshError) RefreshError {
	t.Helper()
	select {
	case e := <-errs:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no OnRefreshError report")
	}
	return RefreshError{}
}

func noReport(t *testing.T, errs chan RefreshError) {
	t.Helper()
	select {
	case e := <-errs:
		t.Fatalf("unexpected report %+v", e)
	default:
	}
}

// A refresh that fails (45009, 40164, -1) leaves the cached token in use
// until it expires; the failures are retried with a growing backoff, each
// reported once; the first success replaces the token.
func TestTokenServedWhileRefreshFails(t *testing.T) {
	for _, c := range []struct {
		mode fakewx.TokenMode
		code int
	}{
		{fakewx.TokenQuota, CodeDailyQuota},
		{fakewx.TokenIPDenied, CodeIPNotWhitelisted},
		{fakewx.TokenBusy, CodeBusy},
	} {
		t.Run(string(c.mode), func(t *testing.T) {
			w := newWorld(t, fakewx.Config{})
			s, errs := w.source()
			tok := token(t, s)
			w.wx.SetTokenMode(fakeApp, c.mode)

			// 290 s left: past the refresh point (300 s before expiry)
			w.wx.Advance(7200*time.Second - 290*time.Second)
			if got := token(t, s); got != tok {
				t.Fatal("the cached token was not served while due for refresh")
			}
			e := nextReport(t, errs)
			if APICode(e.Err) != c.code || e.Backoff != time.Second || e.Failures != 1 ||
				e.CachedFor <= 280*time.Second || e.CachedFor > 290*time.Second {
				t.Fatalf("report %+v (%v)", e, e.Err)
			}
			settle(t, s)
			// within the backoff: the cached token, no fetch
			if got := token(t, s); got != tok || s.Fetches() != 2 {
				t.Fatalf("within the backoff: %d fetches", s.Fetches())
			}
			// the cached token still works with WeChat
			ctx := context.Background()
			err := s.Do(ctx, func(at string) error {
				_, err := w.client.PhoneNumber(ctx, at, "phone-13800138000", "")
				return err
			})
			if err != nil {
				t.Fatalf("a call with the cached token: %v", err)
			}

			for i, want := range []time.Duration{2 * time.Second, 4 * time.Second} {
				w.wx.Advance(e.Backoff)
				if got := token(t, s); got != tok {
					t.Fatal("the cached token was not served")
				}
				e = nextReport(t, errs)
				if e.Backoff != want || e.Failures != i+2 || APICode(e.Err) != c.code {
					t.Fatalf("report %d: %+v", i+2, e)
				}
				settle(t, s)
			}

			// WeChat answers again: the next attempt gets the new token
			w.wx.SetTokenMode(fakeApp, fakewx.TokenOK)
			w.wx.Advance(e.Backoff)
			if got := token(t, s); got != tok {
				t.Fatal("the cached token was not served while the refresh runs")
			}
			settle(t, s)
			fresh := token(t, s)
			if fresh == tok || fresh != w.wx.AccessToken(fakeApp) || s.Fetches() != 5 {
				t.Fatalf("after recovery: new=%v, %d fetches", fresh != tok, s.Fetches())
			}
			noReport(t, errs)
		})
	}
}

// With no valid token, callers wait for the fetch and get its error; then,
// within the backoff, they get that error at once, without calling WeChat.
func TestTokenExpiredWhileRefreshFails(t *testing.T) {
	w := newWorld(t, fakewx.Config{})
	s, errs := w.source()
	token(t, s)
	w.wx.SetTokenMode(fakeApp, fakewx.TokenBusy)
	w.wx.Advance(7201 * time.Second)
	ctx := context.Background()
	if _, err := s.Token(ctx); APICode(err) != CodeBusy {
		t.Fatalf("expired token, refresh failing: %v", err)
	}
	if e := nextReport(t, errs); e.CachedFor != 0 || e.Backoff != time.Second {
		t.Fatalf("report %+v", e)
	}
	if _, err := s.Token(ctx); APICode(err) != CodeBusy || s.Fetches() != 2 {
		t.Fatalf("within the backoff: %v, %d fetches", err, s.Fetches())
	}
	w.wx.Advance(time.Second)
	if _, err := s.Token(ctx); APICode(err) != CodeBusy || s.Fetches() != 3 {
		t.Fatalf("after the backoff: %v, %d fetches", err, s.Fetches())
	}
	nextReport(t, errs)
	w.wx.SetTokenMode(fakeApp, fakewx.TokenOK)
	w.wx.Advance(2 * time.Second)
	if tok := token(t, s); tok != w.wx.AccessToken(fakeApp) {
		t.Fatal("no new token after WeChat recovered")
	}
}

// A refresh that hangs keeps no caller waiting while the token lives; the
// fetch's own timeout ends it and it is reported.
func TestTokenRefreshHangs(t *testing.T) {
	w := newWorld(t, fakewx.Config{})
	s, errs := w.source()
	s.FetchTimeout = 300 * time.Millisecond
	tok := token(t, s)
	w.wx.SetTokenMode(fakeApp, fakewx.TokenHang)
	w.wx.Advance(7200*time.Second - 200*time.Second)
	for i := 0; i < 5; i++ {
		if got := token(t, s); got != tok {
			t.Fatal("the cached token was not served while the refresh hangs")
		}
	}
	e := nextReport(t, errs)
	var we *Error
	if !errors.As(e.Err, &we) || we.Kind != KindTimeout || e.CachedFor <= 0 {
		t.Fatalf("report %+v", e)
	}
	if s.Fetches() != 2 {
		t.Errorf("%d fetches, want 2 (one at a time)", s.Fetches())
	}
}

// Without any failure: the refresh in the last 5 minutes gets WeChat's
// next token, and the old one still works meanwhile.
func TestTokenHandover(t *testing.T) {
	w := newWorld(t, fakewx.Config{})
	s, errs := w.source()
	old := token(t, s)
	w.wx.Advance(7200*time.Second - 299*time.Second)
	// The refresh is held until every caller has had its token: the
	// callers meanwhile get the cached one.
	gate := make(chan struct{})
	w.rec.mu.Lock()
	w.rec.gate = gate
	w.rec.mu.Unlock()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Go(func() {
			if got := token(t, s); got != old {
				t.Error("a caller did not get the cached token")
			}
		})
	}
	wg.Wait()
	close(gate)
	settle(t, s)
	fresh := token(t, s)
	if fresh == old || s.Fetches() != 2 {
		t.Fatalf("handover: new=%v, %d fetches", fresh != old, s.Fetches())
	}
	ctx := context.Background()
	if _, err := w.client.PhoneNumber(ctx, old, "phone-13800138000.1", ""); err != nil {
		t.Errorf("the old token in its last minutes: %v", err)
	}
	noReport(t, errs)
}

func TestTokenSingleFlight(t *testing.T) {
	w := newWorld(t, fakewx.Config{})
	s, _ := w.source()
	var wg sync.WaitGroup
	toks := make(chan string, 30)
	for i := 0; i < 30; i++ {
		wg.Go(func() { toks <- token(t, s) })
	}
	wg.Wait()
	close(toks)
	for tok := range toks {
		if tok != w.wx.AccessToken(fakeApp) {
			t.Fatal("callers got different tokens")
		}
	}
	if s.Fetches() != 1 {
		t.Errorf("30 callers made %d fetches", s.Fetches())
	}
}

func TestTokenBackoffBounds(t *testing.T) {
	s := &TokenSource{Client: &Client{}}
	for failures, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 6: 32 * time.Second, 7: time.Minute, 100: time.Minute} {
		if got := s.source().BackoffAfter(failures); got != want {
			t.Errorf("backoff(%d) = %v, want %v", failures, got, want)
		}
	}
	s = &TokenSource{Client: &Client{}, MinBackoff: 100 * time.Millisecond, MaxBackoff: 250 * time.Millisecond}
	if got := s.source().BackoffAfter(3); got != 250*time.Millisecond {
		t.Errorf("capped backoff %v", got)
	}
}

// The fake sends some error answers as text/plain, like WeChat: the
// client decodes them all the same.
func TestClientIgnoresContentType(t *testing.T) {
	w := newWorld(t, fakewx.Config{})
	ctx := context.Background()
	at, err := w.client.StableToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	w.wx.SetTokenMode(fakeApp, fakewx.TokenIPDenied)
	for i := 0; i < 2; i++ {
		_, err := w.client.StableToken(ctx, false)
		if APICode(err) != CodeIPNotWhitelisted || OperatorAction(APICode(err)) == "" {
			t.Fatalf("stable_token answer %d: %v", i, err)
		}
		_, err = w.client.PhoneNumber(ctx, at.Value, fmt.Sprintf("bad-%d", i), "")
		if APICode(err) != CodeInvalidCode {
			t.Fatalf("getuserphonenumber answer %d: %v", i, err)
		}
	}
	_, err = w.client.Code2Session(ctx, "bad-1")
	if APICode(err) != CodeInvalidCode {
		t.Fatalf("jscode2session: %v", err)
	}
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	if !w.rec.types["text/plain"] || len(w.rec.types) < 2 {
		t.Errorf("the answers came as %v: the test needs text/plain and JSON ones", w.rec.types)
	}
}

// PhoneNumber sends the openid: WeChat (and the fake) refuse a code that
// was handed out to another user.
func TestPhoneNumberSendsTheOpenID(t *testing.T) {
	w := newWorld(t, fakewx.Config{})
	ctx := context.Background()
	at, err := w.client.StableToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := fakewx.OpenID(fakeApp, "alice"), fakewx.OpenID(fakeApp, "bob")
	p, err := w.client.PhoneNumber(ctx, at.Value, "phone-13800138000.1@alice", alice)
	if err != nil || p.PurePhoneNumber != "13800138000" || p.Timestamp.IsZero() {
		t.Fatalf("alice's own code: %+v, %v", p, err)
	}
	if _, err := w.client.PhoneNumber(ctx, at.Value, "phone-13800138000.2@alice", bob); APICode(err) != CodeInvalidOpenID {
		t.Fatalf("alice's code with bob's openid: %v", err)
	}
	if _, err := w.client.PhoneNumber(ctx, at.Value, "phone-13800138000.3", ""); err != nil {
		t.Fatalf("no openid: %v", err)
	}
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	b := w.rec.bodies
	if !strings.Contains(b[1], `"openid":"`+alice+`"`) || strings.Contains(b[3], "openid") {
		t.Errorf("request bodies %q", b)
	}
}

func TestOperatorAction(t *testing.T) {
	for _, code := range []int{CodeInvalidAppID, CodeInvalidAppSecret, CodeIPNotWhitelisted, CodeDailyQuota, CodeMissingAppID, CodeMissingSecret} {
		if OperatorAction(code) == "" {
			t.Errorf("%d has no action", code)
		}
	}
	for _, code := range []int{0, CodeBusy, CodeInvalidCode, CodeRateLimited, CodeInvalidCredential} {
		if OperatorAction(code) != "" {
			t.Errorf("%d has an action", code)
		}
	}
	if !strings.Contains(OperatorAction(CodeIPNotWhitelisted), "whitelist") || !strings.Contains(OperatorAction(CodeDailyQuota), "quota") {
		t.Error("actions do not say what to do")
	}
}
