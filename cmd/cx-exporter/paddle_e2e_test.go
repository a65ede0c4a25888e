package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	"github.com/cx-exporter/cx-exporter/internal/fake"
	fakepaddle "github.com/cx-exporter/cx-exporter/internal/fake/paddle"
)

func pl(name string, kv ...string) string {
	return e2e.Series(name, append([]string{"source", "paddle"}, kv...)...)
}

// TestE2EPaddle drives the real binary through a scripted month of a
// Paddle account: start, upgrade, downgrade, pause, resume, cancel,
// reactivate, a yearly plan, forever and once discounts, USD and EUR, a
// 500 and a 429 retried, and a SIGKILL mid-sync. The fake's clock advances
// by days between steps; the exporter's clock is real, so every change
// counts into the current UTC day and the 30-day ratios start from the
// backfill (4 active customers, 157.50 USD and 80 EUR MRR).
func TestE2EPaddle(t *testing.T) {
	if h := time.Now().UTC(); h.Hour() == 23 && h.Minute() >= 58 {
		t.Skip("too close to 00:00 UTC: the ratios' day would change mid-test")
	}
	f := fakepaddle.NewServer(fakepaddle.Options{})
	t.Cleanup(f.Close)
	s := &stripeScenario{}
	s.Waiter = e2e.Waiter{T: t, Source: "paddle", Request: "Paddle request", Served: e2e.ServedBy(f.Requests,
		func(r fakepaddle.Request) (time.Time, bool) { return r.At, r.Status == 200 })}
	s.env = []string{
		"CX_PADDLE_API_KEY=" + fakepaddle.DefaultAPIKey,
		"CX_PADDLE_URL=" + f.URL,
		"CX_PADDLE_PAGE_SIZE=3",
		"CX_STATE_DIR=" + t.TempDir(),
		"CX_POLL_INTERVAL=1s",
		"CX_HTTP_RETRIES=2",
		"CX_HTTP_TIMEOUT=2s",
		"CX_LOG_LEVEL=debug",
	}
	basic := f.CreatePrice(fakepaddle.Price{ProductID: "pro_basic", Currency: "USD", Amount: 2000})
	pro := f.CreatePrice(fakepaddle.Price{ProductID: "pro_pro", Currency: "USD", Amount: 5000})
	proEUR := f.CreatePrice(fakepaddle.Price{ProductID: "pro_pro", Currency: "EUR", Amount: 4000})
	yearly := f.CreatePrice(fakepaddle.Price{ProductID: "pro_pro", Currency: "USD", Amount: 120000, Interval: "year"})
	forever25 := f.CreateDiscount(fakepaddle.Discount{Type: "percentage", Amount: "25", Recur: true})
	once50 := f.CreateDiscount(fakepaddle.Discount{Type: "percentage", Amount: "50"})

	// History, ten days before the exporter's first start: backfill.
	past := f.Now().Add(-10 * 24 * time.Hour)
	hist := func(status, discount, price string, qty int64) string {
		return f.CreateSubscription(fakepaddle.Subscription{Status: status, CreatedAt: past, DiscountID: discount,
			Items: []fakepaddle.Item{{PriceID: price, Quantity: qty}}})
	}
	h1 := hist("active", once50, basic, 1)  // 20.00: once does not reduce MRR
	h2 := hist("active", forever25, pro, 1) // 37.50
	h3 := hist("active", "", proEUR, 2)     // 80.00 EUR
	h4 := hist("active", "", yearly, 1)     // 100.00 a month
	h5 := hist("trialing", "", pro, 1)      // a trial, converts
	hist("canceled", "", basic, 1)          // long gone
	h7 := hist("paused", "", pro, 1)        // paused, resumes
	cusA, _ := f.Subscription(h1)

	s.start()
	m := s.Synced()
	startUSD, startEUR := 15750.0, 8000.0
	retention := func(cur, kind string) string {
		return pl("billing_revenue_retention_ratio", "window", "30d", "currency", cur, "kind", kind)
	}
	expectBilling(t, m, map[string]float64{
		retention("usd", "net"): 1, retention("usd", "gross"): 1,
		retention("eur", "net"): 1, retention("eur", "gross"): 1,
		pl("billing_subscriptions", "status", "active", "plan", "pro_basic", "currency", "usd"): 1,
		pl("billing_subscriptions", "status", "active", "plan", "pro_pro", "currency", "usd"):   2,
		pl("billing_subscriptions", "status", "trialing", "plan", "pro_pro", "currency", "usd"): 1,
		pl("billing_subscriptions", "status", "paused", "plan", "pro_pro", "currency", "usd"):   1,
		pl("billing_subscriptions", "status", "active", "plan", "pro_pro", "currency", "eur"):   1,
		pl("billing_active_customers", "currency", "usd"):                                       3,
		pl("billing_active_customers", "currency", "eur"):                                       1,
		pl("billing_mrr", "currency", "usd", "plan", "pro_basic"):                               20,
		pl("billing_mrr", "currency", "usd", "plan", "pro_pro"):                                 137.5,
		pl("billing_mrr", "currency", "eur", "plan", "pro_pro"):                                 80,
	})

	step := func(d time.Duration, fn func()) map[string]float64 {
		f.Advance(d)
		fn()
		return s.Synced()
	}
	status := func(id, st string) { f.UpdateSubscription(id, func(x *fakepaddle.Subscription) { x.Status = st }) }
	var n1, t1 string
	// Day 2: sign-ups in both currencies (one with a forever discount), the
	// backfilled trial converting, a new trial; Paddle answers one 500.
	f.InjectFault(fake.Fault500, 1)
	step(2*24*time.Hour, func() {
		n1 = f.CreateSubscription(fakepaddle.Subscription{Items: []fakepaddle.Item{{PriceID: basic}}})
		f.CreateSubscription(fakepaddle.Subscription{DiscountID: forever25, Items: []fakepaddle.Item{{PriceID: proEUR}}})
		status(h5, "active")
		t1 = f.CreateSubscription(fakepaddle.Subscription{Status: "trialing", Items: []fakepaddle.Item{{PriceID: basic}}})
	})
	// Day 5: an upgrade, a downgrade (under a forever discount), the trial
	// canceled before paying, the yearly subscription paused; one 429.
	f.SetRetryAfter(1)
	f.InjectFault(fake.Fault429, 1)
	step(3*24*time.Hour, func() {
		f.UpdateSubscription(n1, func(x *fakepaddle.Subscription) { x.Items[0].PriceID = pro })
		f.UpdateSubscription(h2, func(x *fakepaddle.Subscription) { x.Items[0].PriceID = basic })
		status(t1, "canceled")
		status(h4, "paused")
	})
	// Day 10: the paused subscription resumes, a cancellation is
	// scheduled, a EUR payment fails.
	m = step(5*24*time.Hour, func() {
		status(h7, "active")
		f.UpdateSubscription(h1, func(x *fakepaddle.Subscription) { x.ScheduledCancel = true })
		status(h3, "past_due")
	})
	if k := pl("billing_scheduled_churn_mrr", "currency", "usd"); m[k] != 20 {
		t.Errorf("%s = %v, want 20", k, m[k])
	}
	// Day 20: the scheduled cancellation ends; Paddle cancels the past_due
	// subscription after dunning.
	step(10*24*time.Hour, func() {
		status(h1, "canceled")
		status(h3, "canceled")
	})
	// Day 25: customer A comes back.
	step(5*24*time.Hour, func() {
		f.CreateSubscription(fakepaddle.Subscription{CustomerID: cusA.CustomerID, Items: []fakepaddle.Item{{PriceID: basic}}})
	})

	// Day 27: a burst of sign-ups (24 events) read over slow pages of 3;
	// the exporter is killed mid-sync and restarted.
	f.Advance(2 * 24 * time.Hour)
	f.SetLatency(250 * time.Millisecond)
	t0 := time.Now()
	for range 12 {
		f.CreateSubscription(fakepaddle.Subscription{Items: []fakepaddle.Item{{PriceID: basic}}})
	}
	eventPages := func() int {
		n := 0
		for _, r := range f.Requests() {
			if !r.At.Before(t0) && r.Path == "/events" && r.Status == 200 {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for eventPages() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the burst was not synced; logs:\n%s", e2e.Tail(s.Exp.Logs(), 3000))
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Exp.Kill()
	if pages := eventPages(); pages >= 8 { // 24 events, 3 a page
		t.Fatalf("the kill did not land mid-sync: %d event pages served", pages)
	}
	f.SetLatency(0)
	s.start()
	m = s.Synced()
	m = s.Synced() // a whole sync after the restart

	// Customers active at the window's start: A (h1), B (h2), C (h3, EUR),
	// D (h4). New: n1's, the EUR sign-up's, h5's (a converted trial), h7's
	// (paused before the watermark, never seen paying), the burst of 12:
	// 16. Churned: A (h1), C (h3), D (h4 paused): 3 / (4 + 16).
	// MRR movements, USD: new 20 (n1) + 50 (h5) + 50 (h7) + 240 (burst);
	// expansion 30 (n1 basic → pro); contraction 22.50 (h2 37.50 → 15);
	// churn 100 (h4 paused) + 20 (h1); reactivation 20 (A). EUR: new 30,
	// churn 80 (h3).
	// Retention follows A, B, D (USD) and C (EUR): USD (157.50 − 22.50 −
	// 120) / 157.50; EUR 0.
	want := map[string]float64{
		pl("billing_subscriptions", "status", "active", "plan", "pro_basic", "currency", "usd"): 14, // h2, A's, burst
		pl("billing_subscriptions", "status", "active", "plan", "pro_pro", "currency", "usd"):   3,  // h5, h7, n1
		pl("billing_subscriptions", "status", "paused", "plan", "pro_pro", "currency", "usd"):   1,  // h4
		pl("billing_subscriptions", "status", "active", "plan", "pro_pro", "currency", "eur"):   1,
		pl("billing_active_customers", "currency", "usd"):                                       17,
		pl("billing_active_customers", "currency", "eur"):                                       1,
		pl("billing_mrr", "currency", "usd", "plan", "pro_basic"):                               275, // 15 + 20 + 12 × 20
		pl("billing_mrr", "currency", "usd", "plan", "pro_pro"):                                 150,
		pl("billing_mrr", "currency", "eur", "plan", "pro_pro"):                                 30, // 40 × 0.75
		pl("billing_subscriptions_started_total", "plan", "pro_basic"):                          14, // n1, A's, burst
		pl("billing_subscriptions_started_total", "plan", "pro_pro"):                            3,  // EUR sign-up, h5, h7
		pl("billing_subscriptions_churned_total", "plan", "pro_basic", "reason", "voluntary"):   1,  // h1
		pl("billing_subscriptions_churned_total", "plan", "pro_pro", "reason", "voluntary"):     1,  // h3
		pl("billing_customers_churned_total"):                                                   3,
		pl("billing_trials_started_total", "plan", "pro_basic"):                                 1, // t1 (h5 began before the watermark)
		pl("billing_trials_converted_total", "plan", "pro_pro"):                                 1, // h5
		pl("billing_trials_canceled_total", "plan", "pro_basic"):                                1, // t1
		pl("billing_mrr_movements_total", "currency", "usd", "kind", "new"):                     360,
		pl("billing_mrr_movements_total", "currency", "usd", "kind", "expansion"):               30,
		pl("billing_mrr_movements_total", "currency", "usd", "kind", "contraction"):             22.5,
		pl("billing_mrr_movements_total", "currency", "usd", "kind", "churn"):                   120,
		pl("billing_mrr_movements_total", "currency", "usd", "kind", "reactivation"):            20,
		pl("billing_mrr_movements_total", "currency", "eur", "kind", "new"):                     30,
		pl("billing_mrr_movements_total", "currency", "eur", "kind", "churn"):                   80,
		pl("billing_customer_churn_ratio", "window", "30d"):                                     3.0 / 20,
		pl("billing_mrr_churn_ratio", "window", "30d", "currency", "usd"):                       (12000 + 2250) / startUSD,
		pl("billing_mrr_churn_ratio", "window", "30d", "currency", "eur"):                       8000 / startEUR,
		retention("usd", "net"):   (startUSD - 2250 - 12000) / startUSD,
		retention("usd", "gross"): (startUSD - 2250 - 12000) / startUSD,
		retention("eur", "net"):   0,
		retention("eur", "gross"): 0,
	}
	expectBilling(t, m, want)
	for _, r := range []string{"missing_field", "unknown_value", "malformed_record", "malformed_page"} {
		if v := m[pl("cx_exporter_records_rejected_total", "reason", r)]; v != 0 {
			t.Errorf("%s records rejected: %v", r, v)
		}
	}
	faults := map[int]int{}
	for _, r := range f.Requests() {
		faults[r.Status]++
	}
	if faults[500] != 1 || faults[429] != 1 {
		t.Errorf("served %d 500s and %d 429s, want one of each (retried)", faults[500], faults[429])
	}
	if logs := s.Exp.Logs(); strings.Contains(logs, fakepaddle.DefaultAPIKey) {
		t.Error("the API key appears in the logs")
	}
	if t.Failed() {
		t.Logf("logs:\n%s", e2e.Tail(s.Exp.Logs(), 4000))
	}
}
