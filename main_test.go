package wechatauth_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/wechat-auth/wechat_auth/internal/testharness"
)

// TestMain runs the tests with HOME and the XDG directories in a temporary
// directory, so that Caddy's autosave.json, its storage and anything else
// written "at home" stays out of the user's home; it removes that directory
// and the Caddy binary a test built. Only `go build` (testharness.Binary)
// runs in the environment the test binary started with; everything else
// (Caddy in this process, the Caddy, redis-server and node processes the
// tests start) sees the temporary home.
func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

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

	defer testharness.RemoveBinaries()
	// The Caddy-process tests need ./cmd/caddy: built beside the tests
	// that run first.
	flag.Parse()
	testharness.Prebuild("./cmd/caddy")
	return m.Run()
}
