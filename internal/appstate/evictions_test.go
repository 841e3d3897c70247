package appstate

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Every eviction is counted at once; the WARN line comes at most once a
// minute and says how many sessions were ended since the line before.
func TestEvictionLog(t *testing.T) {
	const app = "wxevictiontest01"
	core, logs := observer.New(zapcore.WarnLevel)
	now := time.Unix(1_700_000_000, 0)
	l := newEvictionLog(app)
	l.now = func() time.Time { return now }
	l.log = func() *zap.Logger { return zap.New(core) }
	counter := metrics.evicted.WithLabelValues(app)

	ended := func(want ...int64) {
		t.Helper()
		var got []int64
		for _, e := range logs.TakeAll() {
			got = append(got, e.ContextMap()["sessions_ended"].(int64))
		}
		if len(got) != len(want) || len(got) == 1 && got[0] != want[0] {
			t.Errorf("WARN lines say %v sessions ended, want %v", got, want)
		}
	}
	l.evicted(2)
	ended(2)
	l.evicted(1)
	now = now.Add(30 * time.Second)
	l.evicted(2)
	ended() // within the minute: counted, not logged
	now = now.Add(31 * time.Second)
	l.evicted(1)
	ended(4) // the held back and this one
	var m dto.Metric
	if err := counter.Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != 6 {
		t.Errorf("counter %v, want 6", got)
	}
}
