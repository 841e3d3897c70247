package wechatauth

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Every error code is unique, snake_case, and in the README's table with
// its status.
func TestErrorCodesAreDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	seen := map[string]bool{}
	for _, e := range allErrors {
		if !snake.MatchString(e.code) {
			t.Errorf("%q is not snake_case", e.code)
		}
		if seen[e.code] {
			t.Errorf("%q used twice", e.code)
		}
		seen[e.code] = true
		if e.message == "" {
			t.Errorf("%q has no message", e.code)
		}
		if e == errClientGone {
			continue // nobody is left to read it
		}
		row := regexp.MustCompile("(?m)^\\| " + strconv.Itoa(e.status) + " \\|[^\\n]*`" + e.code + "`")
		if !row.Match(readme) {
			t.Errorf("README's error table has no row for %d `%s`", e.status, e.code)
		}
	}
	if !strings.Contains(string(readme), "`phone_required`") {
		t.Errorf("README lacks phone_required")
	}
}
