package wechatauth

import (
	"net/http"
	"strings"
)

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
func dropIdentityFromConnection(h http.Header) {
	vals, ok := h["Connection"]
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
		delete(h, "Connection")
		return
	}
	h["Connection"] = kept
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
