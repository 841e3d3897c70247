package wechatauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
	"github.com/wechat-auth/wechat_auth/internal/wechat"
)

// phoneErrors are getuserphonenumber's errcodes with a meaning of their own.
var phoneErrors = map[int]*reply.Error{
	wechat.CodeInvalidCode:   reply.InvalidPhoneCode,
	wechat.CodeCodeUsed:      reply.InvalidPhoneCode,
	wechat.CodeInvalidOpenID: reply.InvalidPhoneCode, // the code is another user's
}

// phone answers POST /wx/phone: with {"code"} it asks WeChat for the
// phone behind a getPhoneNumber code; with {"encryptedData", "iv"} it
// decrypts the legacy payload with the user's session_key. Either way the
// phone is bound to the session.
func (h *Handler) phone(w http.ResponseWriter, r *http.Request) *reply.Error {
	token, s, e := h.sessionPOST(r)
	if e != nil {
		return e
	}
	var req struct {
		Code          string `json:"code"`
		EncryptedData string `json:"encryptedData"`
		IV            string `json:"iv"`
	}
	if e := readJSON(w, r, &req); e != nil {
		return e
	}

	var phone wechat.Phone
	var flow string
	switch {
	case req.Code != "":
		flow = "code"
		if len(req.Code) > maxCodeLen {
			return reply.InvalidPhoneCode
		}
		phone, e = h.phoneByCode(r.Context(), s.OpenID, req.Code)
	case req.EncryptedData != "" && req.IV != "":
		flow = "decrypt"
		phone, e = h.phoneByDecryption(r.Context(), s.OpenID, req.EncryptedData, req.IV)
	default:
		return reply.MissingPhoneData
	}
	if e != nil {
		return e
	}
	if err := h.store.BindPhone(r.Context(), token, s.OpenID, phone.PurePhoneNumber, phone.CountryCode); err != nil {
		if !errors.Is(err, session.ErrNotFound) {
			h.logger.Error("phone: not bound", zap.Error(err))
		}
		return reply.StoreFailure(err)
	}
	metrics.phones.WithLabelValues(h.appID, flow).Inc()
	h.logger.Info("phone bound", zap.String("openid", s.OpenID), zap.String("flow", flow),
		zap.String("phone", phone.Masked()), zap.String("country_code", phone.CountryCode))
	reply.JSON(w, http.StatusOK, struct {
		PhoneNumber     string `json:"phone_number"`
		PurePhoneNumber string `json:"pure_phone_number"`
		CountryCode     string `json:"country_code"`
	}{phone.PhoneNumber, phone.PurePhoneNumber, phone.CountryCode})
	return nil
}

// phoneByCode trades a getPhoneNumber code with WeChat, with the app's
// shared access_token (refreshed and retried once if WeChat says it died).
// It sends the session's openid, so that WeChat refuses a code handed out
// to another user (see wechat.Client.PhoneNumber).
func (h *Handler) phoneByCode(ctx context.Context, openID, code string) (wechat.Phone, *reply.Error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	var phone wechat.Phone
	err := h.tokens.Do(ctx, func(token string) error {
		var err error
		phone, err = h.wx.PhoneNumber(ctx, token, code, openID)
		return err
	})
	if err != nil {
		e := reply.WeChatFailure(err, phoneErrors)
		h.logWeChatFailure("phone by code failed", err, e)
		return phone, e
	}
	return phone, nil
}

// oldPhoneData: legacy phone data older than this (the life of a phone
// code) is logged at DEBUG when accepted.
const oldPhoneData = 5 * time.Minute

// phoneByDecryption opens the legacy getPhoneNumber payload with the
// user's newest session_key (WeChat seals with the newest), falling back
// to the one it replaced (the client logged in again after the button).
func (h *Handler) phoneByDecryption(ctx context.Context, openID, data, iv string) (wechat.Phone, *reply.Error) {
	newest, previous, err := h.store.UserKeys(ctx, openID)
	if err != nil {
		if errors.Is(err, session.ErrNotFound) {
			return wechat.Phone{}, reply.Undecryptable
		}
		h.logger.Error("phone: session keys not read", zap.Error(err))
		return wechat.Phone{}, reply.StoreFailure(err)
	}
	check := wechat.PhoneCheck{AppID: h.appID, MaxAge: time.Duration(h.PhoneDataMaxAge)}
	phone, err := wechat.DecryptPhoneWith(newest, iv, data, check)
	if errors.Is(err, wechat.ErrUndecryptable) && previous != "" {
		phone, err = wechat.DecryptPhoneWith(previous, iv, data, check)
	}
	var e *reply.Error
	switch {
	case err == nil:
		if age := time.Since(phone.Timestamp); !phone.Timestamp.IsZero() && age > oldPhoneData {
			h.logger.Debug("phone by decryption: old data accepted (phone_data_max_age bounds it)",
				zap.String("openid", openID), zap.Duration("age", age.Round(time.Second)))
		}
		return phone, nil
	case errors.Is(err, wechat.ErrStale):
		e = reply.StalePhoneData
	case errors.Is(err, wechat.ErrMalformed):
		e = reply.MalformedData
	case errors.Is(err, wechat.ErrNoPhone):
		e = reply.NoPhone
	case errors.Is(err, wechat.ErrWatermark):
		e = reply.Watermark
	default:
		e = reply.Undecryptable
	}
	h.logger.Info("phone by decryption refused", zap.String("openid", openID), zap.String("answer", e.Code))
	return phone, e
}
