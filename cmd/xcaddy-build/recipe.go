package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// recipe is what xcaddy.toml says: the Caddy release and the plugins.
type recipe struct {
	// CaddyVersion is [caddy] version.
	CaddyVersion string
	// Plugins are the [[plugins]] tables, in order.
	Plugins []plugin
}

// plugin is one [[plugins]] table.
type plugin struct {
	// Module is the Go module path.
	Module string
	// Version is a release tag or commit; empty: the latest.
	Version string
	// Path is a local directory to build from instead, relative to the
	// recipe file.
	Path string

	line int // of its [[plugins]] header
}

// The TOML this reads: comments, [caddy], [[plugins]] and key = "string"
// (or 'string') lines; nothing else of TOML is needed for a recipe.
var (
	tableLine = regexp.MustCompile(`^(\[\[?)\s*([A-Za-z0-9_-]+)\s*(\]\]?)$`)
	keyLine   = regexp.MustCompile(`^([A-Za-z0-9_-]+)\s*=\s*(.*)$`)
	// a module path, a version: no spaces, and none of xcaddy's
	// separators (module@version=path)
	modulePath = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~/-]*$`)
	versionStr = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+/-]*$`)
)

// keys are the settings of each table.
var keys = map[string][]string{
	"caddy":   {"version"},
	"plugins": {"module", "version", "path"},
}

// readRecipe reads and checks a recipe file.
func readRecipe(file string) (*recipe, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return parseRecipe(file, data)
}

// parseRecipe parses and checks a recipe; errors start with file:line.
func parseRecipe(file string, data []byte) (*recipe, error) {
	r := &recipe{}
	table := ""              // "caddy" or "plugins"
	caddyLine := 0           // the [caddy] header, once seen
	var cur *plugin          // the [[plugins]] table being read
	seen := map[string]int{} // key -> line, in the current table
	errf := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...))
	}

	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			line = strings.TrimSpace(stripComment(line))
			m := tableLine.FindStringSubmatch(line)
			if m == nil || len(m[1]) != len(m[3]) {
				return nil, errf(n, "%q is not a table header: this file has [caddy] and [[plugins]]", line)
			}
			switch {
			case m[1] == "[" && m[2] == "caddy":
				if caddyLine != 0 {
					return nil, errf(n, "a second [caddy] table (the first is on line %d)", caddyLine)
				}
				caddyLine = n
				cur = nil
			case m[1] == "[[" && m[2] == "plugins":
				r.Plugins = append(r.Plugins, plugin{line: n})
				cur = &r.Plugins[len(r.Plugins)-1]
			default:
				return nil, errf(n, "unknown table %s: this file has [caddy] and [[plugins]]", line)
			}
			table = m[2]
			seen = map[string]int{}
			continue
		}
		m := keyLine.FindStringSubmatch(line)
		if m == nil {
			return nil, errf(n, "%q is not key = \"value\"", line)
		}
		key := m[1]
		if table == "" {
			return nil, errf(n, "%s is outside a table: put it under [caddy] or [[plugins]]", key)
		}
		known := keys[table]
		if !contains(known, key) {
			return nil, errf(n, "unknown setting %s in [%s]; known: %s", key, table, strings.Join(known, ", "))
		}
		if prev, dup := seen[key]; dup {
			return nil, errf(n, "%s is set twice in one table (first on line %d)", key, prev)
		}
		seen[key] = n
		val, err := parseString(m[2])
		if err != nil {
			return nil, errf(n, "%s: %v", key, err)
		}
		if val == "" {
			return nil, errf(n, "%s is empty", key)
		}
		switch {
		case table == "caddy":
			if !versionStr.MatchString(val) {
				return nil, errf(n, "version %q: want a Caddy release such as \"v2.11.9\"", val)
			}
			r.CaddyVersion = val
		case key == "module":
			if !modulePath.MatchString(val) {
				return nil, errf(n, "module %q: want a Go module path such as \"github.com/owner/repo\"", val)
			}
			cur.Module = val
		case key == "version":
			if !versionStr.MatchString(val) {
				return nil, errf(n, "version %q: want a release tag or commit such as \"v1.2.3\"", val)
			}
			cur.Version = val
		case key == "path":
			cur.Path = val
		}
	}

	if r.CaddyVersion == "" {
		return nil, fmt.Errorf("%s: no Caddy version: add\n[caddy]\nversion = \"v2.x.y\"", file)
	}
	if len(r.Plugins) == 0 {
		return nil, fmt.Errorf("%s: no [[plugins]] table: a recipe without plugins builds a plain Caddy", file)
	}
	for _, p := range r.Plugins {
		if p.Module == "" {
			return nil, errf(p.line, "[[plugins]] without module")
		}
		if p.Version != "" && p.Path != "" {
			return nil, errf(p.line, "plugin %s has both version and path: give one (path builds from a local directory)", p.Module)
		}
	}
	return r, nil
}

// parseString reads a TOML basic ("...", escapes \" and \\) or literal
// ('...') string, with an optional comment after it.
func parseString(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("no value: want a quoted string")
	}
	quote := s[0]
	if quote != '"' && quote != '\'' {
		return "", fmt.Errorf("%s is not a quoted string", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote:
			rest := strings.TrimSpace(s[i+1:])
			if rest != "" && !strings.HasPrefix(rest, "#") {
				return "", fmt.Errorf("%q after the string", rest)
			}
			return b.String(), nil
		case c == '\\' && quote == '"':
			if i+1 == len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				return "", fmt.Errorf("only the escapes \\\" and \\\\ are supported in %s", s)
			}
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("%s: the string is not closed", s)
}

// stripComment removes a trailing # comment from a line without strings.
func stripComment(line string) string {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		return line[:i]
	}
	return line
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// xcaddyArgs returns the arguments of `xcaddy` that build r into output:
// build <version> --output <output> --with <module>[@<version>][=<path>]...
// A plugin's path is relative to recipeDir; it is given relative to cwd
// (starting with "." so that xcaddy takes it as a path) when it can be.
func xcaddyArgs(r *recipe, recipeDir, cwd, output string) ([]string, error) {
	args := []string{"build", r.CaddyVersion, "--output", output}
	for _, p := range r.Plugins {
		with := p.Module
		if p.Version != "" {
			with += "@" + p.Version
		}
		if p.Path != "" {
			dir := p.Path
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(recipeDir, dir)
			}
			dir, err := filepath.Abs(dir)
			if err != nil {
				return nil, err
			}
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return nil, fmt.Errorf("plugin %s: path %q (%s) is not a directory", p.Module, p.Path, dir)
			}
			if rel, err := filepath.Rel(cwd, dir); err == nil {
				if rel != "." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != ".." {
					rel = "." + string(filepath.Separator) + rel
				}
				dir = rel
			}
			with += "=" + dir
		}
		args = append(args, "--with", with)
	}
	return args, nil
}

// shellQuote writes args as one shell command line.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=@:+,%", r))
		}) < 0 {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
