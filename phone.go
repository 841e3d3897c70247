package wechatauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// phone answers POST /wx/phone: the session's app's platform resolves
// what the client sent ({"code"} of a phone button, the sealed
// {"encryptedData", "iv"}, Alipay's {"response", "sign"}), and the phone
// is bound to the session and its user.
//
// The app's failure limit holds before the session is looked up: a
// limited address gets 429 whatever token it sends.
func (h *Handler) phone(w http.ResponseWriter, r *http.Request) (*app, *reply.Error) {
	if r.Method != http.MethodPost {
		return nil, reply.MethodNotAllowed
	}
	a, token, e := h.tokenApp(r)
	if e != nil {
		return a, e
	}
	return a, h.limitFailures(a, w, r, "phone", func() *reply.Error {
		s, e := h.lookup(r, a, token)
		if e != nil {
			return e
		}
		return h.bindPhone(w, r, a, token, s)
	})
}

// phoneBody is what /wx/phone reads: every field a string, or left out.
type phoneBody struct {
	Code          any `json:"code"`
	EncryptedData any `json:"encryptedData"`
	IV            any `json:"iv"`
	Response      any `json:"response"`
	Sign          any `json:"sign"`
}

// maxPayloadLen bounds a sealed phone payload field (encryptedData,
// Alipay's response); the body limit bounds them all.
const maxPayloadLen = maxBodySize

// phoneRequest reads the body into a PhoneRequest and names its flow.
// A field that is there but not a string (a number, an object) is
// missing_phone_data, by login's rule for its code (one rule for both
// endpoints: the endpoint's "missing" error); an empty one counts as left
// out; a code too long to be one is invalid_phone_code.
func phoneRequest(body *phoneBody) (platform.PhoneRequest, string, *reply.Error) {
	for _, v := range []any{body.Code, body.EncryptedData, body.IV, body.Response, body.Sign} {
		if _, ok := v.(string); v != nil && !ok {
			return platform.PhoneRequest{}, "", reply.MissingPhoneData
		}
	}
	opt := func(v any, max int) string {
		s, _ := stringField(v, nil, max)
		return s
	}
	req := platform.PhoneRequest{
		EncryptedData: opt(body.EncryptedData, maxPayloadLen), IV: opt(body.IV, maxCodeLen),
		Response: opt(body.Response, maxPayloadLen), Sign: opt(body.Sign, maxCodeLen),
	}
	if c, ok := body.Code.(string); ok && c != "" {
		if len(c) > maxCodeLen {
			return req, "", reply.InvalidPhoneCode
		}
		req.Code = c
		return req, "code", nil
	}
	switch {
	case req.EncryptedData != "" && req.IV != "":
		return req, "decrypt", nil
	case req.Response != "":
		// Alipay's my.getPhoneNumber answer: its response string as the
		// mini program hands it over (the sign inside), or its response
		// and sign fields apart; a missing sign does not verify.
		return req, "signed", nil
	}
	return req, "", reply.MissingPhoneData
}

// flowWords name the phone flows in log lines.
var flowWords = map[string]string{"code": "code", "decrypt": "decryption", "signed": "signed response"}

// bindPhone resolves the phone of the request with the app's platform and
// binds it.
func (h *Handler) bindPhone(w http.ResponseWriter, r *http.Request, a *app, token string, s session.Session) *reply.Error {
	var body phoneBody
	if e := readJSON(w, r, &body); e != nil {
		return e
	}
	req, flow, e := phoneRequest(&body)
	if e != nil {
		return e
	}
	req.OpenID = s.OpenID
	if flow == "decrypt" {
		newest, previous, err := a.store.UserKeys(r.Context(), s.OpenID)
		switch {
		case errors.Is(err, session.ErrNotFound):
		case err != nil:
			h.logger.Error("phone: session keys not read", zap.String("app_id", a.id), zap.Error(err))
			return reply.StoreFailure(err)
		case previous != "":
			req.Keys = []string{newest, previous}
		case newest != "":
			req.Keys = []string{newest}
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	phone, err := a.client.Phone(ctx, req)
	if err == nil && flow == "decrypt" {
		err = h.checkPhoneAge(a, s.OpenID, phone)
	}
	if err != nil {
		e := reply.PhoneFailure(err)
		if platform.KindOf(err) != 0 {
			h.logPlatformFailure(a, "phone by "+flowWords[flow]+" failed", err, e)
		} else {
			h.logger.Info("phone refused", zap.String("app_id", a.id), zap.String("openid", s.OpenID),
				zap.String("flow", flow), zap.String("answer", e.Code))
		}
		return e
	}
	if err := a.store.BindPhone(r.Context(), token, s.OpenID, phone.PurePhoneNumber, phone.CountryCode); err != nil {
		if !errors.Is(err, session.ErrNotFound) {
			h.logger.Error("phone: not bound", zap.String("app_id", a.id), zap.Error(err))
		}
		return reply.StoreFailure(err)
	}
	metrics.phones.WithLabelValues(a.id, flow).Inc()
	h.logger.Info("phone bound", zap.String("app_id", a.id), zap.String("openid", s.OpenID), zap.String("flow", flow),
		zap.String("phone", platform.MaskPhone(phone.PurePhoneNumber)), zap.String("country_code", phone.CountryCode))
	reply.JSON(w, http.StatusOK, struct {
		PhoneNumber     string `json:"phone_number"`
		PurePhoneNumber string `json:"pure_phone_number"`
		CountryCode     string `json:"country_code"`
	}{phone.PhoneNumber, phone.PurePhoneNumber, phone.CountryCode})
	return nil
}

// oldPhoneData: sealed phone data older than this (the life of a phone
// code) is logged at DEBUG when accepted.
const oldPhoneData = 5 * time.Minute

// checkPhoneAge holds sealed phone data to the block's phone_data_max_age
// (the platform refuses data stamped in the future itself): ErrStale when
// it is older.
func (h *Handler) checkPhoneAge(a *app, openID string, phone platform.Phone) error {
	if phone.Timestamp.IsZero() {
		return nil
	}
	age := clockNow().Sub(phone.Timestamp)
	if max := time.Duration(h.PhoneDataMaxAge); max > 0 && age > max {
		return platform.ErrStale
	}
	if age > oldPhoneData {
		h.logger.Debug("phone by decryption: old data accepted (phone_data_max_age bounds it)",
			zap.String("app_id", a.id), zap.String("openid", openID), zap.Duration("age", age.Round(time.Second)))
	}
	return nil
}
