package wechatauth_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	_ "time/tzdata" // as cmd/caddy

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/wechat-auth/wechat_auth/internal/testharness"
)

// TestMain runs the tests with HOME and the XDG directories in a temporary
// directory, so that Caddy's autosave.json, its storage and anything else
// written "at home" stays out of the user's home; it removes that directory.
// Everything (Caddy in this process, the Caddy, redis-server and node
// processes the tests start) sees the temporary home.
//
// With runAsCaddy=1 in its environment the test binary is Caddy's own
// command instead (caddycmd.Main, what cmd/caddy's main runs, with the
// same modules: the standard ones and this one): the Caddy processes the
// tests start (runCaddyProcess) are this binary, so no test waits for a
// build of cmd/caddy (a link of Caddy, with -race under -race).
func TestMain(m *testing.M) {
	if os.Getenv(runAsCaddy) == "1" {
		caddycmd.Main()
		return
	}
	testharness.QuickExit()
	os.Exit(runTests(m))
}

// runAsCaddy is the environment variable that makes the test binary Caddy.
const runAsCaddy = "WXAUTH_TEST_RUN_AS_CADDY"

func runTests(m *testing.M) int {
	home, err := os.MkdirTemp("", "wechat_auth_home")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(home)
	for name, dir := range map[string]string{
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, ".config"),
		"XDG_DATA_HOME":   filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME":  filepath.Join(home, ".cache"),
	} {
		if err := os.Setenv(name, dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	// Caddy computed these from the real home when its package loaded.
	caddy.ConfigAutosavePath = filepath.Join(caddy.AppConfigDir(), "autosave.json")
	caddy.DefaultStorage.Path = caddy.AppDataDir()

	// The parallel tests (each with its own Caddy process, Chromium or
	// node) mostly wait on timers and child processes: run 4 at once,
	// not GOMAXPROCS at a time, unless -parallel says otherwise (16 at
	// once starved their Caddy processes' start on a loaded 2-core machine).
	testharness.Parallel(4)
	return m.Run()
}
