package weblogin

import (
	"net/url"
	"strings"
)

// MaxNextLen bounds the length of a `next` path SafeNext accepts.
const MaxNextLen = 2048

// maxUnescape bounds how many layers of percent-encoding SafeNext peels
// off looking for a hidden form; a next still changing after that is
// refused.
const maxUnescape = 4

// SafeNext returns raw if it is a path on this site (what a login may
// redirect to), else "/". Accepted: a path starting with one "/", with
// its query and fragment kept as given. Refused, in raw and in every
// layer of percent-decoding of it (so /%2F%2Fhost, /%5Chost, /%252F/host
// and mixed forms are refused too):
//
//   - anything not starting with "/" (https://host, javascript:..., host,
//     %2F%2Fhost, the empty string);
//   - a second character "/" or "\" (//host, /\host: another host to a
//     browser);
//   - a backslash anywhere in the path (browsers read it as "/");
//   - control characters and DEL anywhere (browsers drop tabs and
//     newlines from URLs: "/\t/host" is "//host"); in raw itself, spaces
//     and non-ASCII bytes too (they must come percent-encoded);
//   - a percent sign that does not start a valid escape;
//   - more than MaxNextLen bytes.
func SafeNext(raw string) string {
	if len(raw) > MaxNextLen {
		return "/"
	}
	s := raw
	for i := 0; ; i++ {
		if !localPath(s, i == 0) {
			return "/"
		}
		if !strings.Contains(s, "%") {
			return raw
		}
		if i == maxUnescape {
			return "/"
		}
		dec, err := url.PathUnescape(s)
		if err != nil {
			return "/"
		}
		s = dec
	}
}

// localPath checks one layer of a next path (see SafeNext): raw is the
// next as given, where spaces and non-ASCII bytes are refused too (a
// decoded layer may hold them: /%E4%B8%AD is a fine path).
func localPath(s string, raw bool) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	path := s
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		path = s[:i]
	}
	if strings.IndexByte(path, '\\') >= 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == 0x7f || raw && (c == ' ' || c > 0x7f) {
			return false
		}
	}
	return true
}
