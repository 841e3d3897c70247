package wechatauth

// The identity headers: the X-WX-* headers that tell the upstream who the
// user is, which only wechat_auth sets, and the removal of every such
// header a client sent, from the Connection header too, and of every such
// trailer field.

import (
	"io"
	"net/http"
	"strings"

	"github.com/wechat-auth/wechat_auth/internal/session"
)

// The identity headers the upstream reads. Only wechat_auth sets them.
const (
	HeaderOpenID       = "X-Wx-Openid"
	HeaderUnionID      = "X-Wx-Unionid"
	HeaderAppID        = "X-Wx-Appid"
	HeaderPhone        = "X-Wx-Phone"
	HeaderPhoneCountry = "X-Wx-Phone-Country"
	// HeaderPlatform is the platform word of the session's app (wechat,
	// qq, douyin, ...).
	HeaderPlatform = "X-Wx-Platform"
)

// stripIdentityHeaders removes every header a client sent whose name,
// upper-cased with '_' (and '.') read as '-', starts with "X-WX-": so
// "x-wx-openid", "X_WX_OPENID" and "X-Wx_Phone" all go. CGI-style backends
// fold '_' and '.' into the same variable as '-', hence both. Such names
// are also dropped from the Connection header (dropIdentityFromConnection), so that
// no proxy hop removes the identity headers set after this.
func stripIdentityHeaders(h http.Header) {
	dropIdentityTokens(h, "Trailer")
	dropIdentityFromConnection(h)
	deleteIdentity(h)
}

func isIdentityHeader(name string) bool {
	const prefix = "X-WX-"
	if len(name) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '.':
			c = '-'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// setIdentityHeaders tells the upstream who the user is, and of which app
// and platform (openids are per app; one backend often serves several). It runs after
// stripIdentityHeaders, so these are the only X-WX-* headers. The values
// share one backing array (each capped to its own element, so an append
// elsewhere cannot spill into the next): one allocation per request.
func setIdentityHeaders(h http.Header, s *session.Session, appID, platform string) {
	vals := make([]string, 0, 6)
	add := func(name, v string) {
		i := len(vals)
		vals = append(vals, v)
		h[name] = vals[i : i+1 : i+1]
	}
	add(HeaderOpenID, s.OpenID)
	add(HeaderAppID, appID)
	add(HeaderPlatform, platform)
	if s.UnionID != "" {
		add(HeaderUnionID, s.UnionID)
	}
	if s.Phone != "" {
		add(HeaderPhone, s.Phone)
		if s.PhoneCountry != "" {
			add(HeaderPhoneCountry, s.PhoneCountry)
		}
	}
}

// dropIdentityFromConnection removes the X-WX-* names (by the rule of
// isIdentityHeader: any case, '_' and '.' read as '-') from the request's
// Connection header, keeping its other tokens, and removes the header when
// none is left.
//
// A proxy hop deletes the headers a request names in Connection as
// hop-by-hop (reverse_proxy does, after wechat_auth has set the identity
// headers): a client sending "Connection: keep-alive, X-WX-OpenID" would
// otherwise reach the upstream without its identity.
//
// Most requests have no Connection header (HTTP/2 and HTTP/3 never do), and
// those that do ("keep-alive") are scanned without allocating.
func dropIdentityFromConnection(h http.Header) { dropIdentityTokens(h, "Connection") }

// dropIdentityTokens removes the X-WX-* names from the comma-separated
// list of header names in h[name] (Connection, Trailer), keeping its other
// tokens, and removes the header when none is left.
func dropIdentityTokens(h http.Header, name string) {
	vals, ok := h[name]
	if !ok || !namesIdentity(vals) {
		return
	}
	kept := make([]string, 0, len(vals))
	for _, v := range vals {
		var b strings.Builder
		for tok := range strings.SplitSeq(v, ",") {
			tok = strings.Trim(tok, " \t")
			if tok == "" || isIdentityHeader(tok) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tok)
		}
		if b.Len() > 0 {
			kept = append(kept, b.String())
		}
	}
	if len(kept) == 0 {
		delete(h, name)
		return
	}
	h[name] = kept
}

// namesIdentity reports whether a token of the Connection header values is
// an identity header name.
func namesIdentity(vals []string) bool {
	for _, v := range vals {
		for len(v) > 0 {
			i := strings.IndexByte(v, ',')
			tok := v
			if i >= 0 {
				tok, v = v[:i], v[i+1:]
			} else {
				v = ""
			}
			for len(tok) > 0 && (tok[0] == ' ' || tok[0] == '\t') {
				tok = tok[1:]
			}
			if isIdentityHeader(tok) {
				return true
			}
		}
	}
	return false
}

// stripIdentity removes a client's identity fields from r: its X-WX-*
// headers (stripIdentityHeaders) and its X-WX-* trailer fields.
//
// A chunked HTTP/1.1 body or an HTTP/2 stream may end with trailer
// fields, which Go's server puts in r.Trailer only as the body reaches
// its end, long after this handler ran; reverse_proxy sends them on, and
// a backend that merges trailers into headers would trust a client's
// "X-WX-OpenID". So the names are dropped from the Trailer declaration and
// from r.Trailer now, and r.Body is wrapped to drop any that arrive at
// the end of the body, before whoever reads it sees that end. A request
// that declares no trailer (r.Trailer nil) has none that anyone after
// this handler can see: Go's HTTP/2 server keeps only declared ones, and
// its HTTP/1.1 server puts undeclared ones in a map of its own request,
// not of the copy the handlers get.
func stripIdentity(r *http.Request) {
	stripIdentityHeaders(r.Header)
	if r.Trailer == nil {
		return
	}
	deleteIdentity(r.Trailer)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &trailerScrub{ReadCloser: r.Body, trailer: r.Trailer}
	}
}

// deleteIdentity deletes the X-WX-* fields of h.
func deleteIdentity(h http.Header) {
	for name := range h {
		if isIdentityHeader(name) {
			delete(h, name)
		}
	}
}

// trailerScrub is a request body that, once it has reached its end (when
// the server has filled in the trailer), deletes the X-WX-* trailer
// fields before it reports the end.
type trailerScrub struct {
	io.ReadCloser
	trailer http.Header
}

func (b *trailerScrub) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		deleteIdentity(b.trailer)
	}
	return n, err
}
