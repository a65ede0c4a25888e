package helpdesk

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkSweepNothingDue measures the sweep that runs after every sync
// over a backlog of 50k unresolved tickets none of which is due: the cost
// every sync pays whatever happens.
func BenchmarkSweepNothingDue(b *testing.B) {
	tr, rec := sweepBacklog(b, 50000)
	commit := func(apply func(Records) ([]byte, error)) error { _, err := apply(rec); return err }
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if n, err := tr.Sweep(wm.Add(time.Minute), commit); err != nil || n != 0 {
			b.Fatalf("%d breaches, %v", n, err)
		}
	}
}

// BenchmarkSweepAllDue measures a sweep in which all 50k tickets of the
// backlog breach their first-reply target at once: state reads and writes
// and the aggregates of one transaction.
func BenchmarkSweepAllDue(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		tr, rec := sweepBacklog(b, 50000)
		commit := func(apply func(Records) ([]byte, error)) error { _, err := apply(rec); return err }
		b.StartTimer()
		if n, err := tr.Sweep(wm.Add(9*time.Hour), commit); err != nil || n != 50000 {
			b.Fatalf("%d breaches, %v", n, err)
		}
	}
}

func sweepBacklog(b *testing.B, n int) (*Tracker, memRecords) {
	b.Helper()
	cfg := benchConfig("priority,channel")
	cfg.ResolutionTargets = map[string]time.Duration{"normal": 72 * time.Hour}
	tr := NewTracker(cfg)
	rec := memRecords{}
	batch := tr.Begin()
	created := wm.Add(time.Second)
	for i := range n {
		t := Ticket{ID: fmt.Sprint(i), Status: StatusOpen, Priority: "normal", Channel: benchChannels[i%len(benchChannels)],
			Type: "question", CreatedAt: created, UpdatedAt: created}
		if _, err := batch.Apply(rec, &t); err != nil {
			b.Fatal(err)
		}
	}
	tr.Publish(batch)
	return tr, rec
}
