package session

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// MemoryOnce is an OnceStore in this process's memory, bounded: when it
// holds its maximum, a new record pushes the oldest one out (expired
// records go first: every PutOnce drops the expired ones at the old end).
// It is safe for concurrent use.
type MemoryOnce struct {
	max int
	now func() time.Time

	mu    sync.Mutex
	byKey map[string]*list.Element // kind "\x00" key -> element of order
	order *list.List               // *onceRecord, oldest first
}

type onceRecord struct {
	id      string
	value   []byte
	expires time.Time
}

// NewMemoryOnce returns a MemoryOnce of at most max records (DefaultMaxOnce
// when max <= 0), on the clock now (time.Now when nil; tests inject one to
// expire records without waiting).
func NewMemoryOnce(max int, now func() time.Time) *MemoryOnce {
	if max <= 0 {
		max = DefaultMaxOnce
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryOnce{max: max, now: now, byKey: make(map[string]*list.Element), order: list.New()}
}

// PutOnce implements OnceStore.
func (m *MemoryOnce) PutOnce(_ context.Context, kind, key string, value []byte, ttl time.Duration) error {
	if err := checkOnce(kind, key, value, ttl, true); err != nil {
		return err
	}
	id := kind + "\x00" + key
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.byKey[id]; ok {
		if now.Before(el.Value.(*onceRecord).expires) {
			return ErrOnceExists
		}
		m.removeLocked(el)
	}
	// expired records at the old end go first, then the oldest if full
	for el := m.order.Front(); el != nil && !now.Before(el.Value.(*onceRecord).expires); el = m.order.Front() {
		m.removeLocked(el)
	}
	for m.order.Len() >= m.max {
		m.removeLocked(m.order.Front())
	}
	rec := &onceRecord{id: id, value: append(make([]byte, 0, len(value)), value...), expires: now.Add(ttl)}
	m.byKey[id] = m.order.PushBack(rec)
	return nil
}

// TakeOnce implements OnceStore.
func (m *MemoryOnce) TakeOnce(_ context.Context, kind, key string) ([]byte, error) {
	if err := checkOnce(kind, key, nil, 0, false); err != nil {
		return nil, ErrNotFound
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.byKey[kind+"\x00"+key]
	if !ok {
		return nil, ErrNotFound
	}
	m.removeLocked(el)
	rec := el.Value.(*onceRecord)
	if !now.Before(rec.expires) {
		return nil, ErrNotFound
	}
	return rec.value, nil
}

// Len returns how many records the store holds (expired ones not yet
// dropped included).
func (m *MemoryOnce) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len()
}

func (m *MemoryOnce) removeLocked(el *list.Element) {
	delete(m.byKey, el.Value.(*onceRecord).id)
	m.order.Remove(el)
}

var _ OnceStore = (*MemoryOnce)(nil)
