package fakewx

// fifoMap is a map that forgets its oldest entries beyond a capacity. It is
// not safe for concurrent use (the Server's mutex guards it).
type fifoMap[V any] struct {
	max   int
	m     map[string]V
	order []string // ring of keys, oldest at next once full
	next  int
}

func newFIFOMap[V any](max int) *fifoMap[V] {
	return &fifoMap[V]{max: max, m: make(map[string]V)}
}

func (f *fifoMap[V]) get(k string) (V, bool) {
	v, ok := f.m[k]
	return v, ok
}

// put adds or replaces k; adding a key to a full map evicts the oldest one.
func (f *fifoMap[V]) put(k string, v V) {
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

func (f *fifoMap[V]) len() int { return len(f.m) }
