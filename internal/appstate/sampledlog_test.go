package appstate

import (
	"testing"
	"time"
)

// One line per period gets through, carrying the count held back before it.
func TestSampledLog(t *testing.T) {
	l := &SampledLog{Every: time.Minute}
	t0 := time.Unix(1_700_000_000, 0)
	if ok, n := l.Allow(t0); !ok || n != 0 {
		t.Fatalf("first: %v %d", ok, n)
	}
	for i := 1; i <= 3; i++ {
		if ok, _ := l.Allow(t0.Add(time.Duration(i) * 10 * time.Second)); ok {
			t.Fatalf("line %d within the minute let through", i)
		}
	}
	if ok, n := l.Allow(t0.Add(time.Minute)); !ok || n != 3 {
		t.Fatalf("a minute later: %v, %d held back, want 3", ok, n)
	}
	if ok, _ := l.Allow(t0.Add(61 * time.Second)); ok {
		t.Fatal("the period restarts at each line let through")
	}
	if ok, n := l.Allow(t0.Add(3 * time.Minute)); !ok || n != 1 {
		t.Fatalf("later: %v %d", ok, n)
	}
}
