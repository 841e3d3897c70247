package wechatauth_test

// The black-box harness: a real Caddy, loaded in this process from a real
// Caddyfile, in front of the fake WeChat (cmd/wxfake/fakewx) and an echo
// upstream (cmd/echo/echoserver), spoken to over HTTP on loopback.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/wechat-auth/wechat_auth"
	"github.com/wechat-auth/wechat_auth/internal/echoserver"
	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/testharness"
)

// The apps the fake WeChat knows.
const (
	appA      = "wxtestapp0000000a"
	secretA   = "secret-of-app-a-0123456789abcdef"
	appB      = "wxtestapp0000000b"
	secretB   = "secret-of-app-b-fedcba9876543210"
	secretEnv = "WXAUTH_TEST_SECRET_A"
	// the app of WeChat's published test vector
	appVector    = "wx4f4bc4dec97d474b"
	secretVector = "secret-of-the-vector-app-00000000"
)

// env is one test's world: fake WeChat, echo upstream, a running Caddy.
type env struct {
	t        *testing.T
	wx       *fakewx.Server
	wxURL    string
	upURL    string
	port     int    // Caddy's HTTP port
	base     string // http://127.0.0.1:port
	adminURL string
	logPath  string
	client   *http.Client
	upHits   *atomic.Int64     // requests the upstream got
	extra    map[string]string // envOptions.Vars
	loaded   bool              // a config was loaded on port before: the next load is a reload
	proc     *caddyProcess     // Caddy as a child process (envOptions.Process); nil: in this process

	mu      sync.Mutex
	secrets map[string]string // value -> what it is; none may appear in the log
}

// siteVars fill the Caddyfile templates.
type siteVars struct {
	Port      int
	Admin     string
	Log       string
	WeChat    string
	Upstream  string
	AppA      string
	AppB      string
	SecretB   string
	SecretEnv string
	// Vars are a test's own values (envOptions.Vars).
	Vars map[string]string
}

// defaultSites: the app under test on three routes (one per require mode,
// three blocks of one app sharing a store), and app B under /b/ (its
// prefix stripped, so /b/wx/login is app B's login).
const defaultSites = `
http://127.0.0.1:{{.Port}} {
	handle /phone/* {
		wechat_auth {
			{{template "appA" .}}
			require phone
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
	handle /open/* {
		wechat_auth {
			{{template "appA" .}}
			require none
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
	handle_path /b/* {
		wechat_auth {
			app_id {{.AppB}}
			app_secret {{.SecretB}}
			api_base {{.WeChat}}
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
}
`

// globalOptions: admin on a free port, no autosave.json (persist_config
// off; TestMain also moves HOME to a temp dir), DEBUG logs to a file (with
// the filter the README recommends, which keeps reverse_proxy's DEBUG line
// from showing the X-WX-Phone it sends upstream), underscore and dot
// header names let through so that stripping them is our job.
//
// It also defines the templates "appACreds", the lines that make a block
// (wechat_auth or wechat_api) app A's against the fake WeChat, and "appA",
// a wechat_auth block's: the same and the app's store settings (every
// block of an app must give the same); "appAApp" and "appBApp" are apps
// A and B as app blocks (without store settings: a block serving app A
// gives session_ttl 2h, as "appA" does).
const globalOptions = `{{define "appACreds"}}app_id {{.AppA}}
			app_secret {env.{{.SecretEnv}}}
			api_base {{.WeChat}}{{end}}{{define "appA"}}{{template "appACreds" .}}
			session_ttl 2h{{end}}{{define "appAApp"}}app {{.AppA}} {
				app_secret {env.{{.SecretEnv}}}
				api_base {{.WeChat}}
			}{{end}}{{define "appBApp"}}app {{.AppB}} {
				platform wechat
				app_secret {{.SecretB}}
				api_base {{.WeChat}}
			}{{end}}{
	admin {{.Admin}}
	persist_config off
	auto_https off
	http_port {{.Port}}
	servers {
		expected_underscore_headers x_wx_*
		expected_dot_headers x.wx.*
	}
	log {
		output file {{.Log}}
		level DEBUG
		format filter {
			wrap json
			fields {
				request>headers>X-Wx-Phone delete
			}
		}
	}
}
`

// newEnv starts the fake WeChat and the upstream, and Caddy with sites
// (a template over siteVars; defaultSites when empty).
func newEnv(t *testing.T, sites string) *env {
	t.Helper()
	return newEnvWith(t, sites, fakewx.Config{})
}

// newEnvWith is newEnv with the fake WeChat configured by wxCfg (its Apps
// are the test apps).
func newEnvWith(t *testing.T, sites string, wxCfg fakewx.Config) *env {
	t.Helper()
	return newEnvOpts(t, sites, envOptions{WeChat: wxCfg})
}

// envOptions set up a test's world beyond the defaults.
type envOptions struct {
	// WeChat configures the fake WeChat (its Apps are the test apps).
	WeChat fakewx.Config
	// Fakes mount other platforms' fakes on the fake's address, each in
	// front of what comes after it (the fake WeChat last): such as
	//	func(next http.Handler) http.Handler { return fakeqq.Route(next, qq) }
	// so that an app block's api_base {{.WeChat}} reaches every fake, each
	// on its platform's real paths. Their Close goes to t.Cleanup.
	Fakes []func(next http.Handler) http.Handler
	// Vars are more template values for the sites: {{.Vars.name}}.
	Vars map[string]string
	// Secrets are values that must never appear in Caddy's log (secrets,
	// keys), with what each is.
	Secrets map[string]string
	// Process runs Caddy as a child process (cmd/caddy) instead of in
	// this process, so that the test can call t.Parallel (before
	// newEnvOpts: it must not use t.Setenv or the export_test.go hooks).
	Process bool
}

// newEnvOpts is newEnv with options: other platforms' fakes beside the
// fake WeChat, template values for their app blocks, and their secrets
// for the log check; with Process, Caddy runs as a child process.
func newEnvOpts(t *testing.T, sites string, opts envOptions) *env {
	t.Helper()
	skipInShort(t)
	e := newWorld(t, opts)
	if opts.Process {
		e.startProcess(sites)
		return e
	}
	t.Setenv(secretEnv, secretA)
	e.load(sites)
	t.Cleanup(func() {
		if err := caddy.Stop(); err != nil {
			t.Errorf("stopping caddy: %v", err)
		}
		e.checkLogs(t, e.logPath)
	})
	return e
}

// newWorld is a test's world without a Caddy: the fakes, the upstream, the
// client, the secrets, free ports for a Caddy; for the tests that start
// their own Caddy processes (startCaddyProcess), which can run in parallel.
func newWorld(t *testing.T, opts envOptions) *env {
	t.Helper()
	skipInShort(t)
	wxCfg := opts.WeChat
	wxCfg.Apps = map[string]string{appA: secretA, appB: secretB, appVector: secretVector}
	wx := fakewx.New(wxCfg)
	var fake http.Handler = wx
	for i := len(opts.Fakes) - 1; i >= 0; i-- {
		fake = opts.Fakes[i](fake)
	}
	wxSrv := httptest.NewServer(fake)
	t.Cleanup(func() { wx.Close(); wxSrv.Close() })
	e0 := &upstreamCounter{next: echoserver.Handler(nil)}
	up := httptest.NewServer(e0)
	t.Cleanup(up.Close)

	e := &env{
		t: t, wx: wx, wxURL: wxSrv.URL, upURL: up.URL,
		logPath: filepath.Join(t.TempDir(), "caddy.log"),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 500, MaxConnsPerHost: 0,
		}},
		secrets: map[string]string{secretA: "app_secret A", secretB: "app_secret B", secretVector: "app_secret"},
		upHits:  &e0.hits,
		extra:   opts.Vars,
	}
	for v, what := range opts.Secrets {
		e.secrets[v] = what
	}
	t.Cleanup(e.client.CloseIdleConnections)
	e.port = freePort(t)
	e.base = fmt.Sprintf("http://127.0.0.1:%d", e.port)
	admin := freePort(t)
	e.adminURL = fmt.Sprintf("http://127.0.0.1:%d", admin)
	return e
}

// startProcess runs sites in a Caddy child process on the env's ports and
// log, so that e.do, e.login, e.adminURL, e.logText and the log check are
// that process's.
func (e *env) startProcess(sites string) {
	e.t.Helper()
	if sites == "" {
		sites = defaultSites
	}
	v := e.vars()
	e.proc = runCaddyProcess(e.t, e, filepath.Dir(e.logPath), v, e.render(sites))
	waitListening(e.t, fmt.Sprintf("127.0.0.1:%d", e.port))
	e.settle()
}

// smokeTest is the one test through Caddy that `go test -short` runs.
const smokeTest = "TestRepoCaddyfileRunsTheDemo"

// skipInShort skips a test through Caddy under -short, but the smoke test.
func skipInShort(t *testing.T) {
	t.Helper()
	if testing.Short() && t.Name() != smokeTest {
		t.Skip("-short: runs through Caddy (only " + smokeTest + " does under -short)")
	}
}

// vars returns the template values for this env.
func (e *env) vars() siteVars {
	return siteVars{
		Port: e.port, Admin: strings.TrimPrefix(e.adminURL, "http://"), Log: e.logPath,
		WeChat: e.wxURL, Upstream: strings.TrimPrefix(e.upURL, "http://"),
		AppA: appA, AppB: appB, SecretB: secretB, SecretEnv: secretEnv, Vars: e.extra,
	}
}

// adapt renders sites under the global options and adapts the Caddyfile
// to JSON, as `caddy adapt` would.
func (e *env) adapt(sites string) []byte {
	e.t.Helper()
	caddyfile := e.render(sites)
	cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		e.t.Fatalf("adapting Caddyfile: %v\n%s", err, caddyfile)
	}
	for _, w := range warnings {
		if strings.Contains(w.Message, "not formatted") {
			continue
		}
		e.t.Logf("caddyfile warning: %s", w.String())
	}
	return cfg
}

// render renders sites under the global options with the env's values.
func (e *env) render(sites string) string {
	e.t.Helper()
	return renderSites(e.t, e.vars(), sites)
}

// renderSites renders sites under the global options with v.
func renderSites(t *testing.T, v siteVars, sites string) string {
	t.Helper()
	return renderCaddyfile(t, globalOptions+sites, v)
}

// renderCaddyfile executes the template text with data.
func renderCaddyfile(t *testing.T, text string, data any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := template.Must(template.New("caddyfile").Parse(text)).Execute(&buf, data); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// load runs the config (replacing any running one): in this process, or
// through the admin API of the env's Caddy process.
func (e *env) load(sites string) {
	e.t.Helper()
	if sites == "" {
		sites = defaultSites
	}
	if e.proc != nil {
		e.reloadViaAdmin(sites)
		return
	}
	e.run(e.adapt(sites))
}

// loadCaddyfile runs a complete Caddyfile, global options and all.
func (e *env) loadCaddyfile(caddyfile string) {
	e.t.Helper()
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		e.t.Fatalf("adapting Caddyfile: %v", err)
	}
	e.run(cfg)
}

func (e *env) run(cfg []byte) {
	e.t.Helper()
	if err := caddy.Load(cfg, true); err != nil {
		e.t.Fatalf("loading config: %v", err)
	}
	waitListening(e.t, fmt.Sprintf("127.0.0.1:%d", e.port))
	e.settle()
}

// settle waits, after a config load, until the new config answers (a GET,
// which Go retries on a connection the old server closed), waits for the
// old servers to stop listening (a reload lets them shut down in the
// background; the first load on the env's port has none), then forgets the
// kept-alive connections: a POST sent on one the old server closes would
// fail (Go retries only idempotent requests).
func (e *env) settle() {
	reload := e.loaded
	e.loaded = true
	for i := 0; i < 50; i++ {
		resp, err := e.client.Get(e.base + "/wx/settle-probe")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if reload {
		e.waitOldServersClosed()
	}
	e.client.CloseIdleConnections()
}

// waitOldServersClosed waits, after a reload, until the old config's
// servers have closed their listener on the env's port. Caddy on Unix
// binds each config's listener anew (SO_REUSEPORT), so until then the
// kernel can hand a new connection to an old server, which closes it.
// In this process the listener pool tells for the env's port (its count
// falls back to the new config's one); then every listener (a gateway's
// port too, or a child process's) gets the fixed moment it had before.
func (e *env) waitOldServersClosed() {
	if e.proc == nil {
		addr := fmt.Sprintf(":%d", e.port)
		for deadline := time.Now().Add(5 * time.Second); caddy.ListenerUsage("tcp", addr) > 1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				e.t.Fatalf("the old config still listens on %s 5 s after a reload", addr)
			}
		}
	}
	// other listeners of the config (a gateway's port) get a moment too
	time.Sleep(50 * time.Millisecond)
}

// reloadViaAdmin posts a new config to the admin API, as `caddy reload` does.
func (e *env) reloadViaAdmin(sites string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.adminURL+"/load", bytes.NewReader(e.adapt(sites)))
	// A connection of its own: Caddy replaces its admin server at every
	// load, closing kept-alive connections, and a POST is not retried.
	req.Close = true
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cache-Control", "must-revalidate") // force a reload even if unchanged
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("admin /load: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("admin /load: %d %s", resp.StatusCode, body)
	}
	e.settle()
}

// caddyProcess is Caddy running as a child process.
type caddyProcess struct {
	base     string
	adminURL string
	logPath  string
	proc     *testharness.Process
}

// startCaddyProcess runs the built Caddy with caddyfile (a template over
// siteVars, under globalOptions) on a free port, its admin API on another,
// and waits until it listens.
func startCaddyProcess(t *testing.T, e *env, caddyfile string) *caddyProcess {
	t.Helper()
	dir := t.TempDir()
	v := e.vars()
	v.Port, v.Admin, v.Log = freePort(t), fmt.Sprintf("127.0.0.1:%d", freePort(t)), filepath.Join(dir, "caddy.log")
	p := runCaddyProcess(t, e, dir, v, renderSites(t, v, caddyfile))
	waitListening(t, fmt.Sprintf("127.0.0.1:%d", v.Port))
	return p
}

// runCaddyProcess starts Caddy as a child process (this test binary as
// Caddy's command: see TestMain) with the rendered Caddyfile in dir,
// listening as v says, with the app secret in its environment, HOME and
// XDG in dir (Caddy's storage its own unless the Caddyfile names one),
// and more (name=value) after it. When the test ends it stops the process
// and greps its logs for every secret seen.
func runCaddyProcess(t *testing.T, e *env, dir string, v siteVars, caddyfile string, moreEnv ...string) *caddyProcess {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfPath, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &caddyProcess{base: fmt.Sprintf("http://127.0.0.1:%d", v.Port), adminURL: "http://" + v.Admin, logPath: v.Log}
	cmd := exec.Command(bin, "run", "--config", cfPath, "--adapter", "caddyfile")
	cmd.Env = append(append(os.Environ(), runAsCaddy+"=1", secretEnv+"="+secretA,
		"HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir), moreEnv...)
	out := filepath.Join(dir, "stdout.log")
	p.proc = testharness.Start(t, cmd, out, 10*time.Second, func(bool) {

		e.checkLogs(t, p.logPath, out)
	})
	return p
}

// stop stops the process now (SIGTERM; killed after 10 s).
func (p *caddyProcess) stop() { p.proc.Stop() }

// at sends a request to a Caddy child process; hdr is name, value, ...
func (e *env) at(p *caddyProcess, method, path, body string, hdr ...string) answer {
	e.t.Helper()
	req, _ := http.NewRequest(method, p.base+path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.send(req)
}

func freePort(t *testing.T) int { t.Helper(); return testharness.FreePort(t) }

func waitListening(t *testing.T, addr string) { t.Helper(); testharness.WaitListening(t, addr) }

// secret records a value that must never appear in Caddy's log.
func (e *env) secret(value, what string) {
	if value == "" {
		return
	}
	e.mu.Lock()
	e.secrets[value] = what
	e.mu.Unlock()
}

// checkLogHasNoSecrets greps the whole DEBUG log for every secret seen.
func (e *env) checkLogHasNoSecrets() {
	e.t.Helper()
	e.checkLogs(e.t, e.logPath)
}

// checkLogs greps the log files of a Caddy (its log, then any other
// output) for every secret seen; the log must have DEBUG lines.
func (e *env) checkLogs(t *testing.T, log string, more ...string) {
	t.Helper()
	e.recordSessionKeys()
	raw, err := os.ReadFile(log)
	if err != nil {
		t.Errorf("reading caddy log: %v", err)
		return
	}
	if !bytes.Contains(raw, []byte(`"level":"debug"`)) {
		t.Errorf("the caddy log %s has no DEBUG lines: the grep would prove nothing", filepath.Base(log))
	}
	logs := map[string][]byte{log: raw}
	for _, p := range more {
		logs[p], _ = os.ReadFile(p)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for value, what := range e.secrets {
		for p, raw := range logs {
			if bytes.Contains(raw, []byte(value)) {
				t.Errorf("%s contains %s (%q)", filepath.Base(p), what, value)
			}
		}
	}
}

// logText returns the log so far.
func (e *env) logText() string {
	raw, _ := os.ReadFile(e.logPath)
	return string(raw)
}

// answer is an HTTP answer, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %q", a.status, err, a.body)
	}
	return m
}

// errorCode checks the answer is a JSON error of the given status and
// returns its "error" code.
func (a answer) errorCode(t *testing.T, status int) string {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error answer has Content-Type %q", ct)
	}
	m := a.json(t)
	code, _ := m["error"].(string)
	msg, _ := m["message"].(string)
	if code == "" || msg == "" {
		t.Fatalf("error answer lacks error or message: %s", a.body)
	}
	return code
}

// upstream decodes an answer that came from the echo upstream.
func (a answer) upstream(t *testing.T) echoserver.Answer {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("status %d, want 200 from upstream: %s", a.status, a.body)
	}
	var up echoserver.Answer
	if err := json.Unmarshal(a.body, &up); err != nil || up.Method == "" {
		t.Fatalf("answer did not come from the upstream: %s", a.body)
	}
	return up
}

// do sends a request to Caddy. hdr is name, value, name, value...
func (e *env) do(method, path, body string, hdr ...string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) answer {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

// login logs in with code at prefix (""  or "/b") and returns the token.
func (e *env) login(prefix, code string) string {
	e.t.Helper()
	a := e.do("POST", prefix+"/wx/login", fmt.Sprintf(`{"code":%q}`, code))
	if a.status != http.StatusOK {
		e.t.Fatalf("login %q: %d %s", code, a.status, a.body)
	}
	m := a.json(e.t)
	tok, _ := m["token"].(string)
	if tok == "" {
		e.t.Fatalf("login answer has no token: %s", a.body)
	}
	e.secret(tok, "a session token")
	e.recordSessionKeys()
	return tok
}

// recordSessionKeys adds every session_key the fake handed out so far.
func (e *env) recordSessionKeys() {
	for _, app := range []string{appA, appB} {
		for _, user := range knownUsers {
			e.recordUserKeys(app, user)
		}
	}
	e.secret(e.wx.AccessToken(appA), "an access_token")
	e.secret(e.wx.AccessToken(appB), "an access_token")
}

// knownUsers are the user names tests log in with (for the log grep).
var knownUsers = []string{"alice", "bob", "carol", "dave", "erin", "frank", "gina", "hugo", "jack"}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// loginRaw logs in without failing the test (for use in goroutines).
func loginRaw(e *env, code string) (token string, status int, err error) {
	resp, err := e.client.Post(e.base+"/wx/login", "application/json", strings.NewReader(fmt.Sprintf(`{"code":%q}`, code)))
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var m struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return "", resp.StatusCode, err
	}
	return m.Token, resp.StatusCode, nil
}

// decodeUpstream reads an answer that must come from the echo upstream.
func decodeUpstream(resp *http.Response) (echoserver.Answer, error) {
	var up echoserver.Answer
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return up, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(&up); err != nil || up.Method == "" {
		return up, fmt.Errorf("not from the upstream: %v", err)
	}
	return up, nil
}

// recordUserKeys adds a user's session_keys to the secrets.
func (e *env) recordUserKeys(app, user string) {
	cur, prev := e.wx.SessionKeys(app, fakewx.OpenID(app, user))
	e.secret(cur, "a session_key")
	e.secret(prev, "a session_key")
}

// upstreamCounter counts the requests that reach the upstream.
type upstreamCounter struct {
	hits atomic.Int64
	next http.Handler
}

func (u *upstreamCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.hits.Add(1)
	u.next.ServeHTTP(w, r)
}

// raw sends a request written by hand (request target and header names
// exactly as given, which Go's client would clean or canonicalize) and
// reads the answer.
func (e *env) raw(method, target string, headers [][2]string, body string) answer {
	e.t.Helper()
	return e.rawRequest(method, target, append([][2]string{{"Connection", "close"}}, headers...), body)
}

// rawRequest is raw without a Connection header of its own: headers are
// all the request has but Host and Content-Length.
func (e *env) rawRequest(method, target string, headers [][2]string, body string) answer {
	e.t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", e.port), 5*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", method, target, e.port)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, rb}
}
