package wechatauth_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// TestCaddyfilesAreFormatted: every Caddyfile in the repository, every
// Caddyfile a script under bench/ or examples/ writes (a here-document
// into a file named like a Caddyfile), and every ```caddyfile block in
// README.md is as `caddy fmt` writes it (Caddy's own formatter, in this
// process), so what users copy passes `caddy fmt --diff` and Caddy does not
// warn "Caddyfile input is not formatted".
func TestCaddyfilesAreFormatted(t *testing.T) {
	sources := map[string][]byte{} // "file" or "file:line" -> the Caddyfile
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		switch {
		case name == "Caddyfile" || strings.HasPrefix(name, "Caddyfile.") || strings.HasSuffix(name, ".caddyfile"):
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources[path] = raw
		case strings.HasSuffix(name, ".sh") && (strings.HasPrefix(path, "bench/") || strings.HasPrefix(path, "examples/")):
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for line, body := range caddyfileHeredocs(raw) {
				sources[fmt.Sprintf("%s:%d", path, line)] = body
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := fencedBlocks(readme, "caddyfile")
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```caddyfile block: the extraction is broken")
	}
	for line, body := range blocks {
		sources[fmt.Sprintf("README.md:%d", line)] = body
	}
	if _, ok := sources["Caddyfile"]; !ok {
		t.Fatal("the repository's Caddyfile was not found")
	}

	for where, input := range sources {
		if got := caddyfile.Format(input); !bytes.Equal(got, input) {
			t.Errorf("%s is not as `caddy fmt` writes it (- as is, + formatted):\n%s", where, lineDiff(string(input), string(got)))
		}
	}
}

// fencedBlocks returns the bodies of the ``` blocks of language lang in a
// Markdown text, by the line of their opening fence, without the fence's
// indentation (a block in a list item is indented).
func fencedBlocks(md []byte, lang string) map[int][]byte {
	blocks := map[int][]byte{}
	var (
		body   *bytes.Buffer
		indent string
		start  int
	)
	sc := bufio.NewScanner(bytes.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case body == nil && trimmed == "```"+lang:
			body, indent, start = new(bytes.Buffer), line[:len(line)-len(trimmed)], n
		case body != nil && trimmed == "```":
			blocks[start] = body.Bytes()
			body = nil
		case body != nil:
			body.WriteString(strings.TrimPrefix(line, indent))
			body.WriteByte('\n')
		}
	}
	return blocks
}

// caddyfileHeredoc matches a shell line that writes a here-document into a
// file whose name says Caddyfile: cat >"$WORK/Caddyfile" <<EOF.
var caddyfileHeredoc = regexp.MustCompile(`(?i)^\s*cat\s*>\s*"?\S*caddyfile\S*?"?\s*<<-?\s*['"]?(\w+)['"]?\s*$`)

// caddyfileHeredocs returns the Caddyfiles a shell script writes with
// here-documents, by the line of the cat command.
func caddyfileHeredocs(script []byte) map[int][]byte {
	docs := map[int][]byte{}
	var (
		body  *bytes.Buffer
		end   string
		start int
	)
	sc := bufio.NewScanner(bytes.NewReader(script))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case body == nil:
			if m := caddyfileHeredoc.FindStringSubmatch(line); m != nil {
				body, end, start = new(bytes.Buffer), m[1], n
			}
		case line == end:
			docs[start] = body.Bytes()
			body = nil
		default:
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	return docs
}

// lineDiff shows how b differs from a, line by line, as `caddy fmt --diff`
// does: "- " only in a, "+ " only in b, "  " in both (a longest common
// subsequence of lines).
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// lcs[i][j]: length of the longest common subsequence of x[i:] and y[j:]
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			fmt.Fprintf(&out, "  %s\n", x[i])
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(&out, "- %s\n", x[i])
			i++
		default:
			fmt.Fprintf(&out, "+ %s\n", y[j])
			j++
		}
	}
	return out.String()
}
