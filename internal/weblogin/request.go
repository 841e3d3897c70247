package weblogin

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// CrossSite reports whether r says it comes from another site, as a
// browser marks a cross-site request:
//
//   - with Sec-Fetch-Site, that alone decides: "same-origin", "same-site"
//     and "none" (the user typed it or used a bookmark) are this site;
//     "cross-site" and any unknown value are not;
//   - else with Origin, its host (and port) must equal r.Host; "null" and
//     an Origin that does not parse are another site;
//   - with neither (not a browser, or a browser too old to say), it is
//     not cross-site: a cookie then still has SameSite=Lax to stop a
//     cross-site POST.
func CrossSite(r *http.Request) bool {
	if sfs := r.Header.Values("Sec-Fetch-Site"); len(sfs) > 0 {
		if len(sfs) > 1 {
			return true
		}
		switch strings.ToLower(strings.TrimSpace(sfs[0])) {
		case "same-origin", "same-site", "none":
			return false
		}
		return true
	}
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return false
	}
	if len(origins) > 1 {
		return true
	}
	u, err := url.Parse(strings.TrimSpace(origins[0]))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return true
	}
	return !sameHost(u.Scheme, u.Host, r.Host)
}

// sameHost compares an Origin's host with a Host header, ignoring case and
// the scheme's default port on either side.
func sameHost(scheme, origin, host string) bool {
	def := "80"
	if scheme == "https" {
		def = "443"
	}
	norm := func(h string) string {
		name, port, err := net.SplitHostPort(h)
		if err != nil {
			name, port = h, def
		}
		if port == def {
			port = ""
		}
		return strings.ToLower(strings.Trim(name, "[]")) + ":" + port
	}
	return origin != "" && host != "" && norm(origin) == norm(host)
}

// IsNavigation reports whether r is a browser navigation: GET or HEAD
// whose Accept names text/html (with a q above 0).
func IsNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	for _, line := range r.Header.Values("Accept") {
		for _, item := range strings.Split(line, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(item))
			if err != nil || mt != "text/html" {
				continue
			}
			if q, ok := params["q"]; ok {
				if v, err := strconv.ParseFloat(q, 64); err != nil || v <= 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}
