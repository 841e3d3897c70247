package weblogin

import (
	"net/http/httptest"
	"testing"
)

func TestCrossSite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		host    string
		headers map[string]string
		want    bool
	}{
		{"no header (not a browser)", "app.example", nil, false},
		{"same origin", "app.example", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://app.example"}, false},
		{"same site", "app.example", map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"user typed it", "app.example", map[string]string{"Sec-Fetch-Site": "none"}, false},
		{"cross site", "app.example", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
		{"cross site, Origin forged same", "app.example", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example"}, true},
		{"Sec-Fetch-Site in capitals", "app.example", map[string]string{"Sec-Fetch-Site": "Cross-Site"}, true},
		{"Sec-Fetch-Site unknown", "app.example", map[string]string{"Sec-Fetch-Site": "maybe"}, true},
		{"Origin same host", "app.example", map[string]string{"Origin": "https://app.example"}, false},
		{"Origin same host and port", "127.0.0.1:8080", map[string]string{"Origin": "http://127.0.0.1:8080"}, false},
		{"Origin default port", "app.example:443", map[string]string{"Origin": "https://app.example"}, false},
		{"Origin host case", "App.Example", map[string]string{"Origin": "https://app.example"}, false},
		{"Origin other host", "app.example", map[string]string{"Origin": "https://evil.example"}, true},
		{"Origin other port", "127.0.0.1:8080", map[string]string{"Origin": "http://127.0.0.1:9090"}, true},
		{"Origin suffix host", "app.example", map[string]string{"Origin": "https://app.example.evil"}, true},
		{"Origin null", "app.example", map[string]string{"Origin": "null"}, true},
		{"Origin junk", "app.example", map[string]string{"Origin": "::"}, true},
		{"Origin other scheme", "app.example", map[string]string{"Origin": "file://app.example"}, true},
		{"IPv6", "[::1]:8080", map[string]string{"Origin": "http://[::1]:8080"}, false},
	} {
		r := httptest.NewRequest("POST", "/wx/logout", nil)
		r.Host = tc.host
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		if got := CrossSite(r); got != tc.want {
			t.Errorf("%s: CrossSite = %v, want %v", tc.name, got, tc.want)
		}
	}
	r := httptest.NewRequest("POST", "/wx/logout", nil)
	r.Host = "app.example"
	r.Header.Add("Origin", "https://app.example")
	r.Header.Add("Origin", "https://evil.example")
	if !CrossSite(r) {
		t.Error("two Origin headers: not cross-site")
	}
}

func TestIsNavigation(t *testing.T) {
	chrome := "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
	for _, tc := range []struct {
		method, accept string
		want           bool
	}{
		{"GET", chrome, true},
		{"HEAD", chrome, true},
		{"GET", "text/html", true},
		{"GET", "TEXT/HTML; charset=utf-8", true},
		{"GET", "application/json, text/html;q=0.1", true},
		{"GET", "text/html;q=0", false},
		{"GET", "application/json", false},
		{"GET", "*/*", false},
		{"GET", "", false},
		{"GET", "text/htmlx", false},
		{"POST", chrome, false},
		{"PUT", "text/html", false},
	} {
		r := httptest.NewRequest(tc.method, "/orders", nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		if got := IsNavigation(r); got != tc.want {
			t.Errorf("IsNavigation(%s, Accept: %q) = %v, want %v", tc.method, tc.accept, got, tc.want)
		}
	}
}
