package wechatauth

import (
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/assertion"
	"github.com/wechat-auth/wechat_auth/internal/reply"
)

// jwks answers GET /wx/jwks.json: the public keys that verify
// X-WX-Assertion, as a JWK Set. Every wechat_auth block answers it, with
// assertion on or off, and without a token: the keys are those of the
// config's storage, shared by every block. With assertion off the keys
// are only read (a storage where no block ever had assertion on gives
// an empty set), never made.
func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) *reply.Error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return reply.MethodNotAllowed
	}
	if h.keys == nil { // not provisioned by Caddy
		return reply.SigningKeys
	}
	set, err := h.keys.Published(r.Context(), h.Assertion)
	if set == nil {
		h.logger.Error("jwks: reading the keys from Caddy's storage failed",
			zap.String("storage", h.keys.StorageName()), zap.String("key", assertion.StorageKey), zap.Error(err))
		return reply.SigningKeys
	}
	if err != nil {
		h.logger.Warn("jwks: reading the keys from Caddy's storage failed; publishing the keys read before",
			zap.String("storage", h.keys.StorageName()), zap.String("key", assertion.StorageKey), zap.Error(err))
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(assertion.JWKSMaxAge))
	hdr.Set("ETag", set.ETag())
	hdr.Set("X-Content-Type-Options", "nosniff")
	if etagMatch(r.Header.Get("If-None-Match"), set.ETag()) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	hdr.Set("Content-Length", strconv.Itoa(len(set.JSON())))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(set.JSON())
	}
	return nil
}

// etagMatch reports whether an If-None-Match header lists etag (or *).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
