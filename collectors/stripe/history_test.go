package stripe

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

type subRecorder struct{ subs []billing.Subscription }

func (r *subRecorder) Advance(time.Time) error       { return nil }
func (r *subRecorder) Ticket(*helpdesk.Ticket) error { return nil }
func (r *subRecorder) Subscription(s *billing.Subscription) error {
	r.subs = append(r.subs, *s)
	return nil
}

// TestStripeMockHistoryConformance runs the backfill's requests (every
// subscription with status=all and expanded discounts, the kept
// subscription events since the start) against stripe-mock, which checks
// paths and parameters against Stripe's OpenAPI spec. stripe-mock cannot
// script 90 days of known data (fixed fixtures, one item per list): the
// history's numbers are tested against the stateful fake
// (internal/e2e TestBackfillIntoPrometheus).
func TestStripeMockHistoryConformance(t *testing.T) {
	base := startStripeMock(t)
	reg := prometheus.NewRegistry()
	h, err := NewHistory(Options{
		Deps:    source.Deps{Name: "stripe", Client: upstream.Options{Metrics: upstream.NewMetrics(reg), RetryMax: -1, Timeout: 10 * time.Second}},
		BaseURL: base, APIKey: "sk_test_123", PageSize: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	var r subRecorder
	if err := h.Replay(context.Background(), time.Now().Add(-90*24*time.Hour), time.Now(), nil, &r); err != nil {
		t.Fatalf("replay against stripe-mock: %v", err)
	}
	if h.Requests() < 2 {
		t.Fatalf("%d requests, want the subscriptions and the events", h.Requests())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "cx_exporter_api_requests_total" {
			continue
		}
		for _, m := range mf.Metric {
			if code := label(m, "code"); code != "200" {
				t.Errorf("stripe-mock answered %v request(s) with %s", m.GetCounter().GetValue(), code)
			}
		}
	}
}

func TestTimeline(t *testing.T) {
	day := func(d int64) int64 { return 1_700_000_000 + d*86400 }
	p := func(v int64) *int64 { return &v }
	base := billing.Subscription{ID: "sub_1", Status: billing.StatusCanceled, CanceledAt: time.Unix(day(50), 0), EndedAt: time.Unix(day(50), 0)}
	got := timeline(base, subscriptionJSON{Created: day(10), TrialEnd: p(day(24)), CanceledAt: p(day(50)), EndedAt: p(day(50))}, 1<<62)
	want := []struct {
		at int64
		st billing.Status
	}{{day(10), billing.StatusTrialing}, {day(24), billing.StatusActive}, {day(50), billing.StatusCanceled}}
	if len(got) != len(want) {
		t.Fatalf("%d versions: %+v", len(got), got)
	}
	for i, w := range want {
		if got[i].at != w.at || got[i].sub.Status != w.st || got[i].sub.UpdatedAt.Unix() != w.at {
			t.Errorf("version %d: %d %s, want %d %s", i, got[i].at, got[i].sub.Status, w.at, w.st)
		}
		if w.st.Live() && !got[i].sub.CanceledAt.IsZero() {
			t.Errorf("version %d is live with canceled_at set", i)
		}
	}
	// A change kept as an event at day 30 ends the timeline there: the
	// cancellation comes from the events.
	if got := timeline(base, subscriptionJSON{Created: day(10), CanceledAt: p(day(50))}, day(30)); len(got) != 1 || got[0].sub.Status != billing.StatusActive {
		t.Errorf("timeline before an event: %+v", got)
	}
}
