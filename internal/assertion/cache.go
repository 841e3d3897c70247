package assertion

import (
	"hash/maphash"
	"sync"
	"time"
)

const (
	// cacheShards × shardSize bound the cache (about 600 bytes an
	// entry: at most about 40 MB).
	cacheShards = 64
	shardSize   = 1024
)

// cache holds the assertions signed lately, in shards of bounded size.
// An entry is found by openid (one string to hash) and used only if the
// rest of its identity matches too.
type cache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	sync.RWMutex
	m map[string]cachedAssertion // by openid
}

type cachedAssertion struct {
	id      Identity
	jwt     string
	kid     string
	renewAt int64 // unix nanoseconds
	expires int64
}

func (c *cache) init() {
	c.seed = maphash.MakeSeed()
	for i := range c.shards {
		c.shards[i].m = make(map[string]cachedAssertion)
	}
}

func (c *cache) shard(openID string) *cacheShard {
	return &c.shards[maphash.String(c.seed, openID)%cacheShards]
}

// get returns the cached assertion of id if key kid signed it and it need
// not be renewed at now.
func (c *cache) get(id *Identity, kid string, now time.Time) (string, bool) {
	sh := c.shard(id.OpenID)
	sh.RLock()
	e, ok := sh.m[id.OpenID]
	sh.RUnlock()
	if !ok || e.id != *id || e.kid != kid || now.UnixNano() >= e.renewAt {
		return "", false
	}
	return e.jwt, true
}

// put caches an assertion. A full shard first drops what has expired,
// then, if that freed less than an eighth, arbitrary entries down to
// seven eighths: the next inserts find room without a sweep.
func (c *cache) put(e cachedAssertion, now int64) {
	sh := c.shard(e.id.OpenID)
	sh.Lock()
	defer sh.Unlock()
	if _, ok := sh.m[e.id.OpenID]; !ok && len(sh.m) >= shardSize {
		for k, v := range sh.m {
			if v.expires <= now {
				delete(sh.m, k)
			}
		}
		for k := range sh.m {
			if len(sh.m) <= shardSize-shardSize/8 {
				break
			}
			delete(sh.m, k)
		}
	}
	sh.m[e.id.OpenID] = e
}
