package helpdesk

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

func applyAll(t *testing.T, tr *Tracker, rec Records, tickets ...Ticket) {
	t.Helper()
	b := tr.Begin()
	if err := b.ApplyAll(rec, tickets, func(tk *Ticket, err *InvalidError) { t.Fatalf("rejected %s: %v", tk.ID, err) }); err != nil {
		t.Fatal(err)
	}
	tr.Publish(b)
}

func TestCollectorExposition(t *testing.T) {
	cfg := benchConfig("priority")
	tr := NewTracker(cfg)
	rec := memRecords{}
	now := wm.Add(5 * time.Hour)
	applyAll(t, tr, rec,
		tk(-2*time.Hour, status(StatusOpen), func(t *Ticket) { t.ID, t.Priority = "old", "urgent" }), // backlog, breached
		tk(time.Hour, status(StatusPending), replied(20), func(t *Ticket) { t.ID = "new" }),
		tk(time.Hour, replied(30), solvedAt(2*time.Hour), rated(RatingGood), func(t *Ticket) { t.ID = "done" }),
	)
	c := tr.Collector("zendesk", func() time.Time { return now })
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	want := `
# HELP helpdesk_open_tickets Unresolved tickets now (the backlog).
# TYPE helpdesk_open_tickets gauge
helpdesk_open_tickets{priority="normal",source="zendesk",status="new"} 0
helpdesk_open_tickets{priority="normal",source="zendesk",status="on_hold"} 0
helpdesk_open_tickets{priority="normal",source="zendesk",status="open"} 0
helpdesk_open_tickets{priority="normal",source="zendesk",status="pending"} 1
helpdesk_open_tickets{priority="urgent",source="zendesk",status="new"} 0
helpdesk_open_tickets{priority="urgent",source="zendesk",status="on_hold"} 0
helpdesk_open_tickets{priority="urgent",source="zendesk",status="open"} 1
helpdesk_open_tickets{priority="urgent",source="zendesk",status="pending"} 0
# HELP helpdesk_first_reply_sla_tickets Tickets awaiting a first reply by SLA state (at_risk: under 25% of the target left).
# TYPE helpdesk_first_reply_sla_tickets gauge
helpdesk_first_reply_sla_tickets{priority="normal",source="zendesk",state="at_risk"} 0
helpdesk_first_reply_sla_tickets{priority="normal",source="zendesk",state="breached"} 0
helpdesk_first_reply_sla_tickets{priority="normal",source="zendesk",state="within"} 0
helpdesk_first_reply_sla_tickets{priority="urgent",source="zendesk",state="at_risk"} 0
helpdesk_first_reply_sla_tickets{priority="urgent",source="zendesk",state="breached"} 1
helpdesk_first_reply_sla_tickets{priority="urgent",source="zendesk",state="within"} 0
# HELP helpdesk_open_ticket_oldest_age_seconds Age of the oldest unresolved ticket.
# TYPE helpdesk_open_ticket_oldest_age_seconds gauge
helpdesk_open_ticket_oldest_age_seconds{priority="normal",source="zendesk"} 14400
helpdesk_open_ticket_oldest_age_seconds{priority="urgent",source="zendesk"} 25200
# HELP helpdesk_tickets_created_total Tickets created.
# TYPE helpdesk_tickets_created_total counter
helpdesk_tickets_created_total{priority="normal",source="zendesk"} 2
helpdesk_tickets_created_total{priority="urgent",source="zendesk"} 0
# HELP helpdesk_tickets_solved_first_contact_total Solves with exactly one agent reply and no reopen.
# TYPE helpdesk_tickets_solved_first_contact_total counter
helpdesk_tickets_solved_first_contact_total{priority="normal",source="zendesk"} 1
helpdesk_tickets_solved_first_contact_total{priority="urgent",source="zendesk"} 0
# HELP helpdesk_satisfaction_ratings_total Satisfaction ratings received.
# TYPE helpdesk_satisfaction_ratings_total counter
helpdesk_satisfaction_ratings_total{priority="normal",rating="bad",source="zendesk"} 0
helpdesk_satisfaction_ratings_total{priority="normal",rating="good",source="zendesk"} 1
helpdesk_satisfaction_ratings_total{priority="normal",rating="neutral",source="zendesk"} 0
helpdesk_satisfaction_ratings_total{priority="urgent",rating="bad",source="zendesk"} 0
helpdesk_satisfaction_ratings_total{priority="urgent",rating="good",source="zendesk"} 0
helpdesk_satisfaction_ratings_total{priority="urgent",rating="neutral",source="zendesk"} 0
# HELP helpdesk_first_reply_seconds Time from creation to the first public agent reply.
# TYPE helpdesk_first_reply_seconds histogram
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="60"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="300"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="900"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="1800"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="3600"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="7200"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="14400"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="28800"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="86400"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="172800"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="345600"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="604800"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="1.2096e+06"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="normal",source="zendesk",le="+Inf"} 2
helpdesk_first_reply_seconds_sum{hours="business",priority="normal",source="zendesk"} 1500
helpdesk_first_reply_seconds_count{hours="business",priority="normal",source="zendesk"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="60"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="300"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="900"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="1800"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="3600"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="7200"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="14400"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="28800"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="86400"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="172800"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="345600"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="604800"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="1.2096e+06"} 2
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="normal",source="zendesk",le="+Inf"} 2
helpdesk_first_reply_seconds_sum{hours="calendar",priority="normal",source="zendesk"} 3000
helpdesk_first_reply_seconds_count{hours="calendar",priority="normal",source="zendesk"} 2
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="60"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="300"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="900"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="1800"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="3600"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="7200"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="14400"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="28800"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="86400"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="172800"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="345600"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="604800"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="1.2096e+06"} 0
helpdesk_first_reply_seconds_bucket{hours="business",priority="urgent",source="zendesk",le="+Inf"} 0
helpdesk_first_reply_seconds_sum{hours="business",priority="urgent",source="zendesk"} 0
helpdesk_first_reply_seconds_count{hours="business",priority="urgent",source="zendesk"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="60"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="300"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="900"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="1800"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="3600"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="7200"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="14400"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="28800"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="86400"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="172800"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="345600"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="604800"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="1.2096e+06"} 0
helpdesk_first_reply_seconds_bucket{hours="calendar",priority="urgent",source="zendesk",le="+Inf"} 0
helpdesk_first_reply_seconds_sum{hours="calendar",priority="urgent",source="zendesk"} 0
helpdesk_first_reply_seconds_count{hours="calendar",priority="urgent",source="zendesk"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"helpdesk_open_tickets", "helpdesk_first_reply_sla_tickets", "helpdesk_open_ticket_oldest_age_seconds",
		"helpdesk_tickets_created_total", "helpdesk_tickets_solved_first_contact_total",
		"helpdesk_satisfaction_ratings_total", "helpdesk_first_reply_seconds"); err != nil {
		t.Fatal(err)
	}
}

// TestNativeHistogram checks the native buckets a protobuf scrape carries.
func TestNativeHistogram(t *testing.T) {
	var h Histogram
	for _, v := range []float64{0, 60, 60, 61, 3600} {
		h.Observe(v, DurationBuckets, true)
	}
	d := h.toDTO(DurationBuckets, true)
	if d.GetSchema() != 3 || d.GetZeroCount() != 1 || d.GetSampleCount() != 5 {
		t.Fatalf("schema %d zero %d count %d", d.GetSchema(), d.GetZeroCount(), d.GetSampleCount())
	}
	// Reference: a client_golang native histogram with the same schema.
	ref := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x_seconds", Help: "x", Buckets: DurationBuckets,
		NativeHistogramBucketFactor: 1.1, NativeHistogramZeroThreshold: 1e-128})
	for _, v := range []float64{0, 60, 60, 61, 3600} {
		ref.Observe(v)
	}
	var r dto.Metric
	if err := ref.Write(&r); err != nil {
		t.Fatal(err)
	}
	rh := r.GetHistogram()
	if rh.GetSchema() != d.GetSchema() {
		t.Fatalf("reference schema %d", rh.GetSchema())
	}
	if got, want := spansString(d), spansString(rh); got != want {
		t.Errorf("native buckets\n got %s\nwant %s", got, want)
	}
	for i, b := range d.Bucket {
		if b.GetCumulativeCount() != rh.Bucket[i].GetCumulativeCount() {
			t.Errorf("classic bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), rh.Bucket[i].GetCumulativeCount())
		}
	}
}

func spansString(h *dto.Histogram) string {
	var sb strings.Builder
	for _, s := range h.PositiveSpan {
		fmt.Fprintf(&sb, "[%d+%d]", s.GetOffset(), s.GetLength())
	}
	fmt.Fprintf(&sb, " %v", h.PositiveDelta)
	return sb.String()
}

// TestTrackerReload checks that aggregates and the backlog survive a
// reload from what was persisted.
func TestTrackerReload(t *testing.T) {
	cfg := benchConfig("priority,channel")
	tr := NewTracker(cfg)
	rec := memRecords{}
	b := tr.Begin()
	tickets := []Ticket{
		tk(time.Hour, status(StatusOpen), func(t *Ticket) { t.ID = "a" }),
		tk(time.Hour, replied(10), solvedAt(2*time.Hour), rated(RatingBad), func(t *Ticket) { t.ID = "b" }),
	}
	if err := b.ApplyAll(rec, tickets, func(*Ticket, *InvalidError) { t.Fatal("rejected") }); err != nil {
		t.Fatal(err)
	}
	blob, err := b.Aggregates()
	if err != nil {
		t.Fatal(err)
	}
	tr.Publish(b)
	now := func() time.Time { return wm.Add(3 * time.Hour) }
	families := []string{"helpdesk_open_tickets", "helpdesk_open_ticket_oldest_age_seconds", "helpdesk_tickets_created_total",
		"helpdesk_tickets_solved_total", "helpdesk_satisfaction_ratings_total", "helpdesk_resolution_seconds", "helpdesk_first_reply_sla_tickets"}
	before, err := testutil.CollectAndFormat(tr.Collector("s", now), expfmt.TypeTextPlain, families...)
	if err != nil {
		t.Fatal(err)
	}

	re := NewTracker(cfg)
	err = re.Load(blob, func(fn func(id string, v []byte) error) error {
		for id, v := range rec {
			if err := fn(id, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after, err := testutil.CollectAndFormat(re.Collector("s", now), expfmt.TypeTextPlain, families...)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) || len(before) == 0 {
		t.Fatalf("reloaded exposition differs:\n%s\n---\n%s", before, after)
	}
	// A relabelled reload merges away dropped labels and keeps the counts.
	ls, _ := ParseLabelSet("channel")
	cfg.Labels = ls
	merged := NewTracker(cfg)
	if err := merged.Load(blob, func(func(string, []byte) error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(merged.Collector("s", now), strings.NewReader(`
# HELP helpdesk_tickets_created_total Tickets created.
# TYPE helpdesk_tickets_created_total counter
helpdesk_tickets_created_total{channel="email",source="s"} 2
`), "helpdesk_tickets_created_total"); err != nil {
		t.Error(err)
	}
}

func TestLabelCap(t *testing.T) {
	cfg := benchConfig("group")
	cfg.MaxLabelValues = 2
	tr := NewTracker(cfg)
	rec := memRecords{}
	for i, g := range []string{"g1", "g2", "g3", "g4", "g1"} {
		applyAll(t, tr, rec, tk(time.Hour, status(StatusOpen), func(t *Ticket) { t.ID, t.Group = string(rune('a'+i)), g }))
	}
	err := testutil.CollectAndCompare(tr.Collector("s", func() time.Time { return wm.Add(2 * time.Hour) }), strings.NewReader(`
# HELP helpdesk_tickets_created_total Tickets created.
# TYPE helpdesk_tickets_created_total counter
helpdesk_tickets_created_total{group="g1",source="s"} 2
helpdesk_tickets_created_total{group="g2",source="s"} 1
helpdesk_tickets_created_total{group="other",source="s"} 2
`), "helpdesk_tickets_created_total")
	if err != nil {
		t.Error(err)
	}
}
