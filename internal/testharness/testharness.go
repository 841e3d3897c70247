// Package testharness holds what the black-box test packages share that
// knows nothing of the module under test: the Go environment the tests
// started with, free ports, the binaries they build once per test process
// (cmd/caddy, cmd/demo), and the one way they run such a binary as a
// child process.
package testharness

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// startEnv is the environment the test process started with, taken when
// this package is initialized, before a TestMain moves HOME and the XDG
// directories: `go build` runs in it (the user's build cache, module cache
// and go env file, so nothing is downloaded or compiled afresh).
var startEnv = os.Environ()

// StartEnv returns the environment the test process started with.
func StartEnv() []string { return append([]string(nil), startEnv...) }

// RepoRoot is the repository root (the directory of go.mod), found from
// the working directory upward: a test package's directory is its own.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := repoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
}

var (
	portsMu sync.Mutex
	ports   = map[int]bool{} // handed out by FreePort
)

// FreePort returns a TCP port free on 127.0.0.1 just now, and not handed
// out by FreePort before in this process: the kernel may offer a port
// again once its listener is closed, so two ports picked for one config
// (a site and its admin, say) could be the same.
func FreePort(tb testing.TB) int {
	tb.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !ports[port] {
			ports[port] = true
			return port
		}
	}
	tb.Fatal("no free port that was not handed out before")
	return 0
}

// WaitListening polls addr until it accepts a connection (10 s at most).
func WaitListening(tb testing.TB, addr string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("nothing listens on %s", addr)
}

var (
	buildMu  sync.Mutex
	builds   = map[string]func() (string, error){}
	buildDir string
)

// Binary builds the main package pkg (a path from the repository root,
// such as "./cmd/caddy") once per test process and returns the binary's
// path. It builds with -race when the tests run with it (so the build
// reuses their compiled packages), in StartEnv, from the repository root.
// RemoveBinaries removes what it built.
func Binary(tb testing.TB, pkg string) string {
	tb.Helper()
	bin, err := builder(RepoRoot(tb), pkg)()
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// builder returns the one build of pkg of this process.
func builder(root, pkg string) func() (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	build, ok := builds[pkg]
	if !ok {
		build = sync.OnceValues(func() (string, error) { return goBuild(root, pkg) })
		builds[pkg] = build
	}
	return build
}

func goBuild(root, pkg string) (string, error) {
	buildMu.Lock()
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "wechat_auth_bin")
		if err != nil {
			buildMu.Unlock()
			return "", err
		}
		buildDir = dir
	}
	dir := buildDir
	buildMu.Unlock()
	bin := filepath.Join(dir, filepath.Base(pkg))
	args := []string{"build", "-o", bin}
	if RaceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir, cmd.Env = root, startEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// RemoveBinaries removes every binary Binary built (call it from TestMain,
// after m.Run).
func RemoveBinaries() {
	buildMu.Lock()
	var pending []func() (string, error)
	for _, b := range builds {
		pending = append(pending, b)
	}
	buildMu.Unlock()
	for _, b := range pending {
		_, _ = b() // a build still under way (Prebuild) finishes first
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
		buildDir = ""
	}
}
