package helpdesk

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// text encodes families as the text format, its lines sorted: the
// registry and the direct path order series differently, and nothing
// reading the format may depend on that order.
func text(t *testing.T, mfs []*dto.MetricFamily) string {
	t.Helper()
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(buf.String(), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// viaRegistry is the families a registry gathers from a new collector of
// tr: nothing cached, every metric checked by client_golang.
func viaRegistry(t *testing.T, tr *Tracker, now func() time.Time) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(tr.Collector("zendesk", now))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func gather(t *testing.T, c *Collector) []*dto.MetricFamily {
	t.Helper()
	mfs, err := c.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func familyNamed(mfs []*dto.MetricFamily, name string) *dto.MetricFamily {
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// TestGatherCachesAndFollowsChanges: a collector's Gather, scrape after
// scrape while pages are published, renders exactly what a registry
// gathers from a fresh collector (counters, histograms, new label
// combinations, a family that appears, backlog ages that move with the
// clock); series whose counts did not change keep their pre-built metric;
// and families an earlier scrape returned are never changed after it.
func TestGatherCachesAndFollowsChanges(t *testing.T) {
	tr := NewTracker(benchConfig("priority,assignee"))
	rec := memRecords{}
	clock := wm.Add(5 * time.Hour)
	now := func() time.Time { return clock }
	c := tr.Collector("zendesk", now)
	if mfs := gather(t, c); len(mfs) != 0 {
		t.Fatalf("an empty tracker renders %d families", len(mfs))
	}
	applyAll(t, tr, rec,
		tk(-2*time.Hour, id("a"), status(StatusOpen), assignee("Alice"), func(t *Ticket) { t.Priority = "urgent" }),
		tk(time.Hour, id("b"), status(StatusPending), replied(20), assignee("Bob")),
		tk(time.Hour, id("c"), replied(30), solvedAt(2*time.Hour), rated(RatingGood), assignee("Bob")),
	)
	first := gather(t, c)
	firstText := text(t, first)
	if want := text(t, viaRegistry(t, tr, now)); firstText != want {
		t.Fatalf("Gather differs from the registry:\n%s\nwant\n%s", firstText, want)
	}

	// Nothing published, the clock moves: gauges follow it, counters are
	// the very same metrics.
	clock = clock.Add(time.Hour)
	second := gather(t, c)
	if got, want := text(t, second), text(t, viaRegistry(t, tr, now)); got != want {
		t.Fatalf("after an hour Gather differs from the registry:\n%s\nwant\n%s", got, want)
	}
	if text(t, second) == firstText {
		t.Fatal("an hour later the backlog ages did not move")
	}
	created1, created2 := familyNamed(first, "helpdesk_tickets_created_total"), familyNamed(second, "helpdesk_tickets_created_total")
	for i, m := range created2.Metric {
		if m != created1.Metric[i] {
			t.Errorf("unchanged series %v was rebuilt", m.Label)
		}
	}

	// Pages change some series, add a label combination and a family
	// (waits, which only some vendors give).
	applyAll(t, tr, rec,
		tk(time.Hour, id("b"), at(4*time.Hour), replied(20), solvedAt(4*time.Hour), rated(RatingBad), assignee("Bob"),
			func(t *Ticket) { t.RequesterWait = Durations{Calendar: time.Hour, CalendarKnown: true} }),
		tk(3*time.Hour, id("d"), status(StatusNew), assignee("Carol"), func(t *Ticket) { t.Priority = "low" }),
	)
	third := gather(t, c)
	if got, want := text(t, third), text(t, viaRegistry(t, tr, now)); got != want {
		t.Fatalf("after a page Gather differs from the registry:\n%s\nwant\n%s", got, want)
	}
	if familyNamed(third, "helpdesk_requester_wait_seconds") == nil || familyNamed(first, "helpdesk_requester_wait_seconds") != nil {
		t.Error("the wait families did not appear with the first vendor-given wait")
	}
	if got := text(t, first); got != firstText {
		t.Errorf("the first scrape's families changed after later scrapes:\n%s\nwas\n%s", got, firstText)
	}
}

// TestGatherOrder: families come in name order and each family's series
// in label order, as a registry sorts them, so a scrape's text is stable.
func TestGatherOrder(t *testing.T) {
	tr := NewTracker(benchConfig("priority,channel,group"))
	b := tr.Begin()
	for i := range 300 {
		st := StatusSolved
		if i%3 == 0 {
			st = StatusOpen
		}
		tk := benchTicket(i, wm.Add(time.Minute), st)
		if _, err := b.Apply(nullRecords{}, &tk); err != nil {
			t.Fatal(err)
		}
	}
	tr.Publish(b)
	now := func() time.Time { return wm.Add(3 * time.Hour) }
	got := gather(t, tr.Collector("zendesk", now))
	want := viaRegistry(t, tr, now)
	if len(got) != len(want) {
		t.Fatalf("%d families, the registry %d", len(got), len(want))
	}
	for i := range got {
		if got[i].GetName() != want[i].GetName() || len(got[i].Metric) != len(want[i].Metric) {
			t.Fatalf("family %d: %s with %d series, the registry %s with %d", i, got[i].GetName(), len(got[i].Metric), want[i].GetName(), len(want[i].Metric))
		}
		for j := range got[i].Metric {
			if g, w := got[i].Metric[j].String(), want[i].Metric[j].String(); g != w {
				t.Fatalf("%s series %d:\n got %s\nwant %s", got[i].GetName(), j, g, w)
			}
		}
	}
}

// TestGatherWhilePublishing runs scrapes (rendered and encoded) alongside
// published pages; go test -race checks that they share nothing unsafely.
func TestGatherWhilePublishing(t *testing.T) {
	tr := NewTracker(benchConfig("priority,channel"))
	c := tr.Collector("zendesk", func() time.Time { return wm.Add(3 * time.Hour) })
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var buf bytes.Buffer
				enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeProtoDelim))
				mfs, _ := c.Gather()
				for _, mf := range mfs {
					if err := enc.Encode(mf); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	rec := memRecords{}
	for page := range 20 {
		b := tr.Begin()
		for i := range 50 {
			st := StatusOpen
			if page%2 == 1 {
				st = StatusSolved
			}
			tk := benchTicket(i+page%3*50, wm.Add(time.Minute), st)
			tk.UpdatedAt = wm.Add(time.Duration(page+1) * time.Minute)
			if _, err := b.Apply(rec, &tk); err != nil {
				t.Fatal(err)
			}
		}
		tr.Publish(b)
	}
	close(done)
	wg.Wait()
}
