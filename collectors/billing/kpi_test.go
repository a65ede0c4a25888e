package billing

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestKPIs30d scripts a small account over five weeks, with a restart in
// the middle, and checks the customer churn ratio, the revenue retention,
// the trial counters and the active customers per currency against hand
// computations. It has a trial that converts, a trial canceled before
// paying, a customer that churns and comes back (and churns again) within
// the window, a customer paying in two currencies, and a customer that
// becomes unpaid.
func TestKPIs30d(t *testing.T) {
	cfg := Config{Watermark: wm}
	tr := NewTracker(cfg)
	rec := memRecords{}
	midnight := wm.Truncate(24 * time.Hour)
	day := func(n int, h time.Duration) time.Time { return midnight.Add(time.Duration(n)*24*time.Hour + h) }
	when := func(n int) func(*Subscription) { return at(day(n, 9*time.Hour).Sub(wm)) }
	old := -400 * 24 * time.Hour
	var lastAgg []byte
	batch := func(n int, subs ...Subscription) {
		t.Helper()
		b := tr.Begin(day(n, 10*time.Hour))
		if err := b.ApplyAll(rec, subs, func(s *Subscription, err *InvalidError) { t.Fatalf("rejected %s: %v", s.ID, err) }); err != nil {
			t.Fatal(err)
		}
		var err error
		if lastAgg, err = b.Aggregates(); err != nil {
			t.Fatal(err)
		}
		tr.Publish(b)
	}
	check := func(n int, want map[string]float64) {
		t.Helper()
		got := scrape(t, tr.Collector("stripe", func() time.Time { return day(n, 23*time.Hour) }))
		expect(t, got, want)
		if r := got[`billing_customer_churn_ratio{window="30d"}`]; r < 0 || r > 1 {
			t.Errorf("day %d: customer churn ratio %v out of 0..1", n, r)
		}
	}
	retention := func(cur string, net, gross float64) map[string]float64 {
		return map[string]float64{
			fmt.Sprintf(`billing_revenue_retention_ratio{currency=%q,kind="net",window="30d"}`, cur):   net,
			fmt.Sprintf(`billing_revenue_retention_ratio{currency=%q,kind="gross",window="30d"}`, cur): gross,
		}
	}
	merge := func(ms ...map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	eur := func(s *Subscription) { currency("eur")(s); s.Items[0].UnitAmountMinor = 5000 }

	// Day 0, the first sync (backfill): A 100 usd; B 100 usd and 50 eur;
	// C 50 eur; D 200 usd. 4 active customers, 400 usd and 100 eur.
	batch(0,
		sb("a1", "A", old, at(-time.Hour)),
		sb("b1", "B", old, at(-time.Hour)),
		sb("b2", "B", old, eur, at(-time.Hour)),
		sb("c1", "C", old, eur, at(-time.Hour)),
		sb("d1", "D", old, unit(20000), at(-time.Hour)),
	)
	check(0, merge(map[string]float64{
		`billing_active_customers{currency="usd"}`:   3,
		`billing_active_customers{currency="eur"}`:   2, // B counts in both
		`billing_customer_churn_ratio{window="30d"}`: 0,
	}, retention("usd", 1, 1), retention("eur", 1, 1)))

	// Day 1: two trials begin; A cancels.
	batch(1,
		sb("t1", "T1", day(1, 8*time.Hour).Sub(wm), status(StatusTrialing)),
		sb("t2", "T2", day(1, 8*time.Hour).Sub(wm), status(StatusTrialing), plan("max")),
		sb("a1", "A", old, status(StatusCanceled), when(1)),
	)
	// Day 3: t1 converts (T1 is new), t2 is canceled before paying, B
	// expands its usd subscription by 50.
	batch(3,
		sb("t1", "T1", day(1, 8*time.Hour).Sub(wm), when(3)),
		sb("t2", "T2", day(1, 8*time.Hour).Sub(wm), status(StatusCanceled), plan("max"), when(3)),
		sb("b1", "B", old, unit(15000), when(3)),
	)
	// Day 5: A comes back at 120: a reactivation, not a new customer.
	batch(5, sb("a2", "A", day(5, 8*time.Hour).Sub(wm), unit(12000)))
	trials := map[string]float64{
		`billing_trials_started_total{plan="pro"}`:   1,
		`billing_trials_started_total{plan="max"}`:   1,
		`billing_trials_converted_total{plan="pro"}`: 1,
		`billing_trials_converted_total{plan="max"}`: 0,
		`billing_trials_canceled_total{plan="pro"}`:  0,
		`billing_trials_canceled_total{plan="max"}`:  1,
	}
	// Churned: A (active at the start) of 4 + T1 (new).
	// usd: (400 + 50 − 100) / 400 net, (400 − 100) / 400 gross.
	check(5, merge(trials, map[string]float64{
		`billing_active_customers{currency="usd"}`:                        4, // A, B, D, T1
		`billing_active_customers{currency="eur"}`:                        2,
		`billing_customer_churn_ratio{window="30d"}`:                      1.0 / 5,
		`billing_mrr_movements_total{currency="usd",kind="reactivation"}`: 120,
	}, retention("usd", 350.0/400, 300.0/400), retention("eur", 1, 1)))

	// Restart: a new tracker from the stored aggregates and states.
	before := scrape(t, tr.Collector("stripe", func() time.Time { return day(5, 23*time.Hour) }))
	tr = NewTracker(cfg)
	if err := tr.Load(lastAgg, rec.each); err != nil {
		t.Fatal(err)
	}
	if after := scrape(t, tr.Collector("stripe", func() time.Time { return day(5, 23*time.Hour) })); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("reload changed the exposition:\n%v\n%v", before, after)
	}

	// Day 7: A churns again (it came back within the window: not counted
	// again, and its 120 is not the window's start MRR); C contracts eur
	// by 20; T1 (new in the window) expands by 100.
	batch(7,
		sb("a2", "A", day(5, 8*time.Hour).Sub(wm), unit(12000), status(StatusCanceled), when(7)),
		sb("c1", "C", old, eur, unit(3000), when(7)),
		sb("t1", "T1", day(1, 8*time.Hour).Sub(wm), unit(20000), when(7)),
	)
	// Day 8: D becomes unpaid.
	batch(8, sb("d1", "D", old, unit(20000), status(StatusUnpaid), when(8)))
	// Window from day 0: churned A, D of 4 + T1. usd: (400 + 50 − 100 −
	// 200) / 400 net, (400 − 300) / 400 gross; eur (100 − 20) / 100. The
	// MRR churn ratio counts every loss: (100 + 120 + 200) / 400.
	check(8, merge(trials, map[string]float64{
		`billing_active_customers{currency="usd"}`:             2, // B, T1
		`billing_active_customers{currency="eur"}`:             2, // B, C
		`billing_customer_churn_ratio{window="30d"}`:           2.0 / 5,
		`billing_customers_churned_total{}`:                    3,
		`billing_mrr_churn_ratio{currency="usd",window="30d"}`: 420.0 / 400,
		`billing_mrr_churn_ratio{currency="eur",window="30d"}`: 20.0 / 100,
	}, retention("usd", 150.0/400, 100.0/400), retention("eur", 0.8, 0.8)))

	// Day 32: the window starts on day 2; its first recorded day is day 3:
	// B, C, D active (3), 300 usd (B 100, D 200) and 100 eur. A reactivated
	// in the window: neither its churn nor its MRR counts. T1 is new.
	// Churned: D of 3 + 1. usd: (300 + 50 − 200) / 300, (300 − 200) / 300.
	check(32, map[string]float64{
		`billing_customer_churn_ratio{window="30d"}`: 1.0 / 4,
	})
	check(32, merge(retention("usd", 150.0/300, 100.0/300), retention("eur", 0.8, 0.8)))

	// Day 36: the first recorded day is day 7: A (back since day 5), B, C,
	// D, T1 active (5), 570 usd (A 120, B 150, D 200, T1 100). Churned: A
	// and D. usd: (570 + 100 − 120 − 200) / 570, (570 − 320) / 570.
	check(36, merge(map[string]float64{
		`billing_customer_churn_ratio{window="30d"}`: 2.0 / 5,
	}, retention("usd", 350.0/570, 250.0/570), retention("eur", 0.8, 0.8)))

	// Day 40: nothing recorded in the window: no churn, no retention.
	got := scrape(t, tr.Collector("stripe", func() time.Time { return day(40, 0) }))
	if got[`billing_customer_churn_ratio{window="30d"}`] != 0 {
		t.Errorf("churn ratio with no history: %v", got[`billing_customer_churn_ratio{window="30d"}`])
	}
	for k := range got {
		if len(k) > 31 && k[:31] == "billing_revenue_retention_ratio" {
			t.Errorf("%s present with no history in the window", k)
		}
	}
}

// TestGrossRetentionFloor: a customer that expands and then churns loses
// more than it started with; gross retention stops at 0.
func TestGrossRetentionFloor(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	rec := memRecords{}
	applyAll(t, tr, rec, wm, sb("a", "c1", -time.Hour))
	applyAll(t, tr, rec, wm.Add(24*time.Hour), sb("a", "c1", -time.Hour, unit(30000), at(24*time.Hour)))
	applyAll(t, tr, rec, wm.Add(48*time.Hour), sb("a", "c1", -time.Hour, unit(30000), status(StatusCanceled), at(48*time.Hour)))
	got := scrape(t, tr.Collector("stripe", func() time.Time { return wm.Add(49 * time.Hour) }))
	expect(t, got, map[string]float64{
		`billing_revenue_retention_ratio{currency="usd",kind="net",window="30d"}`:   0, // (100 + 200 − 300) / 100
		`billing_revenue_retention_ratio{currency="usd",kind="gross",window="30d"}`: 0, // (100 − 300) / 100, floored
		`billing_customer_churn_ratio{window="30d"}`:                                1,
	})
}

// TestRatiosBounded drives random changes through a tracker for 90 days
// and checks that the customer churn ratio and the gross retention stay
// within 0..1 and the net retention at or above 0, whatever customers do.
func TestRatiosBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	tr := NewTracker(Config{Watermark: wm})
	rec := memRecords{}
	type live struct {
		s       Subscription
		version time.Duration
	}
	subs := map[string]*live{}
	next := 0
	var highest float64
	statuses := []Status{StatusActive, StatusActive, StatusTrialing, StatusPastDue, StatusCanceled, StatusUnpaid, StatusPaused}
	for d := range 90 {
		now := wm.Add(time.Duration(d) * 24 * time.Hour)
		var page []Subscription
		for range 8 {
			v := time.Duration(d)*24*time.Hour + time.Duration(len(page)+1)*time.Minute
			if len(subs) == 0 || rng.IntN(3) == 0 {
				id := fmt.Sprintf("s%d", next)
				next++
				cus := fmt.Sprintf("c%d", rng.IntN(12))
				cur := []string{"usd", "eur"}[rng.IntN(2)]
				s := sb(id, cus, v, currency(cur), unit(int64(1000*(1+rng.IntN(5)))), status(statuses[rng.IntN(4)]))
				subs[id] = &live{s: s}
				page = append(page, s)
				continue
			}
			id := fmt.Sprintf("s%d", rng.IntN(next))
			l := subs[id]
			if l == nil || !l.s.Status.Live() {
				continue
			}
			l.s.Status = statuses[rng.IntN(len(statuses))]
			l.s.Items[0].UnitAmountMinor = int64(1000 * (1 + rng.IntN(5)))
			l.s.UpdatedAt = wm.Add(v)
			page = append(page, l.s)
		}
		applyAll(t, tr, rec, now, page...)
		got := scrape(t, tr.Collector("stripe", func() time.Time { return now.Add(time.Hour) }))
		for k, v := range got {
			switch {
			case k == `billing_customer_churn_ratio{window="30d"}`:
				if v < 0 || v > 1 {
					t.Fatalf("day %d: %s = %v", d, k, v)
				}
				highest = max(highest, v)
			case len(k) > 31 && k[:31] == "billing_revenue_retention_ratio":
				gross := k[len(k)-len(`kind="gross",window="30d"}`):] == `kind="gross",window="30d"}`
				if v < 0 || (gross && v > 1) {
					t.Fatalf("day %d: %s = %v", d, k, v)
				}
			}
		}
	}
	// The walk must have churned and brought back customers for the
	// bounds to mean anything.
	got := scrape(t, tr.Collector("stripe", func() time.Time { return wm.Add(90 * 24 * time.Hour) }))
	if highest < 0.3 || got[`billing_mrr_movements_total{currency="usd",kind="reactivation"}`] == 0 {
		t.Errorf("highest churn ratio %v, usd reactivations %v: the walk did not exercise churn", highest,
			got[`billing_mrr_movements_total{currency="usd",kind="reactivation"}`])
	}
	t.Logf("highest customer churn ratio %.3f", highest)
}

// TestLateBackfill: a subscription created before the watermark but first
// seen on a later day joins the start values of that day only. A window
// that began earlier does not have it in its base, so its churn does not
// count there; a window that begins on that day does.
func TestLateBackfill(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	rec := memRecords{}
	midnight := wm.Truncate(24 * time.Hour)
	day := func(n int) time.Time { return midnight.Add(time.Duration(n)*24*time.Hour + 10*time.Hour) }
	old := -400 * 24 * time.Hour
	applyAll(t, tr, rec, day(0), sb("a", "A", old, at(-time.Hour)))
	applyAll(t, tr, rec, day(3), sb("l", "L", old, at(-time.Hour)))
	applyAll(t, tr, rec, day(4), sb("l", "L", old, status(StatusCanceled), at(day(4).Sub(wm))))
	for _, c := range []struct {
		day          int
		churn, gross float64
	}{
		{4, 0, 1},         // window from day 0: A alone, 100 usd
		{33, 1.0 / 2, .5}, // from day 3: A and L, 200 usd
	} {
		got := scrape(t, tr.Collector("stripe", func() time.Time { return day(c.day) }))
		expect(t, got, map[string]float64{
			`billing_customer_churn_ratio{window="30d"}`:                                c.churn,
			`billing_revenue_retention_ratio{currency="usd",kind="gross",window="30d"}`: c.gross,
			`billing_revenue_retention_ratio{currency="usd",kind="net",window="30d"}`:   c.gross,
		})
	}
}
