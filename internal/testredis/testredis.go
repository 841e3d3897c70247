// Package testredis runs real redis-server processes for tests: a single
// server (started, stopped, paused and restarted at will), a Redis Cluster,
// a primary with a replica watched by Sentinels, and a TCP proxy that can
// freeze a link. Everything listens on 127.0.0.1 on free ports, keeps its
// files under the test's temp dir, and is killed when the test ends.
//
// Where redis-server is not installed the tests that need it are skipped
// (with WXAUTH_REQUIRE_TOOLS=1 in the environment they fail instead).
package testredis

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/testharness"
)

// Server is a redis-server child process.
type Server struct {
	Port int
	// Socket is the server's unix socket path, when started with one.
	Socket string
	// Password is the requirepass the server was started with, if any;
	// Do authenticates with it.
	Password string
	// TLS: the server speaks TLS only.
	TLS bool

	dir    string
	args   []string
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has exited
	tb     testing.TB
}

// RequireToolsEnv names the environment variable that turns a missing
// program into a test failure (.ci/run sets it to 1).
const RequireToolsEnv = "WXAUTH_REQUIRE_TOOLS"

// RequireTool returns the path of the program name from PATH. Without it,
// the test skips with one line saying how to install it (hint), or fails
// when WXAUTH_REQUIRE_TOOLS=1.
func RequireTool(tb testing.TB, name, hint string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv(RequireToolsEnv) == "1" {
		tb.Fatalf("%s is not on the PATH (install: %s), and %s=1 requires it", name, hint, RequireToolsEnv)
	}
	tb.Skipf("%s is not on the PATH; install it to run this test: %s", name, hint)
	return ""
}

// Options change how StartWith starts a server.
type Options struct {
	// Args are more redis-server arguments ("--replicaof", "127.0.0.1 7000").
	Args []string
	// Password makes the server require it (requirepass).
	Password string
	// Unix makes the server listen on a unix socket too (Server.Socket).
	Unix bool
	// Cluster starts the server with cluster-enabled yes, on a port whose
	// cluster bus port (+10000) is free too.
	Cluster bool
	// Sentinel starts a Sentinel (redis-server --sentinel) with these
	// lines in its sentinel.conf, instead of a data server.
	Sentinel []string
	// Port is the port to listen on (default: a free one).
	Port int
	// TLSCertFile and TLSKeyFile make the server speak TLS only (no
	// client certificates asked), with that certificate.
	TLSCertFile, TLSKeyFile string
}

// Need skips the test (or fails it, with WXAUTH_REQUIRE_TOOLS=1) when tool
// is not on PATH.
func Need(tb testing.TB, tool string) {
	tb.Helper()
	pkg := "redis-server"
	if tool != "redis-server" {
		pkg = "redis-tools"
	}
	RequireTool(tb, tool, "apt-get install -y "+pkg)
}

// Start runs redis-server (from PATH) on a free port until the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return StartWith(tb, Options{})
}

// StartWith runs redis-server with o until the test ends. A free port it
// picked that another process takes before the server binds it (tests
// running in parallel) is replaced by another.
func StartWith(tb testing.TB, o Options) *Server {
	tb.Helper()
	Need(tb, "redis-server")
	for attempt := 1; ; attempt++ {
		port := o.Port
		switch {
		case port != 0:
		case o.Cluster:
			port = freeClusterPort(tb)
		default:
			port = FreePort(tb)
		}
		s := newServer(tb, o, port)
		err := s.launch()
		if err == nil {
			tb.Cleanup(s.Stop)
			return s
		}
		if o.Port != 0 || !errors.Is(err, errPortTaken) || attempt == 5 {
			tb.Fatal(err)
		}
	}
}

// newServer makes the Server StartWith launches on port.
func newServer(tb testing.TB, o Options, port int) *Server {
	tb.Helper()
	s := &Server{Port: port, Password: o.Password, TLS: o.TLSCertFile != "", dir: tb.TempDir(), tb: tb}
	if o.Sentinel != nil {
		conf := filepath.Join(s.dir, "sentinel.conf")
		lines := append([]string{
			fmt.Sprintf("port %d", port),
			"bind 127.0.0.1",
			"dir " + s.dir,
		}, o.Sentinel...)
		if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			tb.Fatal(err)
		}
		s.args = []string{conf, "--sentinel", "--loglevel", "warning"}
	} else {
		s.args = []string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning"}
		if s.TLS {
			s.args = append(s.args, "--port", "0", "--tls-port", fmt.Sprint(port),
				"--tls-cert-file", o.TLSCertFile, "--tls-key-file", o.TLSKeyFile, "--tls-auth-clients", "no")
		}
		if o.Password != "" {
			s.args = append(s.args, "--requirepass", o.Password, "--masterauth", o.Password)
		}
		if o.Unix {
			s.Socket = filepath.Join(s.dir, "redis.sock")
			s.args = append(s.args, "--unixsocket", s.Socket, "--unixsocketperm", "700")
		}
		if o.Cluster {
			s.args = append(s.args, "--cluster-enabled", "yes", "--cluster-config-file",
				filepath.Join(s.dir, "nodes.conf"), "--cluster-node-timeout", "2000")
		}
	}
	s.args = append(s.args, o.Args...)
	return s
}

// URL is the server's redis:// (rediss:// with TLS) URL, with its
// password if any.
func (s *Server) URL() string {
	scheme := "redis"
	if s.TLS {
		scheme = "rediss"
	}
	if s.Password != "" {
		return fmt.Sprintf("%s://:%s@127.0.0.1:%d/0", scheme, s.Password, s.Port)
	}
	return fmt.Sprintf("%s://127.0.0.1:%d/0", scheme, s.Port)
}

// Addr is host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// errPortTaken: the server could not have its port, which another
// process holds.
var errPortTaken = errors.New("testredis: port taken")

// launch runs the server and waits until it answers: it, not another
// process on its port (a server whose bind failed exits).
func (s *Server) launch() error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command("redis-server", s.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Start()
	logf.Close()
	if err != nil {
		return fmt.Errorf("starting redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	log := func() []byte { b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log")); return b }
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			s.cmd = nil
			if l := log(); bytes.Contains(l, []byte("already in use")) {
				return fmt.Errorf("%w: redis-server on port %d: %s", errPortTaken, s.Port, l)
			}
			return fmt.Errorf("redis-server on port %d exited; its log:\n%s", s.Port, log())
		default:
		}
		if !s.ping() {
			continue
		}
		if pid := s.Info("process_id"); pid != strconv.Itoa(cmd.Process.Pid) {
			s.Stop()
			return fmt.Errorf("%w: another redis-server (pid %s) answers on port %d", errPortTaken, pid, s.Port)
		}
		return nil
	}
	s.Stop()
	return fmt.Errorf("redis-server on port %d did not answer PING; its log:\n%s", s.Port, log())
}

func (s *Server) ping() bool {
	v, err := s.cmd1("", "PING")
	if err != nil {
		// a server that wants AUTH answers, so it is up
		return strings.HasPrefix(err.Error(), "NOAUTH")
	}
	return v == "PONG"
}

// Do runs one command on the server (authenticated with its password) and
// returns its reply: a string, an int64, nil, or a []any of those.
func (s *Server) Do(args ...string) (any, error) { return s.cmd1(s.Password, args...) }

func (s *Server) cmd1(password string, args ...string) (any, error) {
	if !s.TLS {
		return Cmd(s.Addr(), password, args...)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", s.Addr(),
		&tls.Config{InsecureSkipVerify: true}) // a test's own server
	if err != nil {
		return nil, err
	}
	return cmdOn(c, password, args...)
}

// MustDo is Do, failing the test on an error reply.
func (s *Server) MustDo(args ...string) any {
	s.tb.Helper()
	v, err := s.Do(args...)
	if err != nil {
		s.tb.Fatalf("redis %s on %s: %v", strings.Join(args, " "), s.Addr(), err)
	}
	return v
}

// Info returns one field of INFO (e.g. "role", "master_repl_offset").
func (s *Server) Info(field string) string {
	v, err := s.Do("INFO")
	if err != nil {
		return ""
	}
	str, _ := v.(string)
	for _, line := range strings.Split(str, "\r\n") {
		if k, val, ok := strings.Cut(line, ":"); ok && k == field {
			return val
		}
	}
	return ""
}

// Stop kills the server (its data is gone: it never saves).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case it was paused
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart starts a stopped server again on the same port, empty.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	if err := s.launch(); err != nil {
		s.tb.Fatal(err)
	}
}

// Pause freezes the server (SIGSTOP): connections hang, as with a Redis
// that is overloaded or behind a dead link.
func (s *Server) Pause() { _ = s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume undoes Pause.
func (s *Server) Resume() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }

// FreePort returns a loopback TCP port that was free a moment ago
// (testharness.FreePort).
func FreePort(tb testing.TB) int {
	tb.Helper()
	return testharness.FreePort(tb)
}

// freeClusterPort returns a free port p whose cluster bus port p+10000 is
// free too.
func freeClusterPort(tb testing.TB) int {
	tb.Helper()
	for i := 0; i < 100; i++ {
		p := FreePort(tb)
		if p+10000 > 65535 {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000))
		if err != nil {
			continue
		}
		ln.Close()
		return p
	}
	tb.Fatal("no free port p with p+10000 free too")
	return 0
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
