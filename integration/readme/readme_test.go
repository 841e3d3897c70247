package readme_test

// The README's commands, run as a reader runs them: the demo as a child
// process, the walkthrough in one bash.
//
// Which blocks run: every ```sh block from the top of README.md to the
// end of the "## Walkthrough" section (the first screen's quick start and
// the walkthrough's steps), in order, in one bash with set -euo pipefail,
// except the block that starts the demo and the tests (it holds `go run` or
// `go test`; this test builds and starts the demo itself, on free ports,
// and puts its port for the README's localhost:8080). Within a block, a
// comment line under a command shows that command's output: each such line
// must match a line of the output, in order, "…" standing for any text.
// Trailing comments on a command line are explanations, not checked.

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/testharness"
	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// TestMain removes the demo binary the tests built.
func TestMain(m *testing.M) {
	testharness.QuickExit()
	code := m.Run()
	testharness.RemoveBinaries()
	os.Exit(code)
}

// readmeCommand is one command of a walkthrough block, with the output
// lines the README shows under it.
type readmeCommand struct {
	line   int    // in README.md, 1-based
	text   string // continuation lines joined
	claims []string
}

// readmeBlock is a ```sh block.
type readmeBlock struct {
	line  int // of the opening fence
	lines []string
}

var fenceOpen = regexp.MustCompile("^( *)```sh\\s*$")

// walkthroughBlocks returns the ```sh blocks above the section that
// follows "## Walkthrough", in order, their indentation removed.
func walkthroughBlocks(t *testing.T, readme string) []readmeBlock {
	t.Helper()
	var blocks []readmeBlock
	var cur *readmeBlock
	indent := ""
	inWalkthrough := false
	sc := bufio.NewScanner(strings.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if cur != nil {
			if strings.TrimSpace(l) == "```" {
				blocks = append(blocks, *cur)
				cur = nil
				continue
			}
			cur.lines = append(cur.lines, strings.TrimPrefix(l, indent))
			continue
		}
		if strings.HasPrefix(l, "## ") {
			if inWalkthrough {
				return blocks
			}
			inWalkthrough = strings.HasPrefix(l, "## Walkthrough")
		}
		if m := fenceOpen.FindStringSubmatch(l); m != nil {
			indent = m[1]
			cur = &readmeBlock{line: n}
		}
	}
	if !inWalkthrough {
		t.Fatal(`README.md has no "## Walkthrough" section`)
	}
	return blocks
}

// commands splits a block into its commands and the output lines shown
// under each.
func (b readmeBlock) commands() ([]readmeCommand, error) {
	var cmds []readmeCommand
	for i := 0; i < len(b.lines); i++ {
		l := strings.TrimSpace(b.lines[i])
		n := b.line + 1 + i
		switch {
		case l == "":
		case strings.HasPrefix(l, "#"):
			if len(cmds) == 0 {
				return nil, fmt.Errorf("README.md:%d: a comment line shows the output of the command above it, and there is none", n)
			}
			c := &cmds[len(cmds)-1]
			c.claims = append(c.claims, strings.TrimPrefix(strings.TrimPrefix(l, "#"), " "))
		default:
			text := l
			for strings.HasSuffix(text, `\`) && i+1 < len(b.lines) {
				i++
				text = strings.TrimSuffix(text, `\`) + "\n" + b.lines[i]
			}
			cmds = append(cmds, readmeCommand{line: n, text: text})
		}
	}
	return cmds, nil
}

// isSetup says whether the block starts the demo or the tests.
func (b readmeBlock) isSetup() bool {
	for _, l := range b.lines {
		if strings.Contains(l, "go run ") || strings.Contains(l, "go test ") {
			return true
		}
	}
	return false
}

// claimMatcher turns an output line shown in the README into a pattern:
// the text itself, "…" standing for any text.
func claimMatcher(claim string) *regexp.Regexp {
	parts := strings.Split(claim, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// shell is one bash session against a running demo.
type shell struct {
	dir     string // working directory; outputs go under it
	env     []string
	replace *strings.Replacer // README addresses -> the test's
}

// run runs the commands in order in one bash, then checks the output
// shown under each. The error names the README line; the transcript is
// what a reader's terminal would show.
func (sh shell) run(cmds []readmeCommand) (transcript string, err error) {
	outDir, err := os.MkdirTemp(sh.dir, "out")
	if err != nil {
		return "", err
	}
	// Each command's output goes to its own file (then to the transcript);
	// "at" says which command runs, for the report when one fails.
	var script strings.Builder
	fmt.Fprintf(&script, "set -euo pipefail\n__out=%q\n", outDir)
	for i, c := range cmds {
		fmt.Fprintf(&script, "echo %d >\"$__out/at\"\n{\n%s\n} >\"$__out/%d\" 2>&1 </dev/null\ncat \"$__out/%d\"\n",
			i, sh.replace.Replace(c.text), i, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir, cmd.Env = sh.dir, sh.env
	out, runErr := cmd.CombinedOutput()
	transcript = string(out)
	if runErr != nil {
		at, _ := os.ReadFile(filepath.Join(outDir, "at"))
		i, err := strconv.Atoi(strings.TrimSpace(string(at)))
		if err != nil || i >= len(cmds) {
			return transcript, fmt.Errorf("the walkthrough stopped: %v", runErr)
		}
		out, _ := os.ReadFile(filepath.Join(outDir, strconv.Itoa(i)))
		return transcript, fmt.Errorf("README.md:%d: %v from\n\t%s\nwhich said:\n%s", cmds[i].line, runErr, cmds[i].text, out)
	}
	for i, c := range cmds {
		raw, err := os.ReadFile(filepath.Join(outDir, strconv.Itoa(i)))
		if err != nil {
			return transcript, err
		}
		lines := strings.Split(strings.ReplaceAll(string(raw), "\r", ""), "\n")
		next := 0
		for _, claim := range c.claims {
			m := claimMatcher(sh.replace.Replace(claim))
			for next < len(lines) && !m.MatchString(lines[next]) {
				next++
			}
			if next == len(lines) {
				return transcript, fmt.Errorf("README.md:%d: the output of\n\t%s\nhas no line %q (after the lines matched before it); it was:\n%s",
					c.line, c.text, claim, raw)
			}
			next++
		}
	}
	return transcript, nil
}

// TestReadmeWalkthrough runs the README's quick start and walkthrough
// against `go run ./cmd/demo`, as written, in one shell.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the README walkthrough builds and runs the demo")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the README's commands are for a Unix shell")
	}
	for _, prog := range []string{"bash", "curl", "sed"} {
		testredis.RequireTool(t, prog, "Debian: apt-get install -y "+prog)
	}
	root := testharness.RepoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var setup []readmeBlock
	var cmds []readmeCommand
	for _, b := range walkthroughBlocks(t, string(raw)) {
		if b.isSetup() {
			setup = append(setup, b)
			continue
		}
		bc, err := b.commands()
		if err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, bc...)
	}
	checkSetupBlock(t, root, setup)
	if len(cmds) < 5 {
		t.Fatalf("found only %d walkthrough commands in README.md", len(cmds))
	}

	d := startDemo(t)
	t.Run("README", func(t *testing.T) {
		transcript, err := d.shell.run(cmds)
		if err != nil {
			t.Errorf("%v\ntranscript:\n%s", err, transcript)
		} else if testing.Verbose() {
			t.Logf("transcript:\n%s", transcript)
		}
	})
	// The runner itself catches a broken step: a code used twice (curl -f
	// and set -e), and an output that is not the one shown.
	for name, doc := range map[string]string{
		"code reused": "curl -fsS -X POST localhost:8080/wx/login -d '{\"code\":\"ok-selftest.1\"}'\n" +
			"curl -fsS -X POST localhost:8080/wx/login -d '{\"code\":\"ok-selftest.1\"}'\n",
		"output not as shown": "curl -s -o /dev/null -w '%{http_code}\\n' localhost:8080/api/hello\n# 200\n",
	} {
		t.Run("fails when "+name, func(t *testing.T) {
			b := readmeBlock{line: 1, lines: strings.Split(doc, "\n")}
			bc, err := b.commands()
			if err != nil {
				t.Fatal(err)
			}
			if transcript, err := d.shell.run(bc); err == nil {
				t.Errorf("a broken walkthrough passed:\n%s", transcript)
			}
		})
	}
}

// checkSetupBlock: the first screen starts the demo and the tests with
// the commands this test and .ci/run stand for.
func checkSetupBlock(t *testing.T, root string, setup []readmeBlock) {
	t.Helper()
	if len(setup) != 1 {
		t.Fatalf("want one block with the go run / go test commands above the walkthrough, found %d", len(setup))
	}
	var got []string
	for _, l := range setup[0].lines {
		if cmd, _, _ := strings.Cut(l, "#"); strings.TrimSpace(cmd) != "" {
			got = append(got, strings.Join(strings.Fields(cmd), " "))
		}
	}
	want := []string{"go run ./cmd/demo", "go test -race -count=1 ./..."}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the first screen's commands are %q, want %q", got, want)
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^go test -race -count=1 \./\.\.\.$`).Match(ci) {
		t.Errorf(".ci/run does not run the README's test command %q", want[1])
	}
}

// demo is cmd/demo running as a child process.
type demo struct {
	shell shell
}

// startDemo builds cmd/demo and runs it from the repository root (it
// reads ./Caddyfile), with Caddy on a free port, the fake WeChat and the
// echo app on any free port, and temporary HOME, XDG and TMPDIR. At the end
// it stops the demo and checks it left nothing in any of them.
func startDemo(t *testing.T) *demo {
	t.Helper()
	root := t.TempDir()
	dirs := map[string]string{}
	for _, name := range []string{"demo-home", "demo-config", "demo-data", "demo-tmp", "shell-home", "work"} {
		dirs[name] = filepath.Join(root, name)
		if err := os.Mkdir(dirs[name], 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// built once, in the Go environment the tests started with (its
	// module and build caches), not the temporary one the demo gets
	bin := testharness.Binary(t, "./cmd/demo")

	port := testharness.FreePort(t)
	cmd := exec.Command(bin, "-wechat", "127.0.0.1:0", "-upstream", "127.0.0.1:0")
	cmd.Dir = testharness.RepoRoot(t) // it reads ./Caddyfile
	cmd.Env = append(cleanEnv(),
		"HOME="+dirs["demo-home"], "XDG_CONFIG_HOME="+dirs["demo-config"],
		"XDG_DATA_HOME="+dirs["demo-data"], "TMPDIR="+dirs["demo-tmp"],
		"WX_DEMO_PORT="+strconv.Itoa(port), "WX_DEMO_GATEWAY_PORT="+strconv.Itoa(testharness.FreePort(t)))
	var proc *testharness.Process
	proc = testharness.Start(t, cmd, filepath.Join(root, "demo.log"), 15*time.Second, func(exitedOnSIGTERM bool) {
		if !exitedOnSIGTERM {
			t.Errorf("the demo did not stop on SIGTERM")
		}
		for _, name := range []string{"demo-home", "demo-config", "demo-data", "demo-tmp"} {
			_ = filepath.WalkDir(dirs[name], func(p string, de fs.DirEntry, err error) error {
				if err == nil && p != dirs[name] {
					t.Errorf("the demo left %s in its %s", p, name)
				}
				return err
			})
		}
		if t.Failed() {
			t.Logf("the demo's log:\n%s", proc.Log())
		}
	})
	exited, demoLog := proc.Exited(), proc.Log

	// ready when Caddy answers
	base := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(90 * time.Second); ; {
		select {
		case <-exited:
			t.Fatalf("the demo exited:\n%s", demoLog())
		default:
		}
		if resp, err := client.Get(base); err == nil {
			resp.Body.Close()
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the demo does not answer on %s: %v\n%s", base, err, demoLog())
		}
		time.Sleep(100 * time.Millisecond)
	}

	return &demo{shell: shell{
		dir:     dirs["work"],
		env:     append(cleanEnv(), "HOME="+dirs["shell-home"], "TMPDIR="+root, "LC_ALL=C"),
		replace: strings.NewReplacer("localhost:8080", "localhost:"+strconv.Itoa(port)),
	}}
}

// cleanEnv is this process's environment without what would steer the
// demo or the shell away from a fresh machine's defaults.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "WX_"), name == "UPSTREAM",
			name == "HOME", strings.HasPrefix(name, "XDG_"), name == "TMPDIR",
			strings.HasPrefix(name, "LC_"), name == "LANG", name == "CURL_HOME":
			continue
		}
		env = append(env, kv)
	}
	return env
}
