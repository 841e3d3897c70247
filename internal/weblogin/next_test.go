package weblogin

import (
	"strings"
	"testing"
)

func TestSafeNextKeepsLocalPaths(t *testing.T) {
	for _, next := range []string{
		"/",
		"/web/",
		"/orders?id=7&tab=open",
		"/a/b/c#section",
		"/search?q=a%20b",             // an encoded space in the query
		"/page?u=https%3A%2F%2Fother", // a URL in the query is data
		"/files/a%2Fb",                // an encoded slash inside the path
		"/x:y",                        // a colon after the first slash
		"/javascript:alert(1)",        // a path, not a scheme
		"/%7Euser",
		"/%E4%B8%AD%E6%96%87",          // an encoded UTF-8 path                     // ~user
		"/a?next=//evil.example",       // // in the query, not at the start
		"/" + strings.Repeat("a", 100), //
	} {
		if got := SafeNext(next); got != next {
			t.Errorf("SafeNext(%q) = %q, want it kept", next, got)
		}
	}
}

// Every open-redirect form a browser would follow to another host, and
// every malformed next: "/".
func TestSafeNextRefusesOpenRedirects(t *testing.T) {
	for _, next := range []string{
		"",
		"//evil.example",
		"//evil.example/path",
		"///evil.example",
		"/\\evil.example",
		"\\\\evil.example",
		"\\/evil.example",
		"/\\/evil.example",
		"https://evil.example",
		"http://evil.example/",
		"https:evil.example",
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		"data:text/html,<script>",
		"evil.example",
		"evil.example/path",
		" /web/",           // leading space
		"/\t/evil.example", // browsers drop tabs: //evil.example
		"/\n/evil.example",
		"/\r\n/evil.example",
		"/web/\x00",
		"/web/\x7f",
		"/we b",
		"/ü",           // non-ASCII
		"/\u3000/evil", // ideographic space
		"/%2F%2Fevil.example",
		"/%2fevil.example",
		"%2F%2Fevil.example",
		"%2f%2fevil.example",
		"/%5Cevil.example",
		"/%5cevil.example",
		"/%5C%5Cevil.example",
		"%5C%5Cevil.example",
		"/%2F/evil.example",
		"/%252F%252Fevil.example", // double-encoded
		"/%25252F%25252Fevil.example",
		"/%09/evil.example", // an encoded tab
		"/%0a/evil.example",
		"/%0d%0aSet-Cookie:x=1",
		"/%00",
		"/a%5Cb", // an encoded backslash inside the path
		"/a\\b",
		"/%",
		"/%zz",
		"/%2",
		"/" + strings.Repeat("a", MaxNextLen), // too long
		"/%2525252525252F",                    // more layers than SafeNext peels
	} {
		if got := SafeNext(next); got != "/" {
			t.Errorf("SafeNext(%q) = %q, want /", next, got)
		}
	}
}

func TestNewState(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		s := NewState()
		if !ValidState(s) || len(s) < 32 {
			t.Fatalf("NewState() = %q: not letters and digits, or under 128 bits", s)
		}
		if seen[s] {
			t.Fatalf("NewState() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestValidState(t *testing.T) {
	for s, want := range map[string]bool{
		"abc123":                 true,
		"ABCxyz09":               true,
		strings.Repeat("a", 128): true,
		strings.Repeat("a", 129): false,
		"":                       false,
		"a-b":                    false,
		"a_b":                    false,
		"a b":                    false,
		"ab%20":                  false,
		"é":                      false,
		"abc\n":                  false,
	} {
		if got := ValidState(s); got != want {
			t.Errorf("ValidState(%q) = %v, want %v", s, got, want)
		}
	}
}
