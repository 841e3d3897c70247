package session

import (
	"sync/atomic"
	"time"
	"unsafe"
)

// entry is a Memory session: a fixed header followed by the openid and
// the unionid, in ONE allocation (a []byte of entryIDs + both lengths),
// since memory per session is what bounds how many users one Caddy holds:
// 80 bytes for a 28-character openid and unionid, where a struct with a
// string would take two allocations (48 + 64) and the cache a 16-byte
// string header instead of an 8-byte pointer.
//
// Only the state word ever changes, and only through atomics: renewing a
// session rewrites it in place, so the cache never holds two values of
// one session, and ending it sets the dead bit exactly once (whoever sets
// it, Delete or the cache's eviction, counts the session out). The ids
// are written before the entry is shared and never again.
type entry struct {
	// state: stateDead | stateCapped | time of the last renewal (login
	// or idle renewal), in nanoseconds since the store's epoch.
	state  atomic.Uint64
	gen    uint32 // the user's generation at login (see userRecord.gen)
	absExp uint32 // absolute expiry: seconds since the store's epoch, rounded up
	oLen   uint16 // length of the openid
	uLen   uint16 // length of the unionid
	// the ids follow at offset entryIDs
}

const (
	// stateDead: the session has ended (deleted, evicted, expired, or
	// refused by the cache) and was counted out of the live sessions.
	stateDead = 1 << 63
	// stateCapped: the cache's TTL for the entry is the idle timeout,
	// earlier than the absolute expiry (a renewal can move it later).
	stateCapped = 1 << 62
	stateTime   = stateCapped - 1

	entryIDs  = 20                          // offset of the ids
	entrySize = int(unsafe.Sizeof(entry{})) // 24: every allocation holds the whole struct
	maxIDLen  = 1<<16 - 1
)

// newEntry packs a session. openID and unionID must be at most maxIDLen
// bytes.
func newEntry(openID, unionID string, gen uint32, now, absExp time.Duration, capped bool) *entry {
	b := make([]byte, max(entryIDs+len(openID)+len(unionID), entrySize))
	copy(b[entryIDs:], openID)
	copy(b[entryIDs+len(openID):], unionID)
	// A heap allocation of 24 bytes or more is 8-byte aligned, as the
	// atomic state word needs.
	e := (*entry)(unsafe.Pointer(&b[0]))
	e.gen = gen
	e.absExp = uint32((absExp + time.Second - 1) / time.Second)
	e.oLen, e.uLen = uint16(len(openID)), uint16(len(unionID))
	e.state.Store(renewedState(now, capped)) // a login is the first renewal
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
func (e *entry) absExpiry() time.Duration { return time.Duration(e.absExp) * time.Second }

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

// renewedState returns the state after a renewal (or the login) at now.
func renewedState(now time.Duration, capped bool) uint64 {
	st := uint64(now) & stateTime
	if capped {
		st |= stateCapped
	}
	return st
}

// lastRenewal returns the time of the last renewal in st.
func lastRenewal(st uint64) time.Duration { return time.Duration(st & stateTime) }
