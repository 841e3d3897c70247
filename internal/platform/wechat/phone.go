package wechat

import (
	"context"
	"errors"
	"time"

	"github.com/wechat-auth/wechat_auth/internal/platform"
	wxapi "github.com/wechat-auth/wechat_auth/internal/wechat"
)

// checkSessionTimeout bounds the checksession call of an undecryptable
// payload when the caller's context allows longer.
const checkSessionTimeout = 5 * time.Second

// Phone serves the two phone flows: {"code"} of the getPhoneNumber button
// and the legacy {"encryptedData", "iv"}.
func (c *client) Phone(ctx context.Context, req platform.PhoneRequest) (platform.Phone, error) {
	switch {
	case req.Code != "":
		return c.phoneByCode(ctx, req.OpenID, req.Code)
	case req.EncryptedData != "" && req.IV != "":
		return c.phoneByData(ctx, req)
	}
	return platform.Phone{}, platform.ErrNoPhoneFlow
}

// phoneByCode trades a getPhoneNumber code. WeChat bills the code when
// the user presses the button, so a passing hiccup (a timeout, or -1 at
// getuserphonenumber) is retried once while the code can still be good:
// the first attempt gets half the time the caller's context leaves, the
// retry the rest. A refusal of the code is never retried.
func (c *client) phoneByCode(ctx context.Context, openid, code string) (platform.Phone, error) {
	first, cancel := firstAttempt(ctx)
	ph, err := c.phoneOnce(first, openid, code)
	cancel()
	if err == nil || !hiccup(err) || ctx.Err() != nil {
		return ph, err
	}
	ph, retryErr := c.phoneOnce(ctx, openid, code)
	if platform.KindOf(err) == platform.KindTimeout && platform.KindOf(retryErr) == platform.KindInvalidCode {
		// The first attempt may have reached WeChat and used the code
		// after all: "invalid" would blame the user for WeChat's delay.
		return ph, err
	}
	return ph, retryErr
}

// firstAttempt is the context of a first attempt that leaves room for a
// second: half the time left before ctx's deadline, if it has one.
func firstAttempt(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, time.Until(dl)/2)
}

// hiccup reports whether a failed phone call is worth one more try: it
// timed out, or getuserphonenumber answered -1 (busy).
func hiccup(err error) bool {
	var pe *platform.Error
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Kind == platform.KindTimeout ||
		(pe.Endpoint == wxapi.EndpointPhoneNumber && errcode(err) == wxapi.CodeBusy)
}

// phoneOnce is one getuserphonenumber call with the app's access_token
// (refreshed and called again once if WeChat says the token died). The
// openid makes WeChat refuse a code handed out to another user.
func (c *client) phoneOnce(ctx context.Context, openid, code string) (platform.Phone, error) {
	var p wxapi.Phone
	err := c.tokens.Do(ctx, func(token string) error {
		var err error
		p, err = c.api.PhoneNumber(ctx, token, code, openid)
		return failure(err)
	})
	if err != nil {
		return platform.Phone{}, err
	}
	cc := p.CountryCode
	if cc == "" {
		cc = "86"
	}
	return platform.Phone{PhoneNumber: p.PhoneNumber, PurePhoneNumber: p.PurePhoneNumber, CountryCode: cc, Timestamp: p.Timestamp}, nil
}

// phoneByData opens the legacy payload with the user's keys, newest first.
// When none opens it, WeChat may have replaced the user's key outside a
// login (its data pre-fetch does): checksession tells whether the newest
// key held is still the user's current one.
func (c *client) phoneByData(ctx context.Context, req platform.PhoneRequest) (platform.Phone, error) {
	check := platform.PhoneCheck{AppID: c.appID, RequireWatermark: true, MaxAge: c.maxAge, Now: c.now()}
	ph, err := platform.OpenSealedPhone(req.Keys, req.IV, req.EncryptedData, check)
	if !errors.Is(err, platform.ErrUndecryptable) || len(req.Keys) == 0 || req.OpenID == "" {
		return ph, err
	}
	return platform.Phone{}, c.checkNewestKey(ctx, req.OpenID, req.Keys[0])
}

// checkNewestKey asks checksession about the user's newest key:
// ErrSessionKeyExpired when WeChat says it is no longer valid (87009: log
// in again for the new key, then send the same data again), else
// ErrUndecryptable. A checksession call that failed (a timeout, -1, token
// trouble) cannot tell either way and also gives ErrUndecryptable: the
// answer there was before checksession, and "log in again and retry" is
// right for both.
func (c *client) checkNewestKey(ctx context.Context, openid, key string) error {
	ctx, cancel := context.WithTimeout(ctx, checkSessionTimeout)
	defer cancel()
	err := c.tokens.Do(ctx, func(token string) error {
		return failure(c.api.CheckSession(ctx, token, openid, key))
	})
	if errcode(err) == wxapi.CodeInvalidSignature {
		return platform.ErrSessionKeyExpired
	}
	return platform.ErrUndecryptable
}
