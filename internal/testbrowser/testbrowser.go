// Package testbrowser drives a headless Chromium for tests: Debian's
// chromium (on PATH, or /usr/bin/chromium), never a downloaded one, through
// chromedp (the DevTools protocol over a pipe; chromedp has no browser
// download at all). It is test support, not a _test file, so that the
// tests of every package can use it.
//
// Start skips the test when no Chromium is found, with one line saying
// how to install it (with WXAUTH_REQUIRE_TOOLS=1 it fails instead, as
// internal/testredis does). The browser runs headless with a fresh
// profile (user data dir, HOME and XDG dirs in a temp dir), with
// --no-sandbox when the tests run as root, and is stopped when the test
// ends. Every action fails the test on error or after Timeout.
package testbrowser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// InstallHint is how to install what Start needs.
const InstallHint = "apt-get install -y chromium"

// Timeout bounds every action (a navigation, a click, a wait): generous,
// for a loaded CI machine.
const Timeout = 30 * time.Second

// Find returns the path of the Chromium to run: chromium on PATH, else
// /usr/bin/chromium; chromium-browser (other distributions' name) last.
func Find() (string, error) {
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	if st, err := os.Stat("/usr/bin/chromium"); err == nil && !st.IsDir() {
		return "/usr/bin/chromium", nil
	}
	if p, err := exec.LookPath("chromium-browser"); err == nil {
		return p, nil
	}
	return "", errors.New("headless Chromium not found: " + InstallHint)
}

// Options change how Start starts the browser.
type Options struct {
	// UserAgent replaces the browser's User-Agent (such as WeChat's
	// built-in browser's, with MicroMessenger).
	UserAgent string
	// Width and Height are the window's size (default 1000 x 800).
	Width, Height int
}

// Browser is a headless Chromium with one tab, for one test.
type Browser struct {
	tb  testing.TB
	ctx context.Context // the tab's
}

// Start runs a headless Chromium until the test ends; see the package doc.
func Start(tb testing.TB) *Browser { return StartWith(tb, Options{}) }

// StartWith is Start with options.
func StartWith(tb testing.TB, o Options) *Browser {
	tb.Helper()
	path, err := Find()
	if err != nil {
		if os.Getenv(testredis.RequireToolsEnv) == "1" {
			tb.Fatalf("%v, and %s=1 requires it", err, testredis.RequireToolsEnv)
		}
		tb.Skip(err.Error())
	}
	if o.Width <= 0 || o.Height <= 0 {
		o.Width, o.Height = 1000, 800
	}
	dir, err := os.MkdirTemp("", "testbrowser-")
	if err != nil {
		tb.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.DisableGPU,
		chromedp.Env("HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
			"XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "XDG_DATA_HOME="+filepath.Join(dir, "data")),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("disable-component-update", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	if o.UserAgent != "" {
		opts = append(opts, chromedp.UserAgent(o.UserAgent))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(tb.Logf))
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
		// Chromium's children may write to the profile a moment after
		// the browser stopped.
		for i := 0; i < 50; i++ {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		tb.Logf("testbrowser: could not remove %s", dir)
	})
	b := &Browser{tb: tb, ctx: ctx}
	// Start the browser now, so that a broken one fails here, by name.
	// This first run must get the tab's own context, not one with a
	// timeout: chromedp ties the browser's life to it.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("testbrowser: starting %s: %v", path, err)
	}
	return b
}

// act runs one action against the tab within Timeout, failing the test on
// error.
func act[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.tb.Fatalf("testbrowser: %s: %v", what, err)
	}
	return v
}

// Navigate opens url and waits for the page to load (after every
// redirect).
func (b *Browser) Navigate(url string) {
	b.tb.Helper()
	act(b, "navigate to "+url, chromedp.Navigate(url))
}

// Click clicks the element of a CSS selector, once it is visible. It does
// not wait for a navigation the click starts: use WaitLocation or
// WaitVisible after it.
func (b *Browser) Click(css string) {
	b.tb.Helper()
	act(b, "click "+css, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

// SetValue sets the value of an input field.
func (b *Browser) SetValue(css, value string) {
	b.tb.Helper()
	act(b, "set the value of "+css, chromedp.SetValue(chromedp.CSS(css), value))
}

// Text returns the visible text of the element of a CSS selector, once it
// is visible.
func (b *Browser) Text(css string) string {
	b.tb.Helper()
	return act(b, "read the text of "+css, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible))
}

// WaitVisible waits until the element of a CSS selector is visible.
func (b *Browser) WaitVisible(css string) {
	b.tb.Helper()
	act(b, "wait for "+css, chromedp.WaitVisible(chromedp.CSS(css)))
}

// SetUserAgent makes the tab send ua as its User-Agent from the next
// request on (such as WeChat's built-in browser's, with MicroMessenger).
func (b *Browser) SetUserAgent(ua string) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua}); err != nil {
		b.tb.Fatalf("testbrowser: set the User-Agent: %v", err)
	}
}

// Eval evaluates a JavaScript expression in the page and returns its value
// as a string (such as document.cookie, which must not show an HttpOnly
// cookie).
func (b *Browser) Eval(js string) string {
	b.tb.Helper()
	return act(b, "evaluate "+js, chromedp.Evaluate[string]("String("+js+")"))
}

// Location returns the URL of the page shown.
func (b *Browser) Location() string {
	b.tb.Helper()
	return act(b, "read the location", chromedp.Location())
}

// WaitLocation waits (polling, within Timeout) until the page shown is at
// a URL starting with prefix, and returns that URL.
func (b *Browser) WaitLocation(prefix string) string {
	b.tb.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		loc := b.Location()
		if strings.HasPrefix(loc, prefix) {
			return loc
		}
		if time.Now().After(deadline) {
			b.tb.Fatalf("testbrowser: after %v the page is at %s, not at %s…", Timeout, loc, prefix)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Cookie is a cookie the browser holds.
type Cookie struct {
	Name, Value, Domain, Path string
	HTTPOnly, Secure, Session bool
	SameSite                  string // "Lax", "Strict", "None" or "" (not set)
	Expires                   time.Time
}

// Cookies returns every cookie the browser holds.
func (b *Browser) Cookies() []Cookie {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	res, err := chromedp.Call(ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		b.tb.Fatalf("testbrowser: read the cookies: %v", err)
	}
	out := make([]Cookie, 0, len(res.Cookies))
	for _, c := range res.Cookies {
		out = append(out, fromCDP(c))
	}
	return out
}

// Cookie returns the browser's cookie called name (the first, if several
// domains or paths hold one), and whether there is one.
func (b *Browser) Cookie(name string) (Cookie, bool) {
	b.tb.Helper()
	for _, c := range b.Cookies() {
		if c.Name == name {
			return c, true
		}
	}
	return Cookie{}, false
}

func fromCDP(c *network.Cookie) Cookie {
	out := Cookie{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path,
		HTTPOnly: c.HTTPOnly, Secure: c.Secure, Session: c.Session, SameSite: string(c.SameSite)}
	if !c.Session && c.Expires > 0 {
		out.Expires = time.Unix(0, int64(c.Expires*float64(time.Second)))
	}
	return out
}

// Screenshot takes a PNG of the window, writes it to file (its directory
// made if missing; "" writes nothing) and returns it.
func (b *Browser) Screenshot(file string) []byte {
	b.tb.Helper()
	img := act(b, "take a screenshot", chromedp.CaptureScreenshot())
	if file != "" {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			b.tb.Fatal(err)
		}
		if err := os.WriteFile(file, img, 0o644); err != nil {
			b.tb.Fatal(err)
		}
	}
	return img
}

// minColours is how many distinct colours a picture needs not to be blank.
const minColours = 8

// NotBlank checks that pngData is a PNG with something drawn on it: at
// least minColours distinct colours (a blank page, a one-colour error
// background or a failed render has one or two; a page with text and
// anti-aliasing has dozens).
func NotBlank(pngData []byte) error {
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return fmt.Errorf("not a PNG: %w", err)
	}
	r := img.Bounds()
	if r.Empty() {
		return errors.New("an empty picture")
	}
	seen := make(map[[4]uint32]bool, minColours)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, ca := img.At(x, y).RGBA()
			seen[[4]uint32{cr, cg, cb, ca}] = true
			if len(seen) >= minColours {
				return nil
			}
		}
	}
	return fmt.Errorf("a %dx%d picture of %d colour(s): blank", r.Dx(), r.Dy(), len(seen))
}
