package wechat

import (
	"errors"
	"strconv"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	wxapi "github.com/wechat-auth/wechat_auth/internal/wechat"
)

// byEndpoint are the errcodes that mean something of their own at one
// endpoint; the others are mapped alike everywhere (see kindOf).
var byEndpoint = map[string]map[int]platform.Kind{
	wxapi.EndpointCode2Session: {
		wxapi.CodeInvalidCode: platform.KindInvalidCode,
		wxapi.CodeCodeUsed:    platform.KindCodeUsed,
		wxapi.CodeRiskyUser:   platform.KindRiskyUser,
	},
	wxapi.EndpointPhoneNumber: {
		wxapi.CodeInvalidCode: platform.KindInvalidCode,
		wxapi.CodeCodeUsed:    platform.KindCodeUsed,
		// the code was handed out to another user (the openid sent)
		wxapi.CodeInvalidOpenID: platform.KindInvalidCode,
		// Issue 21: 40013 here means the code was made for another app:
		// any client can send one, so it is the client's error, not an
		// operator alarm (at jscode2session and stable_token it stays
		// KindConfig: there it is the configured app_id).
		wxapi.CodeInvalidAppID: platform.KindInvalidCode,
	},
}

// kindOf is the Kind of WeChat's errcode at endpoint.
func kindOf(endpoint string, code int) platform.Kind {
	if k, ok := byEndpoint[endpoint][code]; ok {
		return k
	}
	switch {
	case code == wxapi.CodeBusy:
		return platform.KindBusy
	case code == wxapi.CodeRateLimited:
		return platform.KindRateLimited
	case wxapi.OperatorAction(code) != "": // 40013, 40125, 40164, 45009, 41002, 41004
		return platform.KindConfig
	}
	return platform.KindRefused
}

// failure turns an error of internal/wechat into the seam's *Error,
// errcode kept as text in Code (for the "errcode" of log lines).
func failure(err error) error {
	var we *wxapi.Error
	if !errors.As(err, &we) {
		return err // already a *platform.Error (a token wait), or nil
	}
	pe := &platform.Error{Platform: Name, Endpoint: we.Endpoint, HTTPStatus: we.HTTPStatus, Err: we.Err}
	switch we.Kind {
	case wxapi.KindAPI:
		pe.Code, pe.Msg = strconv.Itoa(we.Code), we.Msg
		pe.Kind = kindOf(we.Endpoint, we.Code)
		if pe.Kind == platform.KindConfig {
			pe.Action = wxapi.OperatorAction(we.Code)
		}
	case wxapi.KindTimeout:
		pe.Kind = platform.KindTimeout
	case wxapi.KindUnreachable:
		pe.Kind = platform.KindUnreachable
	case wxapi.KindCanceled:
		pe.Kind = platform.KindCanceled
	default:
		pe.Kind = platform.KindBadAnswer
	}
	return pe
}

// errcode is WeChat's errcode of a *platform.Error made by failure, 0 for
// any other error.
func errcode(err error) int {
	var pe *platform.Error
	if !errors.As(err, &pe) || pe.Code == "" {
		return 0
	}
	n, _ := strconv.Atoi(pe.Code)
	return n
}

// tokenInvalid reports whether an answer says the access_token it was
// called with is dead (40001, 42001, 40014): drop it, fetch, call again.
func tokenInvalid(err error) bool {
	switch errcode(err) {
	case wxapi.CodeInvalidCredential, wxapi.CodeAccessTokenExpired, wxapi.CodeInvalidAccessToken:
		return true
	}
	return false
}
