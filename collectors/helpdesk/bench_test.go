package helpdesk

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// memRecords is an in-memory Records for benchmarks and tests.
type memRecords map[string][]byte

func (m memRecords) Get(id string) []byte          { return m[id] }
func (m memRecords) Put(id string, v []byte) error { m[id] = v; return nil }

// nullRecords stores nothing: every ticket is first seen.
type nullRecords struct{}

func (nullRecords) Get(string) []byte        { return nil }
func (nullRecords) Put(string, []byte) error { return nil }

var benchChannels = []string{"email", "web", "chat", "phone", "api"}

func benchTicket(i int, created time.Time, status Status) Ticket {
	t := Ticket{ID: strconv.Itoa(i), Status: status, Priority: Priorities[i%5], Channel: benchChannels[(i/5)%5],
		Type: "question", Group: strconv.Itoa((i / 25) % 4), CreatedAt: created, UpdatedAt: created.Add(time.Duration(i) * time.Millisecond)}
	if status.Resolved() {
		t.Replied, t.AgentReplies, t.SolvedAt = true, 1+i%3, created.Add(time.Hour)
		t.FirstReply = Durations{Calendar: 30 * time.Minute, Business: 20 * time.Minute, CalendarKnown: true, BusinessKnown: true}
		t.Resolution = Durations{Calendar: time.Hour, Business: 40 * time.Minute, CalendarKnown: true, BusinessKnown: true}
		t.Satisfaction = Rating(1 + i%3)
	}
	return t
}

func benchConfig(labels string) Config {
	ls, err := ParseLabelSet(labels)
	if err != nil {
		panic(err)
	}
	return Config{Labels: ls, MaxLabelValues: 50, Watermark: wm,
		FirstReplyTargets: map[string]time.Duration{"urgent": time.Hour, "high": 4 * time.Hour, "normal": 8 * time.Hour, "low": 24 * time.Hour, "none": 8 * time.Hour}}
}

// BenchmarkEngineUpdates measures ticket versions folded per second through
// the whole page path (Begin, Apply with state encode/decode, aggregates
// encoding, Publish), pages of 1000 as Zendesk sends them, storage in memory.
func BenchmarkEngineUpdates(b *testing.B) {
	tr := NewTracker(benchConfig("priority,channel"))
	rec := memRecords{}
	const page = 1000
	tickets := make([]Ticket, page)
	created := wm.Add(time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n += page {
		batch := tr.Begin()
		for i := range tickets {
			// Alternate open and solved versions of 50k tickets: every update is a transition.
			id := (n + i) % 50000
			st := StatusOpen
			if (n/50000)%2 == 1 {
				st = StatusSolved
			}
			tickets[i] = benchTicket(id, created, st)
			tickets[i].UpdatedAt = created.Add(time.Duration(n+i) * time.Millisecond)
		}
		if err := batch.ApplyAll(rec, tickets, func(*Ticket, *InvalidError) { b.Fatal("rejected") }); err != nil {
			b.Fatal(err)
		}
		if _, err := batch.Aggregates(); err != nil {
			b.Fatal(err)
		}
		tr.Publish(batch)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}

// BenchmarkHeapPerTicket measures the tracker's heap per tracked ticket.
// Ticket states live in the state store (bbolt, memory-mapped, not heap);
// the heap holds the aggregates and one entry per unresolved ticket. The
// worst case, every ticket unresolved, is reported.
func BenchmarkHeapPerTicket(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		for _, openShare := range []int{100, 5} {
			b.Run(fmt.Sprintf("tickets=%d/open=%d%%", n, openShare), func(b *testing.B) {
				for range b.N {
					before := heap()
					tr := NewTracker(benchConfig("priority,channel"))
					created := wm.Add(time.Minute)
					for start := 0; start < n; start += 1000 {
						batch := tr.Begin()
						for i := start; i < start+1000 && i < n; i++ {
							st := StatusSolved
							if i%100 < openShare {
								st = StatusOpen
							}
							t := benchTicket(i, created, st)
							if _, err := batch.Apply(nullRecords{}, &t); err != nil {
								b.Fatal(err)
							}
						}
						tr.Publish(batch)
					}
					after := heap()
					b.ReportMetric(float64(after-before)/float64(n), "B/ticket")
					runtime.KeepAlive(tr)
				}
			})
		}
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkRender10kSeries measures one /metrics rendering of a tracker
// exposing about 10,000 series, as the exporter serves it (the collector
// gathered directly): gathered only, encoded as text and as protobuf;
// text-all-changed is the scrape after a sync that changed every label
// combination (every counter and histogram rebuilt), and registry-text the
// same collector gathered through a client_golang registry, as backfill
// and tests do.
func BenchmarkRender10kSeries(b *testing.B) {
	tr := NewTracker(benchConfig("priority,channel,group"))
	created := wm.Add(time.Minute)
	batch := tr.Begin()
	// 5 priorities x 5 channels x 4 groups = 100 label combinations, each
	// with open and solved tickets: about 10,000 series.
	for i := range 2000 {
		st := StatusSolved
		if i%4 == 0 {
			st = StatusOpen
		}
		t := benchTicket(i, created, st)
		if _, err := batch.Apply(nullRecords{}, &t); err != nil {
			b.Fatal(err)
		}
	}
	tr.Publish(batch)
	now := func() time.Time { return created.Add(3 * time.Hour) }
	c := tr.Collector("zendesk", now)
	reg := prometheus.NewRegistry()
	reg.MustRegister(tr.Collector("zendesk", now))
	text, proto := expfmt.NewFormat(expfmt.TypeTextPlain), expfmt.NewFormat(expfmt.TypeProtoDelim)
	for _, f := range []struct {
		name   string
		g      prometheus.Gatherer
		format expfmt.Format
		change bool
	}{
		{"gather", c, "", false},
		{"text", c, text, false},
		{"protobuf", c, proto, false},
		{"text-all-changed", c, text, true},
		{"registry-text", reg, text, false},
	} {
		b.Run(f.name, func(b *testing.B) {
			var invalidate func()
			if f.change {
				invalidate = func() {
					for _, cb := range c.order {
						cb.rendered = false
					}
				}
			}
			benchRender(b, f.g, f.format, invalidate)
		})
	}
}

// benchRender renders g b.N times, encoding in format unless empty, and
// reports the series, the time per series and the CPU time per render
// (cpu-ns/op, GC included: what the render costs whatever else the
// machine runs, which inflates wall time). before, when set, runs untimed
// before each render.
func benchRender(b *testing.B, g prometheus.Gatherer, format expfmt.Format, before func()) {
	series := countSeries(b, g)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		if before != nil {
			b.StopTimer()
			before()
			b.StartTimer()
		}
		mfs, err := g.Gather()
		if err != nil {
			b.Fatal(err)
		}
		if format == "" {
			continue
		}
		enc := expfmt.NewEncoder(discard{}, format)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func countSeries(b *testing.B, g prometheus.Gatherer) int {
	mfs, err := g.Gather()
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			if h := m.GetHistogram(); h != nil {
				n += len(h.Bucket) + 3 // buckets, +Inf, _sum, _count
			} else {
				n++
			}
		}
	}
	return n
}
