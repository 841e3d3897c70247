package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The repository's xcaddy.toml pins the Caddy of go.mod (so an xcaddy
// build uses the modules the tests ran with, and works offline from the
// module cache) and builds this module from the checkout: run from the
// repository root, it is exactly the command the README shows.
func TestRepositoryRecipe(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	r, err := readRecipe(filepath.Join(root, "xcaddy.toml"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	module := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(gomod)
	caddy := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/caddyserver/caddy/v2\s+(\S+)`).FindSubmatch(gomod)
	if module == nil || caddy == nil {
		t.Fatalf("go.mod: no module line or no caddy requirement")
	}
	if r.CaddyVersion != string(caddy[1]) {
		t.Errorf("xcaddy.toml pins Caddy %s, go.mod requires %s: keep them equal", r.CaddyVersion, caddy[1])
	}
	args, err := xcaddyArgs(r, root, root, "caddy")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"build", string(caddy[1]), "--output", "caddy", "--with", string(module[1]) + "=."}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("xcaddy.toml gives\n  xcaddy %s\nwant\n  xcaddy %s", shellQuote(args), shellQuote(want))
	}
}

func TestRecipeToArgs(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"checkout", "other"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const text = `# a comment
[caddy]   # the release
version = "v2.11.9"  # pinned

[[plugins]]
module = "github.com/example/one" # latest

[[ plugins ]]
  module = 'github.com/example/two'
  version = "v1.2.3"

[[plugins]]
module = "github.com/example/three"
path = "checkout"

[[plugins]]
module = "github.com/example/four"
path = "."
`
	r, err := parseRecipe("xcaddy.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cwd  string
		want []string
	}{
		{dir, []string{"build", "v2.11.9", "--output", "out/caddy",
			"--with", "github.com/example/one",
			"--with", "github.com/example/two@v1.2.3",
			"--with", "github.com/example/three=./checkout",
			"--with", "github.com/example/four=."}},
		{filepath.Join(dir, "other"), []string{"build", "v2.11.9", "--output", "out/caddy",
			"--with", "github.com/example/one",
			"--with", "github.com/example/two@v1.2.3",
			"--with", "github.com/example/three=../checkout",
			"--with", "github.com/example/four=.."}},
		{filepath.Join(dir, "checkout"), []string{"build", "v2.11.9", "--output", "out/caddy",
			"--with", "github.com/example/one",
			"--with", "github.com/example/two@v1.2.3",
			"--with", "github.com/example/three=.",
			"--with", "github.com/example/four=.."}},
	} {
		got, err := xcaddyArgs(r, dir, c.cwd, "out/caddy")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("from %s:\n got %q\nwant %q", c.cwd, got, c.want)
		}
	}

	r.Plugins[2].Path = "missing"
	if _, err := xcaddyArgs(r, dir, dir, "caddy"); err == nil || !strings.Contains(err.Error(), `path "missing"`) {
		t.Errorf("a path that is no directory: %v", err)
	}
}

func TestRecipeErrors(t *testing.T) {
	const head = "[caddy]\nversion = \"v2.11.9\"\n"
	const plugin = "[[plugins]]\nmodule = \"github.com/a/b\"\n"
	for _, c := range []struct {
		name, text string
		want       []string // in the error
	}{
		{"empty", "", []string{"no Caddy version"}},
		{"no plugins", head, []string{"no [[plugins]]"}},
		{"key outside a table", "version = \"v2\"\n" + head + plugin, []string{"x.toml:1:", "outside a table", "[caddy]"}},
		{"unknown table", head + "[build]\n" + plugin, []string{"x.toml:3:", "unknown table [build]", "[caddy] and [[plugins]]"}},
		{"plugins as a table", head + "[plugins]\n", []string{"x.toml:3:", "unknown table"}},
		{"caddy as an array", "[[caddy]]\n", []string{"x.toml:1:", "unknown table"}},
		{"unbalanced header", "[caddy]]\n", []string{"x.toml:1:", "not a table header"}},
		{"second caddy", head + "[caddy]\n" + plugin, []string{"x.toml:3:", "second [caddy]", "line 1"}},
		{"unknown caddy key", "[caddy]\nrelease = \"v2\"\n", []string{"x.toml:2:", "unknown setting release in [caddy]", "known: version"}},
		{"unknown plugin key", head + plugin + "replace = \".\"\n", []string{"x.toml:5:", "unknown setting replace", "known: module, version, path"}},
		{"twice", head + plugin + "module = \"github.com/c/d\"\n", []string{"x.toml:5:", "module is set twice", "line 4"}},
		{"not a key line", head + "plugins\n", []string{"x.toml:3:", "not key = \"value\""}},
		{"unquoted", "[caddy]\nversion = v2.11.9\n", []string{"x.toml:2:", "not a quoted string"}},
		{"unclosed", "[caddy]\nversion = \"v2.11.9\n", []string{"x.toml:2:", "not closed"}},
		{"garbage after", "[caddy]\nversion = \"v2.11.9\" x\n", []string{"x.toml:2:", `"x" after the string`}},
		{"escape", "[caddy]\nversion = \"v2\\n\"\n", []string{"x.toml:2:", "escapes"}},
		{"empty version", "[caddy]\nversion = \"\"\n", []string{"x.toml:2:", "version is empty"}},
		{"bad caddy version", "[caddy]\nversion = \"v2 latest\"\n", []string{"x.toml:2:", `version "v2 latest"`, "v2.11.9"}},
		{"module with @", head + "[[plugins]]\nmodule = \"github.com/a/b@v1\"\n", []string{"x.toml:4:", `module "github.com/a/b@v1"`, "Go module path"}},
		{"version with =", head + plugin + "version = \"v1=.\"\n", []string{"x.toml:5:", `version "v1=."`}},
		{"no module", head + "[[plugins]]\nversion = \"v1\"\n", []string{"x.toml:3:", "without module"}},
		{"version and path", head + plugin + "version = \"v1\"\npath = \".\"\n", []string{"x.toml:3:", "both version and path"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseRecipe("x.toml", []byte(c.text))
			if err == nil {
				t.Fatalf("accepted:\n%s", c.text)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// run prints the command and runs xcaddy (here a stand-in on PATH that
// records its arguments) with it; xcaddy's failure is the exit code.
func TestRunRunsXcaddy(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(dir, "args")
	fake := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$XCADDY_ARGS\"\nexit \"${XCADDY_EXIT:-0}\"\n"
	if err := os.WriteFile(filepath.Join(bin, "xcaddy"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(filepath.ListSeparator)+os.Getenv("PATH"))
	t.Setenv("XCADDY_ARGS", record)
	recipe := filepath.Join(dir, "xcaddy.toml")
	text := "[caddy]\nversion = \"v2.11.9\"\n[[plugins]]\nmodule = \"github.com/a/b\"\nversion = \"v1.0.0\"\n"
	if err := os.WriteFile(recipe, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "caddy")

	if code := run([]string{"-f", recipe, "-o", out}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("xcaddy did not run: %v", err)
	}
	want := strings.Join([]string{"build", "v2.11.9", "--output", out, "--with", "github.com/a/b@v1.0.0"}, "\n") + "\n"
	if string(got) != want {
		t.Errorf("xcaddy got\n%s\nwant\n%s", got, want)
	}

	t.Setenv("XCADDY_EXIT", "3")
	if code := run([]string{"-f", recipe, "-o", out}); code != 3 {
		t.Errorf("xcaddy exited 3, xcaddy-build %d", code)
	}

	// -n prints only
	_ = os.Remove(record)
	if code := run([]string{"-n", "-f", recipe}); code != 0 {
		t.Fatalf("-n: exit %d", code)
	}
	if _, err := os.Stat(record); err == nil {
		t.Error("-n ran xcaddy")
	}

	if code := run([]string{"-f", filepath.Join(dir, "missing.toml")}); code != 1 {
		t.Errorf("a missing recipe: exit %d", code)
	}
}

func TestShellQuote(t *testing.T) {
	got := shellQuote([]string{"xcaddy", "build", "--with", "github.com/a/b@v1=./x", "/tmp/my dir/caddy", "it's", ""})
	want := `xcaddy build --with github.com/a/b@v1=./x '/tmp/my dir/caddy' 'it'\''s' ''`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
