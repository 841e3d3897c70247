// Package platform is the seam between wechat_auth's handler and the mini
// program platforms (WeChat, QQ, Douyin, Kuaishou, Baidu, Alipay): one
// interface for "trade a login code" and "the phone flows", one error
// type whose Kind the handler maps to its answers, and a registry the
// handler reads, so that adding a platform touches no handler code.
//
// Each platform is its own small package under internal/platform/<name>
// that calls Register from its init; internal/platform/all imports them
// all. Nothing here knows of Caddy.
package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"time"
)

// Identity is what a platform's code exchange says of the user.
type Identity struct {
	// OpenID is the user's id on this platform for this app (Alipay: its
	// open_id, or user_id for an app in user_id mode).
	OpenID string
	// UnionID is the user's id across the developer's apps, "" when the
	// platform gave none.
	UnionID string
	// SessionKey is the key the platform seals the user's data with, as
	// the platform gave it (base64); "" where the platform has none
	// (Alipay). The handler keeps it server side and hands it back, newest
	// first, in PhoneRequest.Keys.
	SessionKey string
}

// PhoneRequest is what a client sent to /wx/phone, with what the server
// knows of the user. A platform uses the fields of the flows it has.
type PhoneRequest struct {
	// OpenID is the session's user.
	OpenID string
	// Keys are the user's session keys, newest first (at most two: the
	// newest and the one it replaced); none on a platform without them.
	Keys []string

	// Code is a phone button's code (WeChat, Douyin).
	Code string
	// EncryptedData and IV are the legacy sealed payload (every platform
	// with session keys).
	EncryptedData, IV string
	// Response and Sign are Alipay's my.getPhoneNumber answer.
	Response, Sign string
}

// Phone is a user's phone number. CountryCode is "86" where the platform
// gives none.
type Phone struct {
	PhoneNumber     string // may carry the country code and spaces
	PurePhoneNumber string // digits only
	CountryCode     string // digits only, such as "86"
	// Timestamp is when the user shared the number, where the platform
	// says (a watermark); zero otherwise.
	Timestamp time.Time
}

// Client is one app on one platform. It is safe for concurrent use;
// deadlines come from the contexts passed to it.
type Client interface {
	// Login trades the code the platform's login API gave the client for
	// the user's identity. Errors are *Error.
	Login(ctx context.Context, code string) (Identity, error)
	// Phone resolves what the client sent to /wx/phone: an *Error for a
	// failed call to the platform, or one of the Err* values below.
	// A request whose fields name no flow the platform has is
	// ErrNoPhoneFlow.
	Phone(ctx context.Context, req PhoneRequest) (Phone, error)
	// Close releases what the client holds (idle connections, a token
	// refresher).
	Close()
}

// Config is what a Client is made from: one app's settings, placeholders
// already replaced.
type Config struct {
	AppID string
	// Secret is the app's secret; "" on a platform without one (Alipay).
	Secret string
	// APIBase is where every server API call of the app goes, each on its
	// real path; "" for the platform's real hosts.
	APIBase string
	// Options are the platform options of the app block by name
	// (app_private_key, alipay_public_key, aes_key, ...), as configured.
	// New refuses one that does not parse, naming the option, never its
	// value.
	Options map[string]string
	// HTTPClient makes every call (it must not follow redirects).
	HTTPClient *http.Client
	// Observe, when set, is told of every call to the platform: the
	// endpoint, how long it took and its error (nil on success).
	Observe func(endpoint string, took time.Duration, err error)
	// OnTokenError, when set, hears of every failed access token fetch
	// (for one log line per backoff).
	OnTokenError func(TokenError)
	// PhoneMaxAge, when positive, refuses sealed phone data whose
	// timestamp is older (ErrStale); 0 accepts any age. Data stamped in
	// the future beyond a small skew is always refused.
	PhoneMaxAge time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Caller is the Caller of the app's calls to the platform name.
func (c Config) Caller(name string) Caller {
	return Caller{Platform: name, HTTPClient: c.HTTPClient, Observe: c.Observe}
}

// Clock is Now, or time.Now where Now is nil.
func (c Config) Clock() func() time.Time {
	if c.Now == nil {
		return time.Now
	}
	return c.Now
}

// Platform describes one platform for the handler and the Caddyfile.
type Platform struct {
	// Name is the platform word of the Caddyfile and X-WX-Platform.
	Name string
	// AppID is the shape of the platform's app ids; AppIDHint says it in
	// words for an error ("\"tt\" and 16 hex digits, such as tt5da...").
	AppID     *regexp.Regexp
	AppIDHint string
	// NeedsSecret: app_secret is required (every platform but Alipay).
	NeedsSecret bool
	// Options are the platform options an app block may set; Required
	// those it must.
	Options, Required []string
	// WebLogin: the platform logs in in a browser (WeChat's web
	// authorization: wechat_oa, wechat_web), not by a mini program's code
	// at /wx/login; such an app is never the default app of a login.
	WebLogin bool
	// UserID is the shape of the ids (openid, unionid) its answers may
	// carry: an answer with another is refused (KindBadAnswer), and the
	// admin API accepts exactly these. DefaultUserID when nil.
	UserID *regexp.Regexp
	// New makes a client for one app. It checks the options (a key that
	// does not parse is refused, naming the app and the option).
	New func(Config) (Client, error)
}

// DefaultUserID is the shape of an openid or unionid unless a platform
// says otherwise: 1 to 64 of letters, digits, '-' and '_'.
var DefaultUserID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidUserID reports whether id has the shape of the platform's user ids.
func (p *Platform) ValidUserID(id string) bool {
	re := p.UserID
	if re == nil {
		re = DefaultUserID
	}
	return re.MatchString(id)
}

var registry = struct {
	sync.RWMutex
	m map[string]*Platform
}{m: map[string]*Platform{}}

// Register adds a platform; it panics on a duplicate or incomplete one
// (it runs from init).
func Register(p *Platform) {
	if p.Name == "" || p.AppID == nil || p.New == nil {
		panic("platform: Register needs Name, AppID and New")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[p.Name]; dup {
		panic("platform: " + p.Name + " registered twice")
	}
	registry.m[p.Name] = p
}

// Lookup returns the platform of that name.
func Lookup(name string) (*Platform, bool) {
	registry.RLock()
	defer registry.RUnlock()
	p, ok := registry.m[name]
	return p, ok
}

// Names lists the registered platforms, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Kind says what sort of failure an *Error is, in the platform-neutral
// terms the handler answers in.
type Kind int

const (
	// KindInvalidCode: the code (login or phone) is wrong or expired.
	KindInvalidCode Kind = iota + 1
	// KindCodeUsed: the code was used already (where the platform tells).
	KindCodeUsed
	// KindRiskyUser: the platform refused this user (WeChat's 40226).
	KindRiskyUser
	// KindRateLimited: the platform's rate limit.
	KindRateLimited
	// KindBusy: the platform says it is busy; retry later.
	KindBusy
	// KindConfig: the platform refused the app's configuration
	// (credentials, keys, IP whitelist, quota): only the operator can fix
	// it; Action says what to do.
	KindConfig
	// KindRefused: any other refusal the platform gave.
	KindRefused
	// KindBadAnswer: an answer came but cannot be used or trusted: not
	// HTTP 200, not JSON, missing fields, an id of the wrong shape, a
	// signature that does not verify.
	KindBadAnswer
	// KindTimeout: no answer before the context's deadline.
	KindTimeout
	// KindUnreachable: the connection failed.
	KindUnreachable
	// KindCanceled: the caller's context was canceled.
	KindCanceled
)

func (k Kind) String() string {
	switch k {
	case KindInvalidCode:
		return "invalid_code"
	case KindCodeUsed:
		return "code_used"
	case KindRiskyUser:
		return "risky_user"
	case KindRateLimited:
		return "rate_limited"
	case KindBusy:
		return "busy"
	case KindConfig:
		return "config"
	case KindRefused:
		return "refused"
	case KindBadAnswer:
		return "bad_answer"
	case KindTimeout:
		return "timeout"
	case KindUnreachable:
		return "unreachable"
	case KindCanceled:
		return "canceled"
	}
	return "unknown"
}

// Error is a failed call to a platform. Its text never holds a secret, a
// key, a token or a request URL.
type Error struct {
	Platform string // the platform's Name
	Endpoint string // the API called, such as "jscode2session"
	Kind     Kind
	// Code and Msg are the platform's own error code and message, as text
	// ("40029", "isv.code-invalid"), when it gave one.
	Code, Msg string
	// Action says what the operator must do, for KindConfig.
	Action     string
	HTTPStatus int   // the answer's status, when one came
	Err        error // the underlying cause, when there is one
}

func (e *Error) Error() string {
	s := e.Platform + " " + e.Endpoint + ": " + e.Kind.String()
	if e.Code != "" {
		s += fmt.Sprintf(": code %s", e.Code)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns err's Kind when it is an *Error, else 0.
func KindOf(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return 0
}

// Errors of the phone flows, besides *Error.
var (
	// ErrNoPhoneFlow: the request names no phone flow this platform has.
	ErrNoPhoneFlow = errors.New("no phone flow of this platform in the request")
	// ErrMalformed: encryptedData, iv, response or sign is not of the
	// right form (base64 of the right length, JSON where JSON is due).
	ErrMalformed = errors.New("phone data malformed")
	// ErrUndecryptable: the data does not decrypt with any key held.
	ErrUndecryptable = errors.New("data does not decrypt with the session keys")
	// ErrSessionKeyExpired: no key held opens the data, and the platform
	// says the user's newest key is no longer valid: log in again, then
	// send the same data again.
	ErrSessionKeyExpired = errors.New("the session key is no longer valid")
	// ErrNoPhone: the payload opened but holds no phone number.
	ErrNoPhone = errors.New("payload has no phone number")
	// ErrWatermark: the payload was made for another app.
	ErrWatermark = errors.New("payload was made for another app")
	// ErrStale: the payload's timestamp is in the future or too old.
	ErrStale = errors.New("payload timestamp is in the future or too old")
	// ErrBadSignature: a signed payload (Alipay's) does not verify.
	ErrBadSignature = errors.New("payload signature does not verify")
)

// TokenError tells of a failed access token fetch.
type TokenError struct {
	Platform, AppID string
	Err             error // the *Error of the fetch
	// Backoff is how long the source waits before it fetches again.
	Backoff time.Duration
	// Failures counts the failed fetches in a row, this one included.
	Failures int
	// CachedFor is how long the cached token remains valid and in use; 0
	// when there is none.
	CachedFor time.Duration
}
