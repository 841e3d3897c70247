package wechatauth

// X-WX-Assertion: the user's identity as a short-lived JWT (JWS compact,
// ES256) that a backend verifies against /wx/jwks.json, so that it need
// not trust the network between Caddy and itself. An assertion is signed
// once per identity and reused until it has a minute left.

import (
	"context"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// HeaderAssertion carries the signed identity.
const HeaderAssertion = "X-Wx-Assertion"

// provisionAssertion takes a reference to the assertionKeys of the config's
// storage. With assertion on it loads the keys, making the first one if
// the storage holds none: a storage that cannot give keys fails the
// config. With assertion off the keys are read only when /wx/jwks.json
// is asked for.
func (h *Handler) provisionAssertion(ctx caddy.Context) error {
	st := ctx.Storage()
	h.keysKey, h.keys = acquireAssertionKeys(st, h.logger)
	if !h.Assertion {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, keyStorageTimeout)
	defer cancel()
	if err := h.keys.load(lctx, true); err != nil {
		return fmt.Errorf("wechat_auth: assertion on: cannot read or make the signing keys in Caddy's storage (%s, key %s): %v", storageName(st), keysStorageKey, err)
	}
	return nil
}

// cleanupAssertion gives the assertionKeys back.
func (h *Handler) cleanupAssertion() {
	if h.keysKey != "" {
		_, _ = assertionKeyPool.Delete(h.keysKey)
		h.keysKey = ""
	}
}

// setAssertion adds X-WX-Assertion for s. It runs after
// stripIdentityHeaders, so a client's X-WX-Assertion is gone.
func (h *Handler) setAssertion(hdr http.Header, a *app, s *session.Session) *reply.Error {
	jwt, err := h.keys.assertion(a.id, a.platform.Name, s)
	if err != nil {
		h.logger.Error("assertion not signed", zap.Error(err))
		return reply.SigningKeys
	}
	hdr[HeaderAssertion] = []string{jwt}
	return nil
}
