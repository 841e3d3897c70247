package wechatauth

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/wechat-auth/wechat_auth/internal/reply"
)

// jwksMaxAge is how long a client may cache /wx/jwks.json, in seconds.
// A new key is published keyActivationDelay before it signs, longer than
// this plus keyRefreshInterval, so a cached set always knows the signer.
const jwksMaxAge = 300

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
	set, err := h.keys.published(r.Context(), h.Assertion)
	if set == nil {
		h.logger.Error("jwks: reading the keys from Caddy's storage failed",
			zap.String("storage", storageName(h.keys.storage.Load().Storage)), zap.String("key", keysStorageKey), zap.Error(err))
		return reply.SigningKeys
	}
	if err != nil {
		h.logger.Warn("jwks: reading the keys from Caddy's storage failed; publishing the keys read before",
			zap.String("storage", storageName(h.keys.storage.Load().Storage)), zap.String("key", keysStorageKey), zap.Error(err))
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(jwksMaxAge))
	hdr.Set("ETag", set.etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if etagMatch(r.Header.Get("If-None-Match"), set.etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	hdr.Set("Content-Length", strconv.Itoa(len(set.jwks)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(set.jwks)
	}
	return nil
}

// published returns the key set to publish, read again from the storage
// when the cached one is due (so a key another Caddy made shows at
// once). With a cached set, a failed read returns it and the error.
func (k *assertionKeys) published(ctx context.Context, create bool) (*keySet, error) {
	set := k.set.Load()
	if k.fresh(set, k.now(), create) {
		return set, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := k.load(ctx, create)
	return k.set.Load(), err
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
