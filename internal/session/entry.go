package session

import (
	"math"
	"sync/atomic"
	"time"
	"unsafe"
)

// entry is a Memory session: a fixed header followed by the openid and
// the unionid, in ONE allocation (a []byte of entryIDs + both lengths),
// since memory per session is what bounds how many users one Caddy holds:
// 96 bytes for a 28-character openid and unionid, where a struct with a
// string would take two allocations (64 + 64) and the table a 16-byte
// string header instead of an 8-byte pointer.
//
// The header holds the two hashes of the token (key: the table's map key;
// check: a second, independent one that a lookup must match too), so the
// token itself is never stored: 128 bits of keyed hash stand for it.
//
// Only the state word ever changes, and only through atomics: renewing a
// session rewrites it in place, a use sets the reference bit the eviction
// clock clears, and ending it sets the dead bit exactly once (whoever sets
// it, Delete, the sweep or an eviction, counts the session out). The
// rest is written before the entry is shared and never again.
type entry struct {
	// state: stateDead | stateRef | time of the last renewal (login or
	// idle renewal), in nanoseconds since the store's epoch.
	state  atomic.Uint64
	key    uint64 // the token's hash the table is keyed by
	check  uint64 // the token's second hash
	gen    uint32 // the user's generation at login (see userRecord.gen)
	absExp uint32 // absolute expiry: in expiryUnits since the store's epoch, rounded up
	oLen   uint16 // length of the openid
	uLen   uint16 // length of the unionid
	// the ids follow at offset entryIDs
}

const (
	// stateDead: the session has ended (deleted, evicted, expired,
	// revoked and met) and was counted out of the live sessions.
	stateDead = 1 << 63
	// stateRef: used since the eviction clock last passed it (see table).
	stateRef  = 1 << 62
	stateTime = stateRef - 1

	entryIDs  = 36                          // offset of the ids
	entrySize = int(unsafe.Sizeof(entry{})) // 40: every allocation holds the whole struct
	maxIDLen  = 1<<16 - 1

	// expiryUnit is absExp's unit: a session lives at most this much past
	// its SessionTTL, and a store's epoch lasts 2^32 of them (8.5 years
	// of uptime; later sessions end at once).
	expiryUnit = time.Second / 16
)

// newEntry packs a session of the token hashed to key and check. openID
// and unionID must be at most maxIDLen bytes.
func newEntry(key, check uint64, openID, unionID string, gen uint32, now, absExp time.Duration) *entry {
	b := make([]byte, max(entryIDs+len(openID)+len(unionID), entrySize))
	copy(b[entryIDs:], openID)
	copy(b[entryIDs+len(openID):], unionID)
	// A heap allocation of 40 bytes or more is 8-byte aligned, as the
	// atomic state word needs.
	e := (*entry)(unsafe.Pointer(&b[0]))
	e.key, e.check = key, check
	e.gen = gen
	e.absExp = uint32(min((absExp+expiryUnit-1)/expiryUnit, math.MaxUint32))
	e.oLen, e.uLen = uint16(len(openID)), uint16(len(unionID))
	e.state.Store(uint64(now) & stateTime)
	return e
}

func (e *entry) ids() unsafe.Pointer { return unsafe.Add(unsafe.Pointer(e), entryIDs) }

// openID returns the openid, sliced from the entry (no allocation).
func (e *entry) openID() string {
	return unsafe.String((*byte)(e.ids()), int(e.oLen))
}

// unionID returns the unionid, sliced from the entry ("" for none).
func (e *entry) unionID() string {
	if e.uLen == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Add(e.ids(), int(e.oLen))), int(e.uLen))
}

// absExpiry returns the absolute expiry, as time since the store's epoch.
func (e *entry) absExpiry() time.Duration { return time.Duration(e.absExp) * expiryUnit }

// markDead sets the dead bit; it reports whether this call set it.
func (e *entry) markDead() bool {
	for {
		st := e.state.Load()
		if st&stateDead != 0 {
			return false
		}
		if e.state.CompareAndSwap(st, st|stateDead) {
			return true
		}
	}
}

func (e *entry) dead() bool { return e.state.Load()&stateDead != 0 }

// touch sets the reference bit, writing only when it is clear (so a busy
// session costs one write per pass of the eviction clock, not one per
// request).
func (e *entry) touch(st uint64) {
	if st&stateRef == 0 {
		e.state.Or(stateRef)
	}
}

// takeRef clears the reference bit; it reports whether it was set.
func (e *entry) takeRef() bool { return e.state.And(^uint64(stateRef))&stateRef != 0 }

// renewedState returns st renewed at now (the bits kept).
func renewedState(st uint64, now time.Duration) uint64 {
	return st&^stateTime | uint64(now)&stateTime
}

// lastRenewal returns the time of the last renewal in st.
func lastRenewal(st uint64) time.Duration { return time.Duration(st & stateTime) }
