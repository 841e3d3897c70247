// Package testredis runs a real redis-server on a free loopback port for
// tests: started, stopped, paused and restarted at will.
package testredis

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server child process.
type Server struct {
	Port int
	dir  string
	cmd  *exec.Cmd
	tb   testing.TB
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

// Start runs redis-server (from PATH) on a free port until the test ends.
// Without redis-server the test skips (see RequireTool).
func Start(tb testing.TB) *Server {
	tb.Helper()
	RequireTool(tb, "redis-server", "apt-get install -y redis-server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{Port: port, dir: tb.TempDir(), tb: tb}
	s.start()
	tb.Cleanup(s.Stop)
	return s
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port) }

// Addr is host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

func (s *Server) start() {
	s.tb.Helper()
	s.cmd = exec.Command("redis-server", "--port", fmt.Sprint(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("starting redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s.ping() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.tb.Fatalf("redis-server on port %d did not answer PING", s.Port)
}

func (s *Server) ping() bool {
	c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// Stop kills the server (its data is gone: it never saves).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case it was paused
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts a stopped server again on the same port, empty.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.start()
}

// Pause freezes the server (SIGSTOP): connections hang, as with a Redis
// that is overloaded or behind a dead link.
func (s *Server) Pause() { _ = s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume undoes Pause.
func (s *Server) Resume() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }
