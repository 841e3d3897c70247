package fakekit

import (
	"strconv"
	"sync"
	"time"
)

// maxCodes bounds the bookkeeping of codes: a fake, but one that does not
// grow forever.
const maxCodes = 1 << 16

// CodeState is what Codes.Use found.
type CodeState int

const (
	CodeFresh    CodeState = iota // first use, in its lifetime: now used
	CodeUsed                      // used before
	CodeExpired                   // minted longer ago than the lifetime
	CodeOtherApp                  // minted for another app (NewBoundCodes): not used up
)

// Codes are single-use codes of one kind (login codes, phone codes), per
// app. A minted code (Mint) dies TTL after it was handed out; a code the
// test wrote itself ("ok-alice.7") was never handed out and does not
// expire. Either is single use. A code is used up by its first Use that
// finds it fresh, whatever the caller answers then; an expired one or
// another app's is not.
type Codes struct {
	TTL time.Duration

	bound  bool // one namespace for every app (NewBoundCodes)
	mu     sync.Mutex
	n      int
	minted *FIFOMap[mintedCode]
	used   *FIFOMap[struct{}]
}

type mintedCode struct {
	app string
	at  time.Time
}

// NewCodes returns codes living ttl, each app's its own: the same text is
// a different code in another app.
func NewCodes(ttl time.Duration) *Codes {
	return &Codes{TTL: ttl, minted: NewFIFOMap[mintedCode](maxCodes), used: NewFIFOMap[struct{}](maxCodes)}
}

// NewBoundCodes returns codes living ttl in one namespace for every app,
// as Alipay and Baidu keep them: a code is used up for every app, and a
// minted one belongs to its app (CodeOtherApp for another).
func NewBoundCodes(ttl time.Duration) *Codes {
	c := NewCodes(ttl)
	c.bound = true
	return c
}

func (c *Codes) key(app, code string) string {
	if c.bound {
		return code
	}
	return app + "\x00" + code
}

// Mint hands out a fresh code "<prefix>.<n>m" of app at now.
func (c *Codes) Mint(app, prefix string, now time.Time) string {
	c.mu.Lock()
	c.n++
	code := prefix + "." + strconv.Itoa(c.n) + "m"
	c.mu.Unlock()
	c.Record(app, code, now)
	return code
}

// Record notes that code (any text) was handed out to app at now: it
// expires TTL later.
func (c *Codes) Record(app, code string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.minted.Put(c.key(app, code), mintedCode{app, now})
}

// Expired reports whether code was handed out to app TTL ago or more.
func (c *Codes) Expired(app, code string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.minted.Get(c.key(app, code))
	return ok && m.app == app && now.Sub(m.at) >= c.TTL
}

// Use spends code of app at now.
func (c *Codes) Use(app, code string, now time.Time) CodeState {
	k := c.key(app, code)
	c.mu.Lock()
	defer c.mu.Unlock()
	m, minted := c.minted.Get(k)
	if minted && m.app != app {
		return CodeOtherApp
	}
	if _, used := c.used.Get(k); used {
		return CodeUsed
	}
	if minted && now.Sub(m.at) >= c.TTL {
		return CodeExpired
	}
	c.used.Put(k, struct{}{})
	return CodeFresh
}

// FIFOMap is a map that forgets its oldest entries beyond a capacity. It
// is not safe for concurrent use: the caller locks.
type FIFOMap[V any] struct {
	max   int
	m     map[string]V
	order []string // ring of keys, oldest at next once full
	next  int
}

// NewFIFOMap returns an empty FIFOMap holding at most max entries.
func NewFIFOMap[V any](max int) *FIFOMap[V] {
	return &FIFOMap[V]{max: max, m: make(map[string]V)}
}

// Get returns the value of k, and whether k is there.
func (f *FIFOMap[V]) Get(k string) (V, bool) {
	v, ok := f.m[k]
	return v, ok
}

// Put adds or replaces k; adding a key to a full map evicts the oldest one.
func (f *FIFOMap[V]) Put(k string, v V) {
	if _, ok := f.m[k]; ok {
		f.m[k] = v
		return
	}
	if len(f.order) < f.max {
		f.order = append(f.order, k)
	} else {
		delete(f.m, f.order[f.next])
		f.order[f.next] = k
		f.next = (f.next + 1) % f.max
	}
	f.m[k] = v
}

// Len is how many entries f holds.
func (f *FIFOMap[V]) Len() int { return len(f.m) }
