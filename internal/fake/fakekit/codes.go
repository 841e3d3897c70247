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
	CodeFresh   CodeState = iota // first use, in its lifetime: now used
	CodeUsed                     // used before
	CodeExpired                  // minted longer ago than the lifetime
)

// Codes are single-use codes of one kind (login codes, phone codes), per
// app. A minted code (Mint) dies TTL after it was handed out; a code the
// test wrote itself ("ok-alice.7") was never handed out and does not
// expire. Either is single use.
type Codes struct {
	TTL time.Duration

	mu     sync.Mutex
	n      int
	minted *FIFOMap[time.Time]
	used   *FIFOMap[struct{}]
}

// NewCodes returns codes living ttl.
func NewCodes(ttl time.Duration) *Codes {
	return &Codes{TTL: ttl, minted: NewFIFOMap[time.Time](maxCodes), used: NewFIFOMap[struct{}](maxCodes)}
}

// Mint hands out a fresh code "<prefix>.<n>" of app at now.
func (c *Codes) Mint(app, prefix string, now time.Time) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	code := prefix + "." + strconv.Itoa(c.n) + "m"
	c.minted.Put(app+"\x00"+code, now)
	return code
}

// Use spends code of app at now.
func (c *Codes) Use(app, code string, now time.Time) CodeState {
	k := app + "\x00" + code
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, used := c.used.Get(k); used {
		return CodeUsed
	}
	if at, ok := c.minted.Get(k); ok && now.Sub(at) >= c.TTL {
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
