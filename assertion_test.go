package wechatauth_test

// Signed identity through a real Caddy: X-WX-Assertion verified with
// nothing but the JWK Set that /wx/jwks.json publishes, by a verifier
// written here on the standard library and by go-jose (an independent
// JOSE implementation); forgeries refused by both; keys kept in Caddy's
// storage, the same for two Caddy processes on one storage, and the same
// after a restart.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/wechat-auth/wechat_auth/internal/fakewx"
)

// assertionGlobal is globalOptions with Caddy's storage in a temp dir,
// and X-Wx-Assertion (it holds the phone) filtered out of the DEBUG log
// like X-Wx-Phone, as the README recommends.
const assertionGlobal = `{{define "appA"}}app_id {{.AppA}}
			app_secret {env.{{.SecretEnv}}}
			api_base {{.WeChat}}
			session_ttl 2h{{end}}{
	admin {{.Admin}}
	auto_https off
	http_port {{.Port}}
	storage file_system {{.Storage}}
	servers {
		expected_underscore_headers x_wx_*
		expected_dot_headers x.wx.*
	}
	log {
		output file {{.Log}}
		level DEBUG
		format filter {
			wrap json
			fields {
				request>headers>X-Wx-Phone delete
				request>headers>X-Wx-Assertion delete
			}
		}
	}
}
`

// assertionSites: app A with assertion on (three require modes), app A
// with assertion off under /off/ (prefix stripped: /off/wx/jwks.json is
// answered by that block), app B with assertion on under /b/.
const assertionSites = `
http://127.0.0.1:{{.Port}} {
	handle_path /off/* {
		wechat_auth {
			{{template "appA" .}}
		}
		reverse_proxy {{.Upstream}}
	}
	handle_path /b/* {
		wechat_auth {
			app_id {{.AppB}}
			app_secret {{.SecretB}}
			api_base {{.WeChat}}
			assertion on
		}
		reverse_proxy {{.Upstream}}
	}
	handle /phone/* {
		wechat_auth {
			{{template "appA" .}}
			require phone
			assertion on
		}
		reverse_proxy {{.Upstream}}
	}
	handle /open/* {
		wechat_auth {
			{{template "appA" .}}
			require none
			assertion on
		}
		reverse_proxy {{.Upstream}}
	}
	handle {
		wechat_auth {
			{{template "appA" .}}
			assertion on
		}
		reverse_proxy {{.Upstream}}
	}
}
`

type storageVars struct {
	siteVars
	Storage string
}

// renderWithStorage renders sites under assertionGlobal.
func renderWithStorage(t *testing.T, v siteVars, storage, sites string) string {
	t.Helper()
	return renderCaddyfile(t, assertionGlobal+sites, storageVars{v, storage})
}

// loadWithStorage runs sites with Caddy's storage in dir.
func (e *env) loadWithStorage(dir, sites string) {
	e.t.Helper()
	e.loadCaddyfile(renderWithStorage(e.t, e.vars(), dir, sites))
}

// jwks fetches a JWK Set and checks how it is served.
func (e *env) jwks(base string) []byte {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/wx/jwks.json", nil)
	a := e.send(req)
	if a.status != http.StatusOK {
		e.t.Fatalf("GET %s/wx/jwks.json: %d %s", base, a.status, a.body)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Errorf("JWK Set Content-Type %q", ct)
	}
	if cc := a.header.Get("Cache-Control"); cc != "public, max-age=300" {
		e.t.Errorf("JWK Set Cache-Control %q", cc)
	}
	return a.body
}

// publishedKey is one key of a JWK Set, as a backend reads it.
type publishedKey struct {
	Kty, Crv, X, Y, Kid, Use, Alg, D string
}

func parseJWKS(t *testing.T, raw []byte) []publishedKey {
	t.Helper()
	var set struct {
		Keys []publishedKey `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("JWK Set is not JSON: %v: %s", err, raw)
	}
	for _, k := range set.Keys {
		if k.Kty != "EC" || k.Crv != "P-256" || k.Use != "sig" || k.Alg != "ES256" || k.Kid == "" || k.X == "" || k.Y == "" {
			t.Errorf("key %+v: want kty EC, crv P-256, use sig, alg ES256, kid, x, y", k)
		}
		if k.D != "" || bytes.Contains(raw, []byte(`"d"`)) {
			t.Fatalf("the JWK Set publishes a private key")
		}
	}
	return set.Keys
}

func kidsOf(keys []publishedKey) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.Kid)
	}
	return out
}

// assertionClaims are what a backend reads.
type assertionClaims struct {
	Sub          string `json:"sub"`
	AppID        string `json:"appid"`
	UnionID      string `json:"unionid"`
	Phone        string `json:"phone"`
	PhoneCountry string `json:"phone_country"`
	IssuedAt     int64  `json:"iat"`
	Expires      int64  `json:"exp"`
}

var b64 = base64.RawURLEncoding

// verifyStdlib verifies a compact JWS the way a careful backend would,
// with the standard library and the JWK Set alone: ES256 only, the key
// named by kid, the public key built from x and y, the signature r || s,
// then exp.
func verifyStdlib(jws string, jwks []byte, now time.Time) (assertionClaims, error) {
	var c assertionClaims
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return c, errors.New("not a compact JWS")
	}
	raw, err := b64.DecodeString(parts[0])
	if err != nil {
		return c, fmt.Errorf("header: %v", err)
	}
	var hdr struct{ Alg, Kid string }
	if err := json.Unmarshal(raw, &hdr); err != nil {
		return c, fmt.Errorf("header: %v", err)
	}
	if hdr.Alg != "ES256" {
		return c, fmt.Errorf("alg %q", hdr.Alg)
	}
	var set struct{ Keys []publishedKey }
	if err := json.Unmarshal(jwks, &set); err != nil {
		return c, err
	}
	var key *publishedKey
	for i := range set.Keys {
		if set.Keys[i].Kid == hdr.Kid {
			key = &set.Keys[i]
		}
	}
	if key == nil || key.Kty != "EC" || key.Crv != "P-256" {
		return c, fmt.Errorf("no P-256 key %q in the set", hdr.Kid)
	}
	x, errX := b64.DecodeString(key.X)
	y, errY := b64.DecodeString(key.Y)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return c, errors.New("bad x or y")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return c, err
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return c, errors.New("signature is not 64 bytes of r || s")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return c, errors.New("bad signature")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, err
	}
	if now.Unix() >= c.Expires {
		return c, errors.New("expired")
	}
	return c, nil
}

// verifyJose verifies with go-jose v4 against the JWK Set: an
// implementation that shares nothing with wechat_auth's.
func verifyJose(jws string, jwks []byte, now time.Time) (assertionClaims, error) {
	var c assertionClaims
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return c, err
	}
	tok, err := josejwt.ParseSigned(jws, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return c, err
	}
	var std josejwt.Claims
	if err := tok.Claims(set, &std, &c); err != nil {
		return c, err
	}
	return c, std.ValidateWithLeeway(josejwt.Expected{Time: now}, 0)
}

// verifyBoth verifies with both verifiers, which must agree.
func verifyBoth(t *testing.T, jws string, jwks []byte) assertionClaims {
	t.Helper()
	now := time.Now()
	c1, err := verifyStdlib(jws, jwks, now)
	if err != nil {
		t.Fatalf("stdlib verifier refuses the assertion: %v\n%s", err, jws)
	}
	c2, err := verifyJose(jws, jwks, now)
	if err != nil {
		t.Fatalf("go-jose refuses the assertion: %v", err)
	}
	if c1 != c2 {
		t.Fatalf("the verifiers disagree: %+v, %+v", c1, c2)
	}
	if c1.Expires-c1.IssuedAt > 300 || c1.Expires-c1.IssuedAt <= 60 {
		t.Errorf("exp - iat = %d s, want at most 300 (and more than the minute a reused one keeps)", c1.Expires-c1.IssuedAt)
	}
	if c1.IssuedAt > now.Unix()+1 || c1.Expires < now.Unix()+60 {
		t.Errorf("iat %d, exp %d, now %d: want iat not in the future and at least a minute left", c1.IssuedAt, c1.Expires, now.Unix())
	}
	return c1
}

// assertionOf returns the one X-WX-Assertion the upstream got.
func assertionOf(t *testing.T, a answer) string {
	t.Helper()
	up := a.upstream(t)
	var vals []string
	for name, v := range up.Headers {
		if strings.EqualFold(strings.NewReplacer("_", "-", ".", "-").Replace(name), "X-WX-Assertion") {
			vals = append(vals, v...)
		}
	}
	if len(vals) != 1 {
		t.Fatalf("the upstream got %d X-WX-Assertion values: %v", len(vals), up.Headers)
	}
	return vals[0]
}

func TestAssertionThroughCaddy(t *testing.T) {
	e := newEnv(t, "")
	storage := t.TempDir()
	e.loadWithStorage(storage, assertionSites)
	e.secret("13800138000", "a full phone number")

	jwks := e.jwks(e.base)
	keys := parseJWKS(t, jwks)
	if len(keys) != 1 {
		t.Fatalf("%d keys published, want 1: %s", len(keys), jwks)
	}
	// every block publishes the same set: assertion off, another app
	if got := e.jwks(e.base + "/off"); !bytes.Equal(got, jwks) {
		t.Errorf("the block with assertion off publishes %s, want %s", got, jwks)
	}
	if got := e.jwks(e.base + "/b"); !bytes.Equal(got, jwks) {
		t.Errorf("app B's block publishes %s", got)
	}

	// a client's X-WX-Assertion, however spelled, never arrives
	tok := e.login("", "union-carol.1")
	forged := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJvX2FkbWluIn0."
	a1 := assertionOf(t, e.raw("GET", "/api/x", [][2]string{
		{"Authorization", "Bearer " + tok}, {"X-WX-Assertion", forged}, {"x-wx-assertion", forged},
		{"X_WX_ASSERTION", forged}, {"x.wx.assertion", forged},
	}, ""))
	if a1 == forged {
		t.Fatal("the client's assertion was passed on")
	}
	c := verifyBoth(t, a1, jwks)
	want := assertionClaims{Sub: fakewx.OpenID(appA, "carol"), AppID: appA, UnionID: fakewx.UnionID("carol"), IssuedAt: c.IssuedAt, Expires: c.Expires}
	if c != want {
		t.Errorf("claims %+v, want %+v", c, want)
	}
	// reused, not signed per request
	if a := assertionOf(t, e.do("GET", "/api/y", "", bearer(tok)...)); a != a1 {
		t.Errorf("a second request got another assertion: signed per request")
	}

	// a phone bound: the next request says so, on every route
	phoneAnswer(t, e.do("POST", "/wx/phone", `{"code":"phone-13800138000"}`, bearer(tok)...), "13800138000", "13800138000", "86")
	a2 := assertionOf(t, e.do("GET", "/api/x", "", bearer(tok)...))
	c = verifyBoth(t, a2, jwks)
	if c.Phone != "13800138000" || c.PhoneCountry != "86" || c.Sub != want.Sub || c.UnionID != want.UnionID {
		t.Errorf("after the bind: %+v", c)
	}
	if a := assertionOf(t, e.do("GET", "/phone/x", "", bearer(tok)...)); verifyBoth(t, a, jwks).Phone != "13800138000" {
		t.Errorf("require phone route: no phone in the assertion")
	}
	e.secret(a1, "an assertion")
	e.secret(a2, "an assertion")

	// require none: with a token signed, without none
	if a := assertionOf(t, e.do("GET", "/open/x", "", bearer(tok)...)); verifyBoth(t, a, jwks).Sub != want.Sub {
		t.Errorf("require none with a token: wrong assertion")
	}
	up := e.do("GET", "/open/x", "", "X-WX-Assertion", forged).upstream(t)
	if len(up.Headers.Values("X-Wx-Assertion")) != 0 {
		t.Errorf("an anonymous request carries an assertion: %v", up.Headers)
	}
	// assertion off: none, and the client's is still stripped
	up = e.do("GET", "/off/x", "", append(bearer(tok), "X-WX-Assertion", forged)...).upstream(t)
	if len(up.Headers.Values("X-Wx-Assertion")) != 0 || up.Headers.Get("X-Wx-Openid") != want.Sub {
		t.Errorf("assertion off: %v", up.Headers)
	}

	// app B: its appid, verified with the same set
	tokB := e.login("/b", "ok-dave")
	if c := verifyBoth(t, assertionOf(t, e.do("GET", "/b/x", "", bearer(tokB)...)), jwks); c.AppID != appB || c.Sub != fakewx.OpenID(appB, "dave") {
		t.Errorf("app B: %+v", c)
	}
	// no token: 401, nothing signed, nothing forwarded
	before := e.upHits.Load()
	if got := e.do("GET", "/api/x", "", "X-WX-Assertion", a1).errorCode(t, 401); got != "unauthorized" {
		t.Errorf("no token: %q", got)
	}
	if e.upHits.Load() != before {
		t.Error("a request without a token reached the upstream")
	}

	// the endpoint: GET and HEAD, conditional, no other method, no token needed
	head := e.do("HEAD", "/wx/jwks.json", "")
	if head.status != 200 || len(head.body) != 0 || head.header.Get("ETag") == "" {
		t.Errorf("HEAD: %d %q %v", head.status, head.body, head.header)
	}
	if a := e.do("GET", "/wx/jwks.json", "", "If-None-Match", head.header.Get("ETag")); a.status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", a.status)
	}
	post := e.do("POST", "/wx/jwks.json", "{}")
	if got := post.errorCode(t, 405); got != "method_not_allowed" || post.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %q, Allow %q", got, post.header.Get("Allow"))
	}
	if got := e.do("GET", "/wx/login", "").header.Get("Allow"); got != "POST" {
		t.Errorf("GET /wx/login: Allow %q", got)
	}

	// the keys are in the storage (private, PKCS#8), not in memory only:
	// Caddy stopped and started again on it signs with the same key
	raw, err := os.ReadFile(filepath.Join(storage, "wechat_auth", "assertion", "keys.json"))
	if err != nil || !bytes.Contains(raw, []byte("BEGIN PRIVATE KEY")) || !bytes.Contains(raw, []byte(keys[0].Kid)) {
		t.Fatalf("keys.json in the storage: %v\n%s", err, raw)
	}
	if fi, _ := os.Stat(filepath.Join(storage, "wechat_auth", "assertion", "keys.json")); fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("keys.json mode %v: readable by others", fi.Mode())
	}
	if err := caddy.Stop(); err != nil {
		t.Fatal(err)
	}
	e.loadWithStorage(storage, assertionSites)
	if got := e.jwks(e.base); !bytes.Equal(got, jwks) {
		t.Errorf("after a restart: %s, want %s", got, jwks)
	}
	tok2 := e.login("", "ok-erin")
	if c := verifyBoth(t, assertionOf(t, e.do("GET", "/api/x", "", bearer(tok2)...)), jwks); c.Sub != fakewx.OpenID(appA, "erin") {
		t.Errorf("after a restart: %+v", c)
	}
	// another storage, other keys
	if err := caddy.Stop(); err != nil {
		t.Fatal(err)
	}
	e.loadWithStorage(t.TempDir(), assertionSites)
	if other := parseJWKS(t, e.jwks(e.base)); len(other) != 1 || other[0].Kid == keys[0].Kid {
		t.Errorf("a new storage publishes %v, the first %v", kidsOf(other), kidsOf(keys))
	}
}

// Forgeries: every one refused by both verifiers, while the genuine
// assertion passes (so the refusals are the verifiers' judgement of the
// forgery, not of anything else).
func TestAssertionForgeriesRejected(t *testing.T) {
	e := newEnv(t, "")
	e.loadWithStorage(t.TempDir(), assertionSites)
	jwks := e.jwks(e.base)
	kid := parseJWKS(t, jwks)[0].Kid
	tok := e.login("", "union-carol.2")
	genuine := assertionOf(t, e.do("GET", "/api/x", "", bearer(tok)...))
	verifyBoth(t, genuine, jwks)
	e.secret(genuine, "an assertion")
	parts := strings.Split(genuine, ".")
	payload, _ := b64.DecodeString(parts[1])
	adminPayload := b64.EncodeToString(bytes.Replace(payload, []byte(fakewx.OpenID(appA, "carol")), []byte("o_admin"), 1))
	enc := func(s string) string { return b64.EncodeToString([]byte(s)) }
	hs256 := func(secret []byte) string {
		signing := enc(`{"alg":"HS256","kid":"`+kid+`","typ":"JWT"}`) + "." + adminPayload
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(signing))
		return signing + "." + b64.EncodeToString(m.Sum(nil))
	}
	// an attacker's own P-256 key, claiming the published kid
	attacker, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ownKey := func() string {
		signing := parts[0] + "." + adminPayload
		d := sha256.Sum256([]byte(signing))
		r, s, _ := ecdsa.Sign(rand.Reader, attacker, d[:])
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return signing + "." + b64.EncodeToString(sig)
	}()
	flipped := []byte(parts[2])
	flipped[5] ^= 'A' ^ 'B'
	x, _ := b64.DecodeString(parseJWKS(t, jwks)[0].X)

	for name, forged := range map[string]string{
		"claims changed":        parts[0] + "." + adminPayload + "." + parts[2],
		"alg none":              enc(`{"alg":"none","typ":"JWT"}`) + "." + adminPayload + ".",
		"alg none, old sig":     enc(`{"alg":"none","kid":"`+kid+`"}`) + "." + parts[1] + "." + parts[2],
		"other kid":             enc(`{"alg":"ES256","kid":"another-key","typ":"JWT"}`) + "." + parts[1] + "." + parts[2],
		"no kid":                enc(`{"alg":"ES256","typ":"JWT"}`) + "." + parts[1] + "." + parts[2],
		"HS256 with the set":    hs256(jwks),
		"HS256 with x":          hs256(x),
		"attacker's key":        ownKey,
		"signature bit flipped": parts[0] + "." + parts[1] + "." + string(flipped),
		"signature as ASN.1":    parts[0] + "." + parts[1] + "." + b64.EncodeToString(append([]byte{0x30, 0x44}, mustDecode(parts[2])...)),
	} {
		if _, err := verifyStdlib(forged, jwks, time.Now()); err == nil {
			t.Errorf("%s: the stdlib verifier accepts it", name)
		}
		if _, err := verifyJose(forged, jwks, time.Now()); err == nil {
			t.Errorf("%s: go-jose accepts it", name)
		}
	}
	// and once expired, the genuine one is refused too
	if _, err := verifyJose(genuine, jwks, time.Now().Add(5*time.Minute+time.Second)); err == nil {
		t.Errorf("go-jose accepts an expired assertion")
	}
	if _, err := verifyStdlib(genuine, jwks, time.Now().Add(5*time.Minute+time.Second)); err == nil {
		t.Errorf("the stdlib verifier accepts an expired assertion")
	}
}

func mustDecode(s string) []byte {
	b, err := b64.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// A config that asks for assertions on a storage that cannot hold the
// keys is refused, naming the setting and the storage.
func TestAssertionUnusableStorageRefused(t *testing.T) {
	e := newEnv(t, "")
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(renderWithStorage(t, e.vars(), file, assertionSites)), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = caddy.Load(cfg, true)
	if err == nil || !strings.Contains(err.Error(), "assertion on") || !strings.Contains(err.Error(), file) {
		t.Fatalf("loading with keys on a file as storage: %v", err)
	}
	// the config before goes on
	e.do("GET", "/api/x", "", bearer(e.login("", "ok-alice"))...).upstream(t)
}

// startAssertionProcess starts ./cmd/caddy with sites on storage (admin
// off, HOME and XDG in its temp dir); the caller waits for it to listen
// with listen.
func startAssertionProcess(t *testing.T, e *env, storage, sites string) *caddyProcess {
	t.Helper()
	dir := t.TempDir()
	v := e.vars()
	v.Port, v.Admin, v.Log = freePort(t), "off", filepath.Join(dir, "caddy.log")
	return runCaddyProcess(t, e, dir, v, renderWithStorage(t, v, storage, sites))
}

func (p *caddyProcess) listen(t *testing.T) {
	t.Helper()
	waitListening(t, strings.TrimPrefix(p.base, "http://"))
}

// Two Caddy processes started together on one storage make one key
// between them (the storage lock), publish the same set and verify each
// other's assertions; a Caddy started after both stopped keeps the key.
func TestAssertionTwoCaddyProcessesShareKeys(t *testing.T) {
	t.Parallel()
	e := newWorld(t, envOptions{}) // the fake WeChat, the upstream, the secrets grep
	storage := t.TempDir()
	sites := assertionSites
	one := startAssertionProcess(t, e, storage, sites)
	two := startAssertionProcess(t, e, storage, sites)
	one.listen(t)
	two.listen(t)

	jwks1, jwks2 := e.jwks(one.base), e.jwks(two.base)
	if !bytes.Equal(jwks1, jwks2) || len(parseJWKS(t, jwks1)) != 1 {
		t.Fatalf("two Caddys on one storage publish\n%s\n%s", jwks1, jwks2)
	}
	at := e.at
	login := func(p *caddyProcess, code string) string {
		t.Helper()
		a := at(p, "POST", "/wx/login", fmt.Sprintf(`{"code":%q}`, code))
		tok, _ := a.json(t)["token"].(string)
		if a.status != 200 || tok == "" {
			t.Fatalf("login: %d %s", a.status, a.body)
		}
		e.secret(tok, "a session token")
		return tok
	}
	// each one's assertion verifies with the other's set
	a1 := assertionOf(t, at(one, "GET", "/api/x", "", bearer(login(one, "ok-alice"))...))
	a2 := assertionOf(t, at(two, "GET", "/api/x", "", bearer(login(two, "ok-bob"))...))
	if c := verifyBoth(t, a1, jwks2); c.Sub != fakewx.OpenID(appA, "alice") {
		t.Errorf("one's assertion: %+v", c)
	}
	if c := verifyBoth(t, a2, jwks1); c.Sub != fakewx.OpenID(appA, "bob") {
		t.Errorf("two's assertion: %+v", c)
	}

	// both stop; a third starts on the storage: the same key
	one.stop()
	two.stop()
	three := startAssertionProcess(t, e, storage, sites)
	three.listen(t)
	if jwks3 := e.jwks(three.base); !bytes.Equal(jwks3, jwks1) {
		t.Fatalf("after a restart:\n%s\nwant\n%s", jwks3, jwks1)
	}
	a3 := assertionOf(t, at(three, "GET", "/api/x", "", bearer(login(three, "ok-carol"))...))
	if c := verifyBoth(t, a3, jwks1); c.Sub != fakewx.OpenID(appA, "carol") {
		t.Errorf("three's assertion: %+v", c)
	}
}

// /wx/jwks.json with assertion off in every block: answered (never passed
// on, no token needed), but the keys are only read: an empty set on a
// storage that has none, nothing written to it; the keys a Caddy with
// assertion on made in that storage once there.
func TestJWKSWithAssertionOff(t *testing.T) {
	e := newEnv(t, "")
	storage := t.TempDir()
	offSites := strings.ReplaceAll(assertionSites, "assertion on", "assertion off")
	e.loadWithStorage(storage, offSites)
	before := e.upHits.Load()
	if got := e.jwks(e.base); string(got) != `{"keys":[]}` {
		t.Errorf("no block with assertion on, empty storage: %s", got)
	}
	if e.upHits.Load() != before {
		t.Error("/wx/jwks.json reached the upstream")
	}
	if entries, _ := os.ReadDir(storage); len(entries) != 0 {
		t.Errorf("assertion off wrote to the storage: %v", entries)
	}
	tok := e.login("", "ok-alice")
	if up := e.do("GET", "/api/x", "", bearer(tok)...).upstream(t); len(up.Headers.Values("X-Wx-Assertion")) != 0 {
		t.Errorf("assertion off, yet: %v", up.Headers)
	}

	// a Caddy with assertion on makes the keys; one with it off publishes them
	if err := caddy.Stop(); err != nil {
		t.Fatal(err)
	}
	e.loadWithStorage(storage, assertionSites)
	on := e.jwks(e.base)
	if len(parseJWKS(t, on)) != 1 {
		t.Fatalf("assertion on: %s", on)
	}
	if err := caddy.Stop(); err != nil {
		t.Fatal(err)
	}
	e.loadWithStorage(storage, offSites)
	if got := e.jwks(e.base); !bytes.Equal(got, on) {
		t.Errorf("assertion off on a storage with keys: %s, want %s", got, on)
	}
}
