package wechatauth_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fakeworld "github.com/wechat-auth/wechat_auth/internal/fake/world"
	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// TestMiniProgramHelper runs the tests of the mini program helper
// (the package client/, whose index.js examples/miniprogram/wxauth.js
// copies, with Node's built-in runner) against this package's test world:
// the fake WeChat and every other platform's fake (fakeworld, mounted as
// newPlatformEnv does), the echo upstream and a real Caddy with
// defaultSites plus /tight/ (a failure limit) and /every/ (one app of
// every platform: everyMiniProgramBlock). The JS stubs only each
// platform's API: its request does real HTTP to Caddy (some of
// client/test uses a stub server of its own instead), its login codes
// come from the platform's fake. The JS logs in as knownUsers, so the harness's log grep
// also covers the session_keys of those logins.
func TestMiniProgramHelper(t *testing.T) {
	t.Parallel()
	node := testredis.RequireTool(t, "node", "Node 20 or later, e.g. apt-get install -y nodejs")
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	// The test files are named one by one: `node --test <dir>` searches the
	// directory on Node 20 only (from 21 on, arguments are globs and a
	// directory fails with MODULE_NOT_FOUND), and `dir/**` is not expanded
	// by Node 20.
	testDir := filepath.Join("client", "test")
	files, err := filepath.Glob(filepath.Join(root, testDir, "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no mini program tests in %s (%v)", filepath.Join(root, testDir), err)
	}
	args := []string{"--test"}
	for _, f := range files {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, rel)
	}
	// go test caches a passing result, knowing only the files this process
	// opens: read every JS file so that editing one reruns the test.
	for _, dir := range []string{"client", filepath.Join("examples", "miniprogram")} {
		if err := readJSFiles(filepath.Join(root, dir)); err != nil {
			t.Fatal(err)
		}
	}

	sites := strings.Replace(defaultSites, "\thandle {\n", limitedMiniProgramBlock+everyMiniProgramBlock+"\thandle {\n", 1)
	if sites == defaultSites {
		t.Fatal("defaultSites has no catch-all handle block to put the limited block before")
	}
	e, _ := newPlatformEnvOpts(t, platformApps+sites, envOptions{Process: true})
	everyApps, err := json.Marshal(map[string]string{
		"wechat": appA, "qq": fakeworld.DemoQQID, "douyin": fakeworld.DemoDouyinID,
		"kuaishou": fakeworld.DemoKuaishouID, "baidu": fakeworld.DemoBaiduKey, "alipay": fakeworld.DemoAlipayID,
	})
	if err != nil {
		t.Fatal(err)
	}
	tokensFile := filepath.Join(t.TempDir(), "tokens")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"WXAUTH_BASE_URL="+e.base,
		"WXFAKE_URL="+e.wxURL,
		"WXAUTH_APP_ID="+appA,
		"WXAUTH_LIMITED_URL="+e.base+"/tight",
		"WXAUTH_LIMITED_APP_ID="+appVector,
		"WXAUTH_TOKENS_FILE="+tokensFile,
		"WXAUTH_EVERY_URL="+e.base+"/every",
		"WXAUTH_EVERY_APPS="+string(everyApps),
		"NODE_OPTIONS=", // none of the caller's preloads or flags
	)
	cmd.WaitDelay = 5 * time.Second // don't hang on pipes held by a killed child
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("node --test %s timed out after 2 minutes:\n%s", testDir, out)
	}
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s", testDir, err, out)
	}
	t.Logf("node --test %s:\n%s", testDir, out)

	// The tokens the JS got join the secrets the harness's cleanup looks
	// for in Caddy's log.
	tokens, err := os.ReadFile(tokensFile)
	if err != nil {
		t.Fatalf("the JS tests recorded no tokens: %v", err)
	}
	n := 0
	for _, tok := range strings.Fields(string(tokens)) {
		e.secret(tok, "a session token (from the mini program tests)")
		n++
	}
	if n == 0 {
		t.Fatal("the JS tests recorded no tokens")
	}

	// The phones the JS bound (see wxauth.test.js) are never logged whole.
	log := e.logText()
	for _, phone := range []string{"13800138000", "13900139000", "13700137000", "13600136000"} {
		if strings.Contains(log, phone) {
			t.Errorf("the caddy log contains the phone number %s", phone)
		}
	}
}

// limitedMiniProgramBlock is added to defaultSites for the helper's tests
// of 429 too_many_failures: another app (its failure limit is the app's),
// under /tight/, with failure_limit 2/1m.
const limitedMiniProgramBlock = `	handle_path /tight/* {
		wechat_auth {
			app_id ` + appVector + `
			app_secret ` + secretVector + `
			api_base {{.WeChat}}
			failure_limit 2/1m
		}
		reverse_proxy {{.Upstream}}
	}
`

// everyMiniProgramBlock is added to defaultSites for the helper's tests
// of every platform through its real fake (every.caddy.test.js): under
// /every/, one block of WeChat's app A and the demo apps of the five
// other platforms (platformApps), so a login must name its app_id.
const everyMiniProgramBlock = `	handle_path /every/* {
		wechat_auth {
			{{template "appAApp" .}}
			{{template "qqDemo" .}}
			{{template "douyinDemo" .}}
			{{template "kuaishouDemo" .}}
			{{template "baiduDemo" .}}
			{{template "alipayDemo" .}}
			session_ttl 2h
			timeout 1s
		}
		reverse_proxy {{.Upstream}}
	}
`

// readJSFiles reads every .js and .mjs file under dir, node_modules
// aside (for go test's cache).
func readJSFiles(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".js" && filepath.Ext(path) != ".mjs") {
			return err
		}
		_, err = os.ReadFile(path)
		return err
	})
}
