package chargebee

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/collectors/source/sourcetest"
	fakechargebee "github.com/cx-exporter/cx-exporter/internal/fake/chargebee"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// TestHistory replays a scripted site (days from t0, the backfill's
// start; the end is t0+30d) and reads the engine at past instants:
//   - A: $50 from -10d, never changed;
//   - E: $40 from +1d, paused +25d;
//   - B: $30, trial +2d to +9d, then active;
//   - C: $20, trial from +5d, cancelled at its end +12d;
//   - D: $100 from +15d, cancelled (not paid) +20d.
func TestHistory(t *testing.T) {
	t0 := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	d := func(n float64) time.Time { return t0.Add(time.Duration(n * 24 * float64(time.Hour))) }
	cb := fakechargebee.NewServer(fakechargebee.Options{APIKey: "k", Start: d(-10)})
	defer cb.Close()
	at := func(n float64) { cb.Advance(d(n).Sub(cb.Now())) }
	sub := func(id, status string, mrr int64) fakechargebee.Subscription {
		return fakechargebee.Subscription{ID: id, CustomerID: "cus_" + id, Status: status, MRR: fakechargebee.Int64(mrr), PlanID: "plan_" + id,
			CreatedAt: cb.Now(), StartedAt: cb.Now()}
	}
	cb.Put(sub("A", "active", 5000))
	at(1)
	e := sub("E", "active", 4000)
	cb.Put(e)
	at(2)
	b := sub("B", "in_trial", 3000)
	b.TrialStart, b.TrialEnd = d(2), d(9)
	cb.Put(b)
	at(5)
	c := sub("C", "in_trial", 2000)
	c.TrialStart, c.TrialEnd = d(5), d(12)
	cb.Put(c)
	at(9)
	b.Status, b.ActivatedAt = "active", d(9)
	cb.Put(b)
	at(12)
	c.Status, c.CancelledAt = "cancelled", d(12)
	cb.Put(c)
	at(15)
	dd := sub("D", "active", 10000)
	cb.Put(dd)
	at(20)
	dd.Status, dd.CancelledAt, dd.CancelReason = "cancelled", d(20), "not_paid"
	cb.Put(dd)
	at(25)
	e.Status = "paused"
	cb.Put(e)
	at(40)

	hist, err := NewHistory(Options{Deps: source.Deps{Name: "chargebee", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry())}},
		BaseURL: cb.URL, APIKey: "k", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sourcetest.Replay(context.Background(), hist, source.RoleBilling, d(0), d(30), d(1.5), d(6), d(13), d(17), d(22), d(27))
	if err != nil {
		t.Fatal(err)
	}
	type vals struct{ mrr, trialsStarted, converted, trialsCanceled, churned, trialing float64 }
	want := []vals{
		{90, 0, 0, 0, 0, 0},  // A, E
		{90, 2, 0, 0, 0, 2},  // B and C trialing
		{120, 2, 1, 1, 0, 0}, // B converted, C cancelled in its trial
		{220, 2, 1, 1, 0, 0}, // D
		{120, 2, 1, 1, 1, 0}, // D churned
		{80, 2, 1, 1, 1, 0},  // E paused
	}
	for i, w := range want {
		s := got[i]
		g := vals{s.Sum("billing_mrr"), s.Sum("billing_trials_started_total"), s.Sum("billing_trials_converted_total"),
			s.Sum("billing_trials_canceled_total"), s.Sum("billing_subscriptions_churned_total"), s.Sum("billing_subscriptions", "status", "trialing")}
		if g != w {
			t.Errorf("instant %d: got %+v, want %+v", i, g, w)
		}
	}
	if n := got[4].Sum("billing_subscriptions_churned_total", "reason", "involuntary"); n != 1 {
		t.Errorf("involuntary churn at +22d = %v, want 1 (not_paid)", n)
	}
	if hist.Requests() != 3 { // 5 subscriptions, 2 a page
		t.Errorf("requests %d, want 3", hist.Requests())
	}
}
