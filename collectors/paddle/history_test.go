package paddle

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/collectors/source/sourcetest"
	fakepaddle "github.com/cx-exporter/cx-exporter/internal/fake/paddle"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// TestHistory replays a scripted account (days from t0, the backfill's
// start; the end is t0+30d, when events older than t0-60d have expired)
// and reads the engine at past instants:
//   - A: $50 from -100d (its events expired), never changed;
//   - D: $100 from -95d (creation event expired), canceled +20d;
//   - B: $30, trialing from +2d, active +9d;
//   - C: $20 from +5d, canceled +12d.
func TestHistory(t *testing.T) {
	t0 := time.Now().UTC().Add(-40 * 24 * time.Hour).Truncate(time.Hour)
	d := func(n float64) time.Time { return t0.Add(time.Duration(n * 24 * float64(time.Hour))) }
	pd := fakepaddle.NewServer(fakepaddle.Options{APIKey: "k", Start: d(-100), RateLimitOff: true})
	defer pd.Close()
	at := func(n float64) { pd.Advance(d(n).Sub(pd.Now())) }
	price := func(amount int64) []fakepaddle.Item {
		return []fakepaddle.Item{{PriceID: pd.CreatePrice(fakepaddle.Price{ProductID: "pro_x", Currency: "USD", Amount: amount})}}
	}
	a := pd.CreateSubscription(fakepaddle.Subscription{Items: price(5000)})
	at(-95)
	dd := pd.CreateSubscription(fakepaddle.Subscription{Items: price(10000)})
	at(2)
	b := pd.CreateSubscription(fakepaddle.Subscription{Items: price(3000), Status: "trialing"})
	at(5)
	c := pd.CreateSubscription(fakepaddle.Subscription{Items: price(2000)})
	at(9)
	pd.UpdateSubscription(b, func(s *fakepaddle.Subscription) { s.Status = "active" })
	at(12)
	pd.UpdateSubscription(c, func(s *fakepaddle.Subscription) { s.Status = "canceled" })
	at(20)
	pd.UpdateSubscription(dd, func(s *fakepaddle.Subscription) { s.Status = "canceled" })
	at(30)
	_ = a

	hist, err := NewHistory(Options{Deps: source.Deps{Name: "paddle", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry())}},
		BaseURL: pd.URL, APIKey: "k", PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sourcetest.Replay(context.Background(), hist, source.RoleBilling, d(0), d(30), d(1), d(6), d(10), d(13), d(21))
	if err != nil {
		t.Fatal(err)
	}
	type vals struct{ mrr, trialsStarted, converted, churned, trialing, started float64 }
	want := []vals{
		{150, 0, 0, 0, 0, 0}, // A, D
		{170, 1, 0, 0, 1, 1}, // B trialing, C
		{200, 1, 1, 0, 0, 2}, // B converted: it started paying
		{180, 1, 1, 1, 0, 2}, // C canceled
		{80, 1, 1, 2, 0, 2},  // D canceled (its cancellation event kept)
	}
	for i, w := range want {
		s := got[i]
		g := vals{s.Sum("billing_mrr"), s.Sum("billing_trials_started_total"), s.Sum("billing_trials_converted_total"),
			s.Sum("billing_subscriptions_churned_total"), s.Sum("billing_subscriptions", "status", "trialing"), s.Sum("billing_subscriptions_started_total")}
		if g != w {
			t.Errorf("instant %d: got %+v, want %+v", i, g, w)
		}
	}
	// 4 subscriptions at 3 a page; 3+3+3+1 kept events (A's and D's
	// creation expired) at 3 a page.
	if hist.Requests() != 2+4 {
		t.Errorf("requests %d, want 6", hist.Requests())
	}
}
