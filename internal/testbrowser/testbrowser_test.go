package testbrowser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
	"github.com/wechat-auth/wechat_auth/internal/weblogin"
)

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestNotBlank(t *testing.T) {
	blank := image.NewRGBA(image.Rect(0, 0, 50, 40))
	for i := range blank.Pix {
		blank.Pix[i] = 0xff
	}
	if err := NotBlank(pngOf(t, blank)); err == nil || !strings.Contains(err.Error(), "blank") {
		t.Errorf("a white picture: %v", err)
	}
	two := image.NewRGBA(image.Rect(0, 0, 50, 40))
	for x := 0; x < 50; x++ {
		for y := 0; y < 40; y++ {
			two.Set(x, y, color.RGBA{uint8(255 * (x % 2)), 0, 0, 255})
		}
	}
	if err := NotBlank(pngOf(t, two)); err == nil {
		t.Error("a two-colour picture is not blank")
	}
	drawn := image.NewRGBA(image.Rect(0, 0, 50, 40))
	for x := 0; x < 50; x++ {
		for y := 0; y < 40; y++ {
			drawn.Set(x, y, color.RGBA{uint8(x * 5), uint8(y * 6), 0, 255})
		}
	}
	if err := NotBlank(pngOf(t, drawn)); err != nil {
		t.Errorf("a gradient: %v", err)
	}
	if err := NotBlank([]byte("GIF89a")); err == nil || !strings.Contains(err.Error(), "PNG") {
		t.Errorf("not a PNG: %v", err)
	}
}

const (
	webApp    = "wxweb00000000001"
	webSecret = "web-secret"
)

// site is a minimal website that logs in through the fake's QR page as
// the real handler will: a state bound to the browser by a cookie, the
// code traded at the fake, a wx_session cookie, a page for the user.
type site struct {
	wx, url string
	mu      sync.Mutex
	states  map[string]string // state -> browser id
	users   map[string]string // session token -> openid
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/start":
		state, browser := weblogin.NewState(), weblogin.NewState()
		s.mu.Lock()
		s.states[state] = browser
		s.mu.Unlock()
		http.SetCookie(w, weblogin.StateCookie(browser, false, 0))
		http.Redirect(w, r, s.wx+"/connect/qrconnect?appid="+webApp+"&redirect_uri="+
			url.QueryEscape(s.url+"/wx/web/callback")+"&response_type=code&scope=snsapi_login&state="+state+
			"#wechat_redirect", http.StatusFound)
	case "/wx/web/callback":
		browser, _ := weblogin.BrowserID(r)
		state := r.URL.Query().Get("state")
		s.mu.Lock()
		want, ok := s.states[state]
		delete(s.states, state)
		s.mu.Unlock()
		if !ok || want != browser {
			http.Error(w, "invalid_state", http.StatusForbidden)
			return
		}
		resp, err := http.Get(s.wx + "/sns/oauth2/access_token?appid=" + webApp + "&secret=" + webSecret +
			"&code=" + url.QueryEscape(r.URL.Query().Get("code")) + "&grant_type=authorization_code")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var ans struct {
			OpenID  string `json:"openid"`
			Errcode int    `json:"errcode"`
		}
		if json.NewDecoder(resp.Body).Decode(&ans) != nil || ans.OpenID == "" {
			http.Error(w, fmt.Sprint("exchange failed: ", ans.Errcode), http.StatusBadGateway)
			return
		}
		token := weblogin.NewState()
		s.mu.Lock()
		s.users[token] = ans.OpenID
		s.mu.Unlock()
		http.SetCookie(w, weblogin.ClearStateCookie(false))
		http.SetCookie(w, weblogin.SessionCookie(token, false, 0))
		http.Redirect(w, r, "/web/", http.StatusFound)
	case "/web/":
		c, err := r.Cookie(weblogin.SessionCookieName)
		s.mu.Lock()
		openid := ""
		if err == nil {
			openid = s.users[c.Value]
		}
		s.mu.Unlock()
		if openid == "" {
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><body style="background:#eef;font-family:sans-serif">
<h1 id="hello" style="color:#07c160">Hello</h1><p id="openid">%s</p></body></html>`, openid)
	default:
		http.NotFound(w, r)
	}
}

// Chromium follows the fake's QR page to its confirm button, back to a
// site on loopback that sets its cookie and shows the user's page.
func TestQRLoginInChromium(t *testing.T) {
	b := Start(t)
	wx := fakewx.New(fakewx.Config{WebApps: map[string]fakewx.WebApp{
		webApp: {Kind: fakewx.WebsiteApp, Secret: webSecret, UnionID: true},
	}})
	wxSrv := httptest.NewServer(wx)
	t.Cleanup(wxSrv.Close)
	t.Cleanup(wx.Close)
	st := &site{wx: wxSrv.URL, states: map[string]string{}, users: map[string]string{}}
	siteSrv := httptest.NewServer(st)
	t.Cleanup(siteSrv.Close)
	st.url = siteSrv.URL

	b.Navigate(siteSrv.URL + "/start")
	if loc := b.Location(); !strings.HasPrefix(loc, wxSrv.URL+"/connect/qrconnect?") {
		t.Fatalf("the browser is at %s, not the QR page", loc)
	}
	if got := b.Text("h1"); got != "微信登录" {
		t.Fatalf("QR page title %q", got)
	}
	dir := t.TempDir()
	qr := b.Screenshot(filepath.Join(dir, "qr.png"))
	if err := NotBlank(qr); err != nil {
		t.Fatalf("the QR page's screenshot: %v", err)
	}
	if _, ok := b.Cookie(weblogin.StateCookieName); !ok {
		t.Fatal("no state cookie before the confirm")
	}
	b.SetValue("#wx-user", "bob")
	b.Click("#wx-confirm")
	b.WaitLocation(siteSrv.URL + "/web/")
	if got := b.Text("#openid"); got != fakewx.OpenID(webApp, "bob") {
		t.Fatalf("the page shows %q, want bob's openid", got)
	}
	c, ok := b.Cookie(weblogin.SessionCookieName)
	if !ok || !c.HTTPOnly || c.SameSite != "Lax" || c.Path != "/" || c.Secure || !c.Session || c.Value == "" {
		t.Fatalf("wx_session cookie %+v (found %v)", c, ok)
	}
	if _, ok := b.Cookie(weblogin.StateCookieName); ok {
		t.Error("the state cookie outlived the login")
	}
	if dc := b.Eval("document.cookie"); strings.Contains(dc, "wx_session") {
		t.Errorf("document.cookie shows the HttpOnly cookie: %q", dc)
	}
	shot := filepath.Join(dir, "logged-in.png")
	if err := NotBlank(b.Screenshot(shot)); err != nil {
		t.Fatalf("the logged-in page's screenshot: %v", err)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Fatalf("screenshot file: %v", err)
	}
	// a login that was not this browser's: the site refuses the callback
	b.Navigate(siteSrv.URL + "/wx/web/callback?code=ok-eve&state=" + weblogin.NewState())
	if got := b.Eval("document.body.innerText"); !strings.Contains(got, "invalid_state") {
		t.Fatalf("a forged state: %q", got)
	}
}

// The Official Account page refuses a browser outside WeChat, and takes
// one whose User-Agent says MicroMessenger.
func TestOfficialAccountNeedsWeChatsBrowser(t *testing.T) {
	wx := fakewx.New(fakewx.Config{WebApps: map[string]fakewx.WebApp{
		"wxoa1": {Kind: fakewx.OfficialAccount, Secret: "s"},
	}})
	wxSrv := httptest.NewServer(wx)
	t.Cleanup(wxSrv.Close)
	page := wxSrv.URL + "/connect/oauth2/authorize?appid=wxoa1&redirect_uri=" +
		url.QueryEscape("http://127.0.0.1:9/cb") + "&response_type=code&scope=snsapi_userinfo&state=s#wechat_redirect"
	b := Start(t)
	b.Navigate(page)
	if got := b.Text("#wx-error"); !strings.Contains(got, "请在微信客户端打开链接") {
		t.Fatalf("outside WeChat: %q", got)
	}
	b.SetUserAgent("Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0.50")
	// another state: the same URL with a fragment would not load again
	b.Navigate(strings.Replace(page, "state=s", "state=s2", 1))
	if got := b.Text("#wx-confirm"); got != "确认登录" {
		t.Fatalf("in WeChat: %q", got)
	}
}
