package failurelimit

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

func TestParseFailureLimit(t *testing.T) {
	for in, want := range map[string]Limit{
		"":         {30, time.Minute},
		"30/1m":    {30, time.Minute},
		"3/2s":     {3, 2 * time.Second},
		"1/1s":     {1, time.Second},
		"100/1h":   {100, time.Hour},
		"65535/1d": {65535, 24 * time.Hour},
		"5/90s":    {5, 90 * time.Second},
		"off":      {},
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"30", "0/1m", "65536/1m", "-1/1m", "x/1m", "30/", "/1m", "30/0s", "30/999ms", "30/-1m", "30/1m/2", "on", "OFF", " 30/1m"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, got)
		}
	}
	for l, want := range map[Limit]string{
		{30, time.Minute}: "30/1m", {3, 2 * time.Second}: "3/2s", {5, 90 * time.Second}: "5/1m30s",
		{1, time.Hour}: "1/1h", {1, 10 * time.Second}: "1/10s", {}: "off",
	} {
		if got := l.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", l, got, want)
		}
	}
}

func key(ip string) Key { return KeyOf(netip.MustParseAddr(ip)) }

// n failures within the window limit the address, and no other; the wait
// ends when the oldest failure leaves the window.
func TestFailureLimiterCountsInTheWindow(t *testing.T) {
	const n, window = 3, 15 * time.Second // one slice is 1s
	l := New(window, 1024, time.Now())
	at := func(d time.Duration) time.Time { return l.start.Add(d) }
	a, b := key("192.0.2.1"), key("192.0.2.2")

	if w := l.Wait(a, n, at(0)); w != 0 {
		t.Fatalf("a clean address waits %v", w)
	}
	for i, d := range []time.Duration{500 * time.Millisecond, 4 * time.Second, 7 * time.Second} {
		if w := l.Wait(a, n, at(d)); w != 0 {
			t.Fatalf("after %d failures: wait %v, want none", i, w)
		}
		if got := l.Fail(a, at(d)); got != i+1 {
			t.Fatalf("failure %d counted as %d", i+1, got)
		}
	}
	// the first failure (slice 0) counts until slice 16 begins: 16s
	w := l.Wait(a, n, at(8*time.Second))
	if w != 8*time.Second {
		t.Errorf("wait %v, want 8s (until the first failure, in slice 0, leaves the window at 16s)", w)
	}
	if w := l.Wait(b, n, at(8*time.Second)); w != 0 {
		t.Errorf("another address waits %v", w)
	}
	if w := l.Wait(a, n, at(16*time.Second-time.Nanosecond)); w != time.Nanosecond {
		t.Errorf("just before the first failure leaves: wait %v, want 1ns", w)
	}
	if w := l.Wait(a, n, at(16*time.Second)); w != 0 {
		t.Errorf("after the first failure left the window: wait %v", w)
	}
	// one more failure at 17s: three again (4s, 7s, 17s), until 4s leaves at 20s
	if got := l.Fail(a, at(17*time.Second)); got != 3 {
		t.Errorf("failures in the window at 17s: %d, want 3", got)
	}
	if w := l.Wait(a, n, at(17*time.Second)); w != 3*time.Second {
		t.Errorf("wait %v, want 3s", w)
	}
	// far later, everything has left
	if w := l.Wait(a, n, at(time.Hour)); w != 0 {
		t.Errorf("an hour later: wait %v", w)
	}
	if got := l.Fail(a, at(time.Hour)); got != 1 {
		t.Errorf("an hour later a failure counts as %d, want 1", got)
	}
}

// A refused code counts for at least the window and at most 1/15 of it
// longer, wherever it falls in its slice.
func TestFailureLimiterWindowBounds(t *testing.T) {
	const window = 2 * time.Second
	for _, offset := range []time.Duration{0, time.Millisecond, 66 * time.Millisecond, 133 * time.Millisecond, 777 * time.Millisecond} {
		l := New(window, 16, time.Now())
		k := key("198.51.100.7")
		t0 := l.start.Add(10*time.Second + offset)
		l.Fail(k, t0)
		w := l.Wait(k, 1, t0)
		if w < window || w > window+window/15+16*time.Nanosecond {
			t.Errorf("offset %v: a failure counts for %v, want between %v and %v", offset, w, window, window+window/15)
		}
		if l.Wait(k, 1, t0.Add(w)) != 0 {
			t.Errorf("offset %v: still limited after the wait", offset)
		}
	}
}

// However many addresses fail, the limiter never holds more than its
// bound: the least recently failed are forgotten first.
func TestFailureLimiterIsBounded(t *testing.T) {
	const bound = 256 // 16 per shard
	l := New(time.Minute, bound, time.Now())
	now := l.start.Add(time.Second)
	recent := key("2001:db8:ffff:ffff::1")
	var ip [4]byte
	for i := 0; i < 50*bound; i++ {
		binary.BigEndian.PutUint32(ip[:], uint32(0x0a000000+i))
		l.Fail(KeyOf(netip.AddrFrom4(ip)), now)
		if i%16 == 0 {
			l.Fail(recent, now) // fails often: stays remembered
		}
		if addrs, room, table := l.size(); addrs > bound || room > bound || table > 4*bound {
			t.Fatalf("after %d addresses: %d remembered, room for %d, table of %d; bound %d", i+1, addrs, room, table, bound)
		}
	}
	if addrs, _, _ := l.size(); addrs != bound {
		t.Errorf("%d addresses remembered after a flood, want the bound %d", addrs, bound)
	}
	if l.Wait(recent, 50, now) == 0 {
		t.Errorf("the address failing all along was forgotten")
	}
	// Each shard's list, entries and table agree.
	for i := range l.shards {
		sh := &l.shards[i]
		seen := 0
		for j := sh.head; j >= 0; j = sh.entries[j].next {
			k := sh.entries[j].key
			if pos := sh.find(k, l.hash(k)); pos < 0 || sh.table[pos] != j+1 {
				t.Fatalf("shard %d: entry %d not found in the table", i, j)
			}
			seen++
		}
		used := 0
		for _, v := range sh.table {
			if v != 0 {
				used++
			}
		}
		if seen != len(sh.entries) || used != seen {
			t.Errorf("shard %d: list holds %d, entries %d, table %d", i, seen, len(sh.entries), used)
		}
	}
}

// The production bound, with its memory: floods of distinct addresses,
// many times the bound, fill the limiter to its bound, and its memory
// stops growing there.
func TestFailureLimiterDefaultBoundMemory(t *testing.T) {
	var before, full, flooded runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := New(time.Minute, MaxAddresses, time.Now())
	now := l.start.Add(time.Second)
	var ip [16]byte
	ip[0] = 0x20
	flood := func(from, to int) {
		for i := from; i < to; i++ {
			binary.BigEndian.PutUint32(ip[4:], uint32(i)) // distinct /64s
			l.Fail(KeyOf(netip.AddrFrom16(ip)), now)
		}
	}
	flood(0, MaxAddresses)
	runtime.GC()
	runtime.ReadMemStats(&full)
	flood(MaxAddresses, 4*MaxAddresses)
	runtime.GC()
	runtime.ReadMemStats(&flooded)
	addrs, room, table := l.size()
	if addrs != MaxAddresses || room != MaxAddresses || table != 2*MaxAddresses {
		t.Errorf("%d addresses, room for %d, table %d; want %d, %[4]d, %d", addrs, room, table, MaxAddresses, 2*MaxAddresses)
	}
	atFull := int64(full.HeapAlloc) - int64(before.HeapAlloc)
	atFlood := int64(flooded.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("a full limiter (%d addresses) takes %.2f MiB of heap; after 3 times as many more, %.2f MiB", addrs, float64(atFull)/(1<<20), float64(atFlood)/(1<<20))
	const fixed = MaxAddresses * (64 + 2*4) // an entry and two table slots an address
	if atFull > fixed+fixed/4 || atFlood > fixed+fixed/4 {
		t.Errorf("a full limiter takes %d bytes, and %d after the flood: over %d", atFull, atFlood, fixed+fixed/4)
	}
	runtime.KeepAlive(l)
}

func TestAddrKey(t *testing.T) {
	same := [][2]string{
		{"192.0.2.1", "::ffff:192.0.2.1"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2"}, // one /64
		{"fe80::1%eth0", "fe80::1"},
	}
	for _, p := range same {
		if key(p[0]) != key(p[1]) {
			t.Errorf("%s and %s count apart", p[0], p[1])
		}
	}
	differ := [][2]string{
		{"192.0.2.1", "192.0.2.2"},
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"192.0.2.1", "::c000:201"},
	}
	for _, p := range differ {
		if key(p[0]) == key(p[1]) {
			t.Errorf("%s and %s count together", p[0], p[1])
		}
	}
}

// BenchmarkFailureLimiter: the check every /wx/login and /wx/phone pays,
// for an address that has failed before.
func BenchmarkFailureLimiter(b *testing.B) {
	l := New(time.Minute, MaxAddresses, time.Now())
	k := key("192.0.2.1")
	l.Fail(k, time.Now())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if l.Wait(k, 30, time.Now()) != 0 {
			b.Fatal("limited")
		}
	}
}

// size returns how many addresses the limiter remembers, how many it has
// room for, and the length of its tables.
func (l *Limiter) size() (addresses, room, table int) {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		addresses += len(sh.entries)
		room += cap(sh.entries)
		table += len(sh.table)
		sh.mu.Unlock()
	}
	return addresses, room, table
}
