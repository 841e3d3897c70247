// Package reply holds the error answers of wechat_auth and wechat_api:
// the table of every one (status, code, message), how one is written
// (JSON, with the headers its status wants), how a failed WeChat call or
// session store maps to one, how such a failure is logged, and the client
// address the answers are about. Add an error answer here, with define,
// and nowhere else.
package reply

import "net/http"

// Error is an error answer wechat_auth or wechat_api gives instead of
// passing a request on: an HTTP status and a JSON body {"error": Code,
// "message": Message}. Every one they can give is defined below with
// define, so All lists it (and the README test checks its row).
type Error struct {
	Status  int
	Code    string // stable snake_case, what a client switches on
	Message string // for a human; never holds a secret or user data
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// defined is every Error made by define, in order.
var defined []*Error

// define makes an Error and records it in All: an error answer can be
// added only here, and is never missing from the list.
func define(status int, code, message string) *Error {
	e := &Error{status, code, message}
	defined = append(defined, e)
	return e
}

// All returns every error answer, for the test that keeps the README's
// table complete.
func All() []*Error { return append([]*Error(nil), defined...) }

// The error answers. Codes are public API: never rename one.
var (
	// request shape
	MethodNotAllowed = define(http.StatusMethodNotAllowed, "method_not_allowed", "this endpoint does not take this method: see the Allow header")
	BodyTooLarge     = define(http.StatusRequestEntityTooLarge, "body_too_large", "request body is too large")
	InvalidJSON      = define(http.StatusBadRequest, "invalid_json", "request body must be a JSON object")
	MissingCode      = define(http.StatusBadRequest, "missing_code", `"code" must be a non-empty string`)
	MissingAppID     = define(http.StatusBadRequest, "missing_app_id", `send "app_id", a string naming the app to log in to`)
	UnknownApp       = define(http.StatusBadRequest, "unknown_app", `"app_id" names no app this endpoint serves`)
	// login
	InvalidCode      = define(http.StatusUnauthorized, "invalid_code", "the login code is invalid or expired: call wx.login again")
	CodeUsed         = define(http.StatusUnauthorized, "code_used", "the login code was already used: call wx.login again")
	RiskyUser        = define(http.StatusForbidden, "risky_user", "WeChat refused this user's login (high risk)")
	RateLimited      = define(http.StatusTooManyRequests, "rate_limited", "WeChat rate limit reached: retry later")
	SessionFull      = define(http.StatusServiceUnavailable, "session_store_full", "no room for a new session: retry later")
	StoreUnavailable = define(http.StatusServiceUnavailable, "session_store_unavailable", "the session store is unavailable: retry later")
	// authentication
	NoToken       = define(http.StatusUnauthorized, "unauthorized", "log in first: send Authorization: Bearer <token>")
	InvalidToken  = define(http.StatusUnauthorized, "invalid_token", "the session is invalid or expired: log in again")
	PhoneRequired = define(http.StatusForbidden, "phone_required", "bind a phone number first (POST /wx/phone)")
	// phone
	MissingPhoneData  = define(http.StatusBadRequest, "missing_phone_data", `send {"code"} or {"encryptedData", "iv"}`)
	InvalidPhoneCode  = define(http.StatusBadRequest, "invalid_phone_code", "the phone code is invalid, expired or already used: ask the user again")
	MalformedData     = define(http.StatusBadRequest, "malformed_encrypted_data", "encryptedData or iv is not valid base64 of the right length")
	Undecryptable     = define(http.StatusBadRequest, "undecryptable_data", "the data does not decrypt with this user's session: log in again and retry")
	NoPhone           = define(http.StatusBadRequest, "no_phone_number", "the payload holds no phone number")
	Watermark         = define(http.StatusForbidden, "watermark_mismatch", "the payload was made for another app")
	StalePhoneData    = define(http.StatusBadRequest, "stale_phone_data", "the payload's timestamp is in the future or too old: ask the user again")
	SessionKeyExpired = define(http.StatusBadRequest, "session_key_expired", "the session key that sealed the data is no longer valid: log in again with a fresh login code, then send the same data again")
	// WeChat trouble
	WeChatBusy        = define(http.StatusServiceUnavailable, "wechat_busy", "WeChat is busy: retry later")
	WeChatTimeout     = define(http.StatusGatewayTimeout, "wechat_timeout", "WeChat did not answer in time: retry later")
	WeChatUnreachable = define(http.StatusBadGateway, "wechat_unreachable", "WeChat could not be reached: retry later")
	WeChatBadAnswer   = define(http.StatusBadGateway, "wechat_bad_response", "WeChat answered something unusable: retry later")
	WeChatConfig      = define(http.StatusBadGateway, "wechat_config_error", "WeChat refused the server's app configuration (credentials, IP whitelist or quota): the operator must act")
	WeChatOther       = define(http.StatusBadGateway, "wechat_error", "WeChat refused the request")
	ClientGone        = define(499, "client_closed_request", "the client went away")
	// hostile clients (failure_limit)
	TooManyFailures = define(http.StatusTooManyRequests, "too_many_failures", "too many codes from this address were refused: retry after Retry-After seconds")
	// the Open API gateway (wechat_api)
	AddressNotAllowed = define(http.StatusForbidden, "address_not_allowed", "this address may not call the WeChat API gateway (allow_from)")
	// signed identity
	SigningKeys = define(http.StatusServiceUnavailable, "signing_keys_unavailable", "the assertion signing keys could not be read from Caddy's storage: retry later")
)
