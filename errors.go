package wechatauth

import (
	"errors"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// apiError is an answer wechat_auth gives instead of passing a request on:
// an HTTP status and a JSON body {"error": code, "message": message}.
// Every one it can give is listed below, and in the README's table. The
// endpoints return them; answer writes and counts them, in one place.
type apiError struct {
	status  int
	code    string // stable snake_case, what a client switches on
	message string // for a human; never holds a secret or user data
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// The answers. Codes are public API: never rename one.
var (
	// request shape
	errMethodNotAllowed = apiError{http.StatusMethodNotAllowed, "method_not_allowed", "this endpoint does not take this method: see the Allow header"}
	errBodyTooLarge     = apiError{http.StatusRequestEntityTooLarge, "body_too_large", "request body is too large"}
	errInvalidJSON      = apiError{http.StatusBadRequest, "invalid_json", "request body must be a JSON object"}
	errMissingCode      = apiError{http.StatusBadRequest, "missing_code", `"code" must be a non-empty string`}

	// login
	errInvalidCode  = apiError{http.StatusUnauthorized, "invalid_code", "the login code is invalid or expired: call wx.login again"}
	errCodeUsed     = apiError{http.StatusUnauthorized, "code_used", "the login code was already used: call wx.login again"}
	errRiskyUser    = apiError{http.StatusForbidden, "risky_user", "WeChat refused this user's login (high risk)"}
	errRateLimited  = apiError{http.StatusTooManyRequests, "rate_limited", "WeChat rate limit reached: retry later"}
	errSessionFull  = apiError{http.StatusServiceUnavailable, "session_store_full", "no room for a new session: retry later"}
	errStoreFailure = apiError{http.StatusServiceUnavailable, "session_store_unavailable", "the session store is unavailable: retry later"}

	// authentication
	errNoToken       = apiError{http.StatusUnauthorized, "unauthorized", "log in first: send Authorization: Bearer <token>"}
	errInvalidToken  = apiError{http.StatusUnauthorized, "invalid_token", "the session is invalid or expired: log in again"}
	errPhoneRequired = apiError{http.StatusForbidden, "phone_required", "bind a phone number first (POST /wx/phone)"}

	// phone
	errMissingPhoneData = apiError{http.StatusBadRequest, "missing_phone_data", `send {"code"} or {"encryptedData", "iv"}`}
	errInvalidPhoneCode = apiError{http.StatusBadRequest, "invalid_phone_code", "the phone code is invalid, expired or already used: ask the user again"}
	errMalformedData    = apiError{http.StatusBadRequest, "malformed_encrypted_data", "encryptedData or iv is not valid base64 of the right length"}
	errUndecryptable    = apiError{http.StatusBadRequest, "undecryptable_data", "the data does not decrypt with this user's session: log in again and retry"}
	errNoPhone          = apiError{http.StatusBadRequest, "no_phone_number", "the payload holds no phone number"}
	errWatermark        = apiError{http.StatusForbidden, "watermark_mismatch", "the payload was made for another app"}
	errStalePhoneData   = apiError{http.StatusBadRequest, "stale_phone_data", "the payload's timestamp is in the future or too old: ask the user again"}

	// WeChat trouble
	errWeChatBusy        = apiError{http.StatusServiceUnavailable, "wechat_busy", "WeChat is busy: retry later"}
	errWeChatTimeout     = apiError{http.StatusGatewayTimeout, "wechat_timeout", "WeChat did not answer in time: retry later"}
	errWeChatUnreachable = apiError{http.StatusBadGateway, "wechat_unreachable", "WeChat could not be reached: retry later"}
	errWeChatBadAnswer   = apiError{http.StatusBadGateway, "wechat_bad_response", "WeChat answered something unusable: retry later"}
	errWeChatConfig      = apiError{http.StatusBadGateway, "wechat_config_error", "WeChat refused the server's app configuration (credentials, IP whitelist or quota): the operator must act"}
	errWeChatOther       = apiError{http.StatusBadGateway, "wechat_error", "WeChat refused the request"}
	errClientGone        = apiError{499, "client_closed_request", "the client went away"}

	// hostile clients (failurelimit.go)
	errTooManyFailures = apiError{http.StatusTooManyRequests, "too_many_failures", "too many codes from this address were refused: retry after Retry-After seconds"}
	// the Open API gateway (wechat_api)
	errAddressNotAllowed = apiError{http.StatusForbidden, "address_not_allowed", "this address may not call the WeChat API gateway (allow_from)"}
	// signed identity
	errSigningKeys = apiError{http.StatusServiceUnavailable, "signing_keys_unavailable", "the assertion signing keys could not be read from Caddy's storage: retry later"}
)

// allErrors is every answer above, for the test that keeps the README's
// table complete.
var allErrors = []apiError{
	errMethodNotAllowed, errBodyTooLarge, errInvalidJSON, errMissingCode,
	errInvalidCode, errCodeUsed, errRiskyUser, errRateLimited, errSessionFull, errStoreFailure,
	errNoToken, errInvalidToken, errPhoneRequired,
	errMissingPhoneData, errInvalidPhoneCode, errMalformedData, errUndecryptable, errNoPhone, errWatermark, errStalePhoneData,
	errWeChatBusy, errWeChatTimeout, errWeChatUnreachable, errWeChatBadAnswer, errWeChatConfig, errWeChatOther,
	errClientGone, errTooManyFailures, errAddressNotAllowed, errSigningKeys,
}

// write sends the error as JSON. A missing or bad token's 401 carries
// WWW-Authenticate: Bearer (a refused login code's 401 does not: it is no
// token challenge); 429 and 503 say when to retry (a 429 whose
// Retry-After is set already keeps it).
func (e *apiError) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case e == &errNoToken || e == &errInvalidToken:
		h.Set("WWW-Authenticate", "Bearer")
	case e.status == http.StatusMethodNotAllowed:
		if h.Get("Allow") == "" { // /wx/jwks.json sets its own
			h.Set("Allow", http.MethodPost)
		}
	case e.status == http.StatusTooManyRequests && h.Get("Retry-After") == "":
		h.Set("Retry-After", "60")
	case e.status == http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	}
	body := jsonText(struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}{e.code, e.message})
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// answer counts the answer of one of the handler's endpoints ("login",
// "phone", "logout", "jwks", or "auth" for a request that was not let through),
// and writes e when it is an error: the one place where they are written.
func (h *Handler) answer(w http.ResponseWriter, endpoint string, e *apiError) {
	metrics.requests.WithLabelValues(h.appID, endpoint, result(e)).Inc()
	if e != nil {
		e.write(w)
	}
}

// weChatFailure maps a failed WeChat call to the answer a client gets;
// byCode maps the errcodes the endpoint knows specially.
func weChatFailure(err error, byCode map[int]*apiError) *apiError {
	var we *wechat.Error
	if !errors.As(err, &we) {
		return &errWeChatOther
	}
	switch we.Kind {
	case wechat.KindTimeout:
		return &errWeChatTimeout
	case wechat.KindUnreachable:
		return &errWeChatUnreachable
	case wechat.KindBadAnswer:
		return &errWeChatBadAnswer
	case wechat.KindCanceled:
		return &errClientGone
	}
	if e, ok := byCode[we.Code]; ok {
		return e
	}
	switch {
	case we.Code == wechat.CodeBusy:
		return &errWeChatBusy
	case we.Code == wechat.CodeRateLimited:
		return &errRateLimited
	case wechat.IsOperatorError(err): // 40013, 40125, 40164, 45009, 41002, 41004
		return &errWeChatConfig
	}
	return &errWeChatOther
}

// storeFailure maps a session store error to an answer.
func storeFailure(err error) *apiError {
	switch {
	case errors.Is(err, session.ErrNotFound):
		return &errInvalidToken
	case errors.Is(err, session.ErrFull):
		return &errSessionFull
	}
	return &errStoreFailure
}

// logWeChatFailure logs a failed WeChat call: WeChat's own refusals of a
// user's code at INFO, trouble with WeChat at WARN, a refusal only the
// operator can fix (credentials, IP whitelist, quota) at ERROR with what to
// do. WeChat's rate limit (45011, which counts per app) gets one WARN line
// a minute per app, with how many were throttled since the line before.
// Never the request URL, which holds the secret.
func (h *Handler) logWeChatFailure(msg string, err error, answer *apiError) {
	fields := append([]zap.Field{zap.String("app_id", h.appID), zap.String("answer", answer.code)}, weChatErrorFields(err)...)
	code := wechat.APICode(err)
	switch {
	case answer == &errWeChatConfig:
		logConfigRefusal(h.logger, msg, err, fields)
	case code == wechat.CodeRateLimited && h.throttled != nil:
		if ok, n := h.throttled.allow(clockNow()); ok {
			h.logger.Warn(msg+": WeChat's rate limit (45011) throttles this app", append(fields, zap.Int("throttled_since_last_line", n))...)
		} else {
			h.logger.Debug(msg, fields...)
		}
	case answer.status >= 500:
		h.logger.Warn(msg, fields...)
	default:
		h.logger.Info(msg, fields...)
	}
}

// logConfigRefusal logs at ERROR a WeChat refusal only the operator can
// fix (credentials, IP whitelist, quota), with what to do.
func logConfigRefusal(log *zap.Logger, msg string, err error, fields []zap.Field) {
	action := wechat.OperatorAction(wechat.APICode(err))
	if action == "" {
		action = "check app_id and app_secret"
	}
	log.Error(msg+": WeChat refused the app's configuration: "+action, append(fields, zap.String("action", action))...)
}

// weChatErrorFields describes a failed WeChat call for a log line. The
// wechat package never puts a request URL, a secret or a token in an error.
func weChatErrorFields(err error) []zap.Field {
	var we *wechat.Error
	if !errors.As(err, &we) {
		return []zap.Field{zap.Error(err)}
	}
	fields := []zap.Field{zap.String("endpoint", we.Endpoint), zap.String("kind", we.Kind.String())}
	if we.Kind == wechat.KindAPI {
		fields = append(fields, zap.Int("errcode", we.Code), zap.String("errmsg", we.Msg))
	}
	if we.HTTPStatus != 0 {
		fields = append(fields, zap.Int("http_status", we.HTTPStatus))
	}
	if we.Err != nil {
		fields = append(fields, zap.String("cause", we.Err.Error()))
	}
	return fields
}
