package reply

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
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	seen := map[string]bool{}
	for _, e := range All() {
		if !snake.MatchString(e.Code) {
			t.Errorf("%q is not snake_case", e.Code)
		}
		if seen[e.Code] {
			t.Errorf("%q used twice", e.Code)
		}
		seen[e.Code] = true
		if e.Message == "" {
			t.Errorf("%q has no message", e.Code)
		}
		if e == ClientGone {
			continue // nobody is left to read it
		}
		row := regexp.MustCompile("(?m)^\\| " + strconv.Itoa(e.Status) + " \\|[^\\n]*`" + e.Code + "`")
		if !row.Match(readme) {
			t.Errorf("README's error table has no row for %d `%s`", e.Status, e.Code)
		}
	}
	if !strings.Contains(string(readme), "`phone_required`") {
		t.Errorf("README lacks phone_required")
	}
}
