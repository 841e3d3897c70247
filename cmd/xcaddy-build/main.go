// Command xcaddy-build builds a Caddy from a recipe, xcaddy.toml: it prints
// the `xcaddy build` command the recipe stands for and runs it.
//
//	go run ./cmd/xcaddy-build                  # xcaddy.toml -> ./caddy
//	go run ./cmd/xcaddy-build -o /tmp/caddy    # elsewhere
//	go run ./cmd/xcaddy-build -n               # only print the command
//	go run ./cmd/xcaddy-build -f path/to/xcaddy.toml
//
// The recipe (see the repository's xcaddy.toml, whose comments explain it):
//
//	[caddy]
//	version = "v2.11.9"
//
//	[[plugins]]
//	module = "github.com/wechat-auth/wechat_auth"
//	path = "."                  # or: version = "v1.2.3"
//
// xcaddy comes from PATH or $(go env GOPATH)/bin; install it with
// `go install github.com/caddyserver/xcaddy/cmd/xcaddy@latest`. The
// environment (GOPROXY, CGO_ENABLED, XCADDY_*) reaches it unchanged.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	fs := flag.NewFlagSet("xcaddy-build", flag.ContinueOnError)
	file := fs.String("f", "xcaddy.toml", "the recipe")
	output := fs.String("o", "caddy", "the Caddy binary to write")
	dryRun := fs.Bool("n", false, "print the xcaddy command, do not run it")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: xcaddy-build [-f xcaddy.toml] [-o caddy] [-n]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "xcaddy-build: unexpected arguments %q (the recipe says what to build)\n", fs.Args())
		return 2
	}

	r, err := readRecipe(*file)
	if err != nil {
		fmt.Fprintf(os.Stderr, "xcaddy-build: %v\n", err)
		return 1
	}
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "xcaddy-build: %v\n", err)
		return 1
	}
	recipeDir, err := filepath.Abs(filepath.Dir(*file))
	if err != nil {
		fmt.Fprintf(os.Stderr, "xcaddy-build: %v\n", err)
		return 1
	}
	args, err := xcaddyArgs(r, recipeDir, cwd, *output)
	if err != nil {
		fmt.Fprintf(os.Stderr, "xcaddy-build: %s: %v\n", *file, err)
		return 1
	}
	fmt.Println(shellQuote(append([]string{"xcaddy"}, args...)))
	if *dryRun {
		return 0
	}

	xcaddy, err := findXcaddy()
	if err != nil {
		fmt.Fprintf(os.Stderr, "xcaddy-build: %v\n", err)
		return 1
	}
	cmd := exec.Command(xcaddy, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			return exit.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "xcaddy-build: %s: %v\n", xcaddy, err)
		return 1
	}
	return 0
}

// findXcaddy finds xcaddy on PATH, else where `go install` puts it.
func findXcaddy() (string, error) {
	if p, err := exec.LookPath("xcaddy"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var dirs []string
		if len(lines) > 0 && lines[0] != "" {
			dirs = append(dirs, lines[0])
		}
		if len(lines) > 1 {
			for _, gopath := range filepath.SplitList(lines[1]) {
				dirs = append(dirs, filepath.Join(gopath, "bin"))
			}
		}
		for _, dir := range dirs {
			p := filepath.Join(dir, "xcaddy")
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", errors.New("xcaddy is not on the PATH nor in $(go env GOPATH)/bin: " +
		"go install github.com/caddyserver/xcaddy/cmd/xcaddy@latest")
}
