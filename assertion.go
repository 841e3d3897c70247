package wechatauth

// X-WX-Assertion: the user's identity as a short-lived JWT (JWS compact,
// ES256) that a backend verifies against /wx/jwks.json, so that it need
// not trust the network between Caddy and itself. The keys, the signing
// and the cache are internal/assertion's; here is the handler's part:
// the keys kept in Caddy's storage (where certificates live), so every
// Caddy sharing the storage signs with the same keys and a restart keeps
// them, and shared by every block of the process through a pool.

import (
	"fmt"
	"net/http"
	"reflect"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/assertion"
	"github.com/wechat-auth/wechat_auth/internal/reply"
	"github.com/wechat-auth/wechat_auth/internal/session"
)

// HeaderAssertion carries the signed identity.
const HeaderAssertion = "X-Wx-Assertion"

// assertionKeyPool holds one keyring per Caddy storage, shared by every
// block and kept across reloads (a reload that keeps the storage keeps
// it).
var assertionKeyPool = caddy.NewUsagePool()

// pooledKeyring is a keyring in assertionKeyPool.
type pooledKeyring struct{ *assertion.Keyring }

func (pooledKeyring) Destruct() error { return nil }

// acquireAssertionKeys takes a reference to the keyring of st.
func acquireAssertionKeys(st certmagic.Storage, logger *zap.Logger) (string, *assertion.Keyring) {
	key := "keys\x00" + storageID(st)
	val, _, _ := assertionKeyPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		return pooledKeyring{assertion.NewKeyring()}, nil
	})
	k := val.(pooledKeyring).Keyring
	// The newest config's storage value and logger: the old config's
	// may be cleaned up after a reload.
	k.Use(st, logger)
	return key, k
}

// storageID tells storages apart: two values that use the same place
// (such as two file_system storages of one path in successive configs)
// have the same ID when the storage module says where it keeps its data.
func storageID(st certmagic.Storage) string {
	if s, ok := st.(fmt.Stringer); ok {
		return fmt.Sprintf("%T\x00%s", st, s.String())
	}
	if v := reflect.ValueOf(st); v.Kind() == reflect.Pointer {
		return fmt.Sprintf("%T\x00%x", st, v.Pointer())
	}
	return fmt.Sprintf("%T", st)
}

// provisionAssertion takes a reference to the keyring of the config's
// storage. With assertion on it loads the keys, making the first one if
// the storage holds none: a storage that cannot give keys fails the
// config. With assertion off the keys are read only when /wx/jwks.json
// is asked for.
func (h *Handler) provisionAssertion(ctx caddy.Context) error {
	h.keysKey, h.keys = acquireAssertionKeys(ctx.Storage(), h.logger)
	if !h.Assertion {
		return nil
	}
	if err := h.keys.Load(ctx, true); err != nil {
		return fmt.Errorf("wechat_auth: assertion on: cannot read or make the signing keys in Caddy's storage (%s, key %s): %v", h.keys.StorageName(), assertion.StorageKey, err)
	}
	return nil
}

// cleanupAssertion gives the keyring back.
func (h *Handler) cleanupAssertion() {
	if h.keysKey != "" {
		_, _ = assertionKeyPool.Delete(h.keysKey)
		h.keysKey = ""
	}
}

// setAssertion adds X-WX-Assertion for s. It runs after
// stripIdentityHeaders, so a client's X-WX-Assertion is gone.
func (h *Handler) setAssertion(hdr http.Header, a *app, s *session.Session) *reply.Error {
	jwt, err := h.keys.Sign(assertion.Identity{AppID: a.id, Platform: a.platform.Name,
		OpenID: s.OpenID, UnionID: s.UnionID, Phone: s.Phone, PhoneCountry: s.PhoneCountry})
	if err != nil {
		h.logger.Error("assertion not signed", zap.Error(err))
		return reply.SigningKeys
	}
	hdr[HeaderAssertion] = []string{jwt}
	return nil
}
