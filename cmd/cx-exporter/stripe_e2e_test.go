package main_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakestripe "github.com/cx-exporter/cx-exporter/internal/fake/stripe"
)

type stripeScenario struct {
	e2e.Waiter
	fake *fakestripe.Server
	env  []string
}

func (s *stripeScenario) start() { s.Exp = e2e.Start(s.T, s.env) }

// synced waits until the fake answered a request made after this call
// and a sync that ended after that answer succeeded.
func (s *stripeScenario) synced() map[string]float64 {
	s.T.Helper()
	served := s.WaitServed()
	after := float64(served.UnixNano()) / 1e9
	key := e2e.SyncSuccessKey("stripe")
	deadline := time.Now().Add(30 * time.Second)
	for {
		text, err := s.Exp.Scrape()
		if err == nil {
			if m, err := e2e.Samples(text); err == nil && m[key] >= after {
				return m
			}
		}
		if time.Now().After(deadline) {
			s.T.Fatalf("no successful sync after %v; logs:\n%s", served, e2e.Tail(s.Exp.Logs(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func bl(name string, kv ...string) string {
	return e2e.Series(name, append([]string{"source", "stripe"}, kv...)...)
}

// expectBilling asserts every billing_* series: those in want equal it
// (to the cent, ratios to 1e-9), every other one is 0.
func expectBilling(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing %s (want %v)", k, w)
		case math.Abs(g-w) > 1e-9:
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && strings.HasPrefix(k, "billing_") && g != 0 {
			t.Errorf("unexpected %s = %v, want 0", k, g)
		}
	}
}

// TestE2EStripe drives the real binary through a scripted month of a
// Stripe account. The fake's clock advances by days between steps; the
// exporter's clock is real, so every event counts into the current UTC
// day and the 30-day ratios start from the values the day started with:
// those of the backfill (5 active customers, 227.50 usd and 80 eur MRR).
// Every customer new or back since began its paying spell within the
// window, so the revenue retention follows the 5 backfilled customers
// only. (A run straddling 00:00 UTC would split the history over two
// days.)
func TestE2EStripe(t *testing.T) {
	if h := time.Now().UTC(); h.Hour() == 23 && h.Minute() >= 58 {
		t.Skip("too close to 00:00 UTC: the ratios' day would change mid-test")
	}
	fake := fakestripe.NewServer(fakestripe.Options{})
	t.Cleanup(fake.Close)
	s := &stripeScenario{fake: fake}
	s.Waiter = e2e.Waiter{T: t, Source: "stripe", Request: "Stripe request", Served: e2e.ServedBy(fake.Requests,
		func(r fakestripe.Request) (time.Time, bool) { return r.At, r.Status == 200 })}
	s.env = []string{
		"CX_STRIPE_API_KEY=" + fakestripe.DefaultAPIKey,
		"CX_STRIPE_URL=" + fake.URL,
		"CX_STRIPE_PAGE_SIZE=3",
		"CX_STATE_DIR=" + t.TempDir(),
		"CX_POLL_INTERVAL=1s",
		"CX_HTTP_RETRIES=2",
		"CX_HTTP_TIMEOUT=2s",
		"CX_LOG_LEVEL=debug",
	}
	f := fake
	basic := f.CreatePrice(fakestripe.Price{Product: "prod_basic", Currency: "usd", UnitAmount: 2000})
	pro := f.CreatePrice(fakestripe.Price{Product: "prod_pro", Currency: "usd", UnitAmount: 5000})
	proEUR := f.CreatePrice(fakestripe.Price{Product: "prod_pro", Currency: "eur", UnitAmount: 4000})
	yearly := f.CreatePrice(fakestripe.Price{Product: "prod_pro", Currency: "usd", UnitAmount: 120000, Interval: "year"})
	metered := f.CreatePrice(fakestripe.Price{Product: "prod_api", Currency: "usd", UnitAmount: 10, Metered: true})
	forever25 := f.CreateCoupon(fakestripe.Coupon{ID: "F25", PercentOff: 25, Duration: "forever"})
	once50 := f.CreateCoupon(fakestripe.Coupon{ID: "ONCE50", PercentOff: 50, Duration: "once"})

	// History, ten days before the exporter's first start: backfill.
	past := f.Now().Add(-10 * 24 * time.Hour)
	hist := func(cus string, status string, coupons []string, items ...fakestripe.Item) string {
		sub := fakestripe.Subscription{Customer: cus, Status: status, Created: past, Items: items, Coupons: coupons}
		if status == "canceled" {
			sub.CanceledAt, sub.EndedAt = past.Add(time.Hour), past.Add(time.Hour)
		}
		return f.CreateSubscription(sub)
	}
	cus1, cus4 := f.CreateCustomer(), f.CreateCustomer()
	h1 := hist(cus1, "active", []string{once50}, fakestripe.Item{Price: basic})                                                 // 20.00
	h2 := hist(f.CreateCustomer(), "active", []string{forever25}, fakestripe.Item{Price: pro}, fakestripe.Item{Price: metered}) // 37.50
	h3 := hist(f.CreateCustomer(), "active", nil, fakestripe.Item{Price: proEUR, Quantity: 2})                                  // 80.00 eur
	h4a := hist(cus4, "active", nil, fakestripe.Item{Price: basic})                                                             // 20.00
	h4b := hist(cus4, "active", nil, fakestripe.Item{Price: pro})                                                               // 50.00
	h5 := hist(f.CreateCustomer(), "active", nil, fakestripe.Item{Price: yearly})                                               // 100.00
	h6 := hist(f.CreateCustomer(), "trialing", nil, fakestripe.Item{Price: pro})                                                // trial, converts
	h7 := hist(f.CreateCustomer(), "trialing", nil, fakestripe.Item{Price: basic})                                              // trial, ends unpaid
	hist(f.CreateCustomer(), "canceled", nil, fakestripe.Item{Price: basic})                                                    // long gone

	s.start()
	m := s.Synced()
	startUSD, startEUR := 22750.0, 8000.0
	retention := func(cur, kind string) string {
		return bl("billing_revenue_retention_ratio", "window", "30d", "currency", cur, "kind", kind)
	}
	expectBilling(t, m, map[string]float64{
		retention("usd", "net"): 1, retention("usd", "gross"): 1,
		retention("eur", "net"): 1, retention("eur", "gross"): 1,
		bl("billing_subscriptions", "status", "active", "plan", "prod_basic", "currency", "usd"):   2,
		bl("billing_subscriptions", "status", "active", "plan", "prod_pro", "currency", "usd"):     3,
		bl("billing_subscriptions", "status", "trialing", "plan", "prod_pro", "currency", "usd"):   1,
		bl("billing_subscriptions", "status", "trialing", "plan", "prod_basic", "currency", "usd"): 1,
		bl("billing_subscriptions", "status", "active", "plan", "prod_pro", "currency", "eur"):     1,
		bl("billing_active_customers", "currency", "usd"):                                          4,
		bl("billing_active_customers", "currency", "eur"):                                          1,
		bl("billing_mrr", "currency", "usd", "plan", "prod_basic"):                                 40,
		bl("billing_mrr", "currency", "usd", "plan", "prod_pro"):                                   187.5,
		bl("billing_mrr", "currency", "eur", "plan", "prod_pro"):                                   80,
	})

	step := func(d time.Duration, fn func()) map[string]float64 {
		f.Advance(d)
		fn()
		return s.Synced()
	}
	setStatus := func(id, status, reason string) {
		f.UpdateSubscription(id, func(x *fakestripe.Subscription) { x.Status, x.CancellationReason = status, reason })
	}
	var n1, t1, t2 string
	// Day 2: sign-ups in both currencies (one with a forever coupon), a
	// backfilled trial converting, a backfilled trial ending unpaid, two
	// new trials.
	step(2*24*time.Hour, func() {
		n1 = f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Items: []fakestripe.Item{{Price: pro}}})
		f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Coupons: []string{forever25}, Items: []fakestripe.Item{{Price: proEUR}}})
		setStatus(h6, "active", "")
		setStatus(h7, "canceled", "")
		trial := func(price string) string {
			now := f.Now()
			return f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Status: "trialing",
				TrialStart: now, TrialEnd: now.Add(3 * 24 * time.Hour), Items: []fakestripe.Item{{Price: price}}})
		}
		t1, t2 = trial(pro), trial(basic)
	})
	// Day 5: upgrades (quantity on a yearly price, monthly to yearly), a
	// downgrade, a quantity change in eur; t1 converts, t2 is canceled
	// before paying.
	step(3*24*time.Hour, func() {
		setStatus(t1, "active", "")
		setStatus(t2, "canceled", "cancellation_requested")
		f.UpdateSubscription(h5, func(x *fakestripe.Subscription) { x.Items[0].Quantity = 2 })
		f.UpdateSubscription(n1, func(x *fakestripe.Subscription) { x.Items[0].Price = yearly })
		f.UpdateSubscription(h4b, func(x *fakestripe.Subscription) { x.Items[0].Price = basic })
		f.UpdateSubscription(h3, func(x *fakestripe.Subscription) { x.Items[0].Quantity = 3 })
	})
	// Day 10: a cancellation scheduled at period end, a failed payment.
	m = step(5*24*time.Hour, func() {
		at := f.Now().Add(10 * 24 * time.Hour)
		f.UpdateSubscription(h1, func(x *fakestripe.Subscription) { x.CancelAtPeriodEnd, x.CancelAt = true, at })
		setStatus(h2, "past_due", "")
	})
	if k := bl("billing_scheduled_churn_mrr", "currency", "usd"); m[k] != 20 {
		t.Errorf("%s = %v, want 20", k, m[k])
	}
	// Day 20: the scheduled cancellation ends, past_due becomes unpaid,
	// one of a customer's two subscriptions is canceled at once, eur churns.
	step(10*24*time.Hour, func() {
		setStatus(h1, "canceled", "cancellation_requested")
		setStatus(h2, "unpaid", "")
		setStatus(h4a, "canceled", "cancellation_requested")
		setStatus(h3, "canceled", "cancellation_requested")
	})
	// Day 25: the customer's other subscription goes; cus1 comes back.
	step(5*24*time.Hour, func() {
		setStatus(h4b, "canceled", "cancellation_requested")
		f.CreateSubscription(fakestripe.Subscription{Customer: cus1, Items: []fakestripe.Item{{Price: basic}}})
	})

	// Day 27: a burst of sign-ups read over several slow pages; the
	// exporter is killed mid-sync and restarted.
	f.Advance(2 * 24 * time.Hour)
	f.SetLatency(250 * time.Millisecond)
	t0 := time.Now()
	for range 12 {
		f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Items: []fakestripe.Item{{Price: basic}}})
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		served := 0
		for _, r := range f.Requests() {
			if !r.At.Before(t0) && r.Path == "/v1/events" && r.Status == 200 {
				served++
			}
		}
		if served >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the burst was not synced; logs:\n%s", e2e.Tail(s.Exp.Logs(), 3000))
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Exp.Kill()
	pages := 0
	for _, r := range f.Requests() {
		if !r.At.Before(t0) && r.Path == "/v1/events" && r.Status == 200 {
			pages++
		}
	}
	if pages >= 4 { // 12 events, 3 a page
		t.Fatalf("the kill did not land mid-sync: %d event pages served", pages)
	}
	f.SetLatency(0)
	s.start()
	m = s.Synced()
	m = s.Synced() // a whole sync after the restart

	// Customers: 5 backfilled (cus1, h2's, h3's, cus4, h5's); 16 new
	// (h6's converted trial, n1's, the eur sign-up, t1's, the burst of
	// 12); cus1 came back (not new). Churned: cus1, h2's (unpaid), h3's
	// (eur), cus4: 4 / (5 + 16).
	// Retention follows the 5 backfilled customers: usd 227.50 + 100
	// (h5's quantity) − 50 (h4b's downgrade 30, h4a 20) − 77.50 (h1 20,
	// h2 37.50, h4b 20); n1's upgrade is a new customer's. eur 80 + 40
	// (h3's quantity) − 120 (h3): 0; gross (80 − 120) / 80 stops at 0.
	want := map[string]float64{
		bl("billing_subscriptions", "status", "active", "plan", "prod_pro", "currency", "usd"):   4, // h5, h6, n1, t1
		bl("billing_subscriptions", "status", "unpaid", "plan", "prod_pro", "currency", "usd"):   1, // h2
		bl("billing_subscriptions", "status", "active", "plan", "prod_basic", "currency", "usd"): 13,
		bl("billing_subscriptions", "status", "active", "plan", "prod_pro", "currency", "eur"):   1,
		bl("billing_active_customers", "currency", "usd"):                                        17,
		bl("billing_active_customers", "currency", "eur"):                                        1,
		bl("billing_mrr", "currency", "usd", "plan", "prod_pro"):                                 400, // 200 + 50 + 100 + 50
		bl("billing_mrr", "currency", "usd", "plan", "prod_basic"):                               260, // 13 × 20
		bl("billing_mrr", "currency", "eur", "plan", "prod_pro"):                                 30,  // 40 × 0.75
		bl("billing_subscriptions_started_total", "plan", "prod_pro"):                            4,
		bl("billing_subscriptions_started_total", "plan", "prod_basic"):                          13,
		bl("billing_subscriptions_churned_total", "plan", "prod_basic", "reason", "voluntary"):   3,
		bl("billing_subscriptions_churned_total", "plan", "prod_pro", "reason", "voluntary"):     1,
		bl("billing_subscriptions_churned_total", "plan", "prod_pro", "reason", "involuntary"):   1,
		bl("billing_customers_churned_total"):                                                    4,
		bl("billing_trials_started_total", "plan", "prod_pro"):                                   1, // t1 (h6 began before the watermark)
		bl("billing_trials_started_total", "plan", "prod_basic"):                                 1, // t2
		bl("billing_trials_converted_total", "plan", "prod_pro"):                                 2, // h6, t1
		bl("billing_trials_canceled_total", "plan", "prod_basic"):                                2, // h7, t2
		bl("billing_mrr_movements_total", "currency", "usd", "kind", "new"):                      390,
		bl("billing_mrr_movements_total", "currency", "usd", "kind", "expansion"):                150,
		bl("billing_mrr_movements_total", "currency", "usd", "kind", "contraction"):              50,
		bl("billing_mrr_movements_total", "currency", "usd", "kind", "churn"):                    77.5,
		bl("billing_mrr_movements_total", "currency", "usd", "kind", "reactivation"):             20,
		bl("billing_mrr_movements_total", "currency", "eur", "kind", "new"):                      30,
		bl("billing_mrr_movements_total", "currency", "eur", "kind", "expansion"):                40,
		bl("billing_mrr_movements_total", "currency", "eur", "kind", "churn"):                    120,
		bl("billing_customer_churn_ratio", "window", "30d"):                                      4.0 / 21,
		bl("billing_mrr_churn_ratio", "window", "30d", "currency", "usd"):                        (7750 + 5000) / startUSD,
		bl("billing_mrr_churn_ratio", "window", "30d", "currency", "eur"):                        12000 / startEUR,
		retention("usd", "net"):   (startUSD + 10000 - 5000 - 7750) / startUSD,
		retention("usd", "gross"): (startUSD - 5000 - 7750) / startUSD,
		retention("eur", "net"):   0,
		retention("eur", "gross"): 0,
	}
	expectBilling(t, m, want)
	for _, r := range []string{"missing_field", "unknown_value", "malformed_record", "malformed_page"} {
		if v := m[bl("cx_exporter_records_rejected_total", "reason", r)]; v != 0 {
			t.Errorf("%s records rejected: %v", r, v)
		}
	}
	if logs := s.Exp.Logs(); strings.Contains(logs, fakestripe.DefaultAPIKey) {
		t.Error("the API key appears in the logs")
	}
	if t.Failed() {
		t.Logf("logs:\n%s", e2e.Tail(s.Exp.Logs(), 4000))
	}
}
