package billing

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// TestChurnRatios30d scripts six weeks of a small account, with a restart
// in the middle, and checks the 30-day ratios against hand computations.
func TestChurnRatios30d(t *testing.T) {
	cfg := Config{Watermark: wm}
	tr := NewTracker(cfg)
	rec := memRecords{}
	midnight := wm.Truncate(24 * time.Hour)
	day := func(n int, h time.Duration) time.Time { return midnight.Add(time.Duration(n)*24*time.Hour + h) }
	since := func(tm time.Time) time.Duration { return tm.Sub(wm) }
	usd := func(i int, mut ...func(*Subscription)) Subscription {
		return sb(fmt.Sprintf("u%d", i), fmt.Sprintf("c%d", i), -400*24*time.Hour, mut...)
	}
	eur := func(i int, mut ...func(*Subscription)) Subscription {
		return sb(fmt.Sprintf("e%d", i), fmt.Sprintf("e%d", i), -400*24*time.Hour, append([]func(*Subscription){currency("eur"), unit(5000)}, mut...)...)
	}
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
	check := func(n int, customers, usdRatio, eurRatio float64) {
		t.Helper()
		got := scrape(t, tr.Collector("stripe", func() time.Time { return day(n, 23*time.Hour) }))
		expect(t, got, map[string]float64{
			`billing_customer_churn_ratio{window="30d"}`:           customers,
			`billing_mrr_churn_ratio{currency="usd",window="30d"}`: usdRatio,
			`billing_mrr_churn_ratio{currency="eur",window="30d"}`: eurRatio,
		})
	}

	// Day 0, the first sync: 10 usd customers at 100, 2 eur ones at 50.
	var first []Subscription
	for i := range 10 {
		first = append(first, usd(i, at(-time.Hour)))
	}
	first = append(first, eur(0, at(-time.Hour)), eur(1, at(-time.Hour)))
	batch(0, first...)
	check(0, 0, 0, 0)

	// Day 1: c0 cancels, c1 downgrades to 60.
	batch(1, usd(0, status(StatusCanceled), at(since(day(1, 9*time.Hour)))), usd(1, unit(6000), at(since(day(1, 9*time.Hour)))))
	check(1, 1.0/12, 14000.0/100000, 0)
	check(3, 1.0/12, 14000.0/100000, 0) // no batch on day 3: same window start

	// Day 5: a new customer at 200 (the denominator grows by one); e0
	// cancels.
	batch(5, sb("n0", "n0", since(day(5, 8*time.Hour)), unit(20000)), eur(0, status(StatusCanceled), at(since(day(5, 9*time.Hour)))))
	check(5, 2.0/13, 14000.0/100000, 0.5)

	// Restart: a new tracker from the stored aggregates and states.
	before := scrape(t, tr.Collector("stripe", func() time.Time { return day(5, 23*time.Hour) }))
	tr = NewTracker(cfg)
	if err := tr.Load(lastAgg, rec.each); err != nil {
		t.Fatal(err)
	}
	check(5, 2.0/13, 14000.0/100000, 0.5)
	if after := scrape(t, tr.Collector("stripe", func() time.Time { return day(5, 23*time.Hour) })); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("reload changed the exposition:\n%v\n%v", before, after)
	}

	// Day 10: c2 becomes unpaid.
	batch(10, usd(2, status(StatusUnpaid), at(since(day(10, 9*time.Hour)))))
	check(10, 3.0/13, 24000.0/100000, 0.5)
	check(30, 3.0/13, 24000.0/100000, 0.5) // window starts on day 0
	check(31, 3.0/13, 24000.0/100000, 0.5) // starts on day 1: its start values are day 0's end
	// Day 32: the window starts on day 2; the first recorded day in it is
	// day 5: 11 active customers, 86000 usd and 10000 eur at its start,
	// and n0 new in it.
	check(32, 2.0/12, 10000.0/86000, 0.5)
	// Day 36: the first recorded day in the window is day 10: 11 active
	// (e0 gone, n0 came), 106000 usd, 5000 eur.
	check(36, 1.0/11, 10000.0/106000, 0)
	// Day 41: nothing recorded in the window.
	check(41, 0, 0, 0)

	// Day 41, c4 cancels: the old days are forgotten.
	batch(41, usd(4, status(StatusCanceled), at(since(day(41, 9*time.Hour)))))
	check(41, 1.0/10, 10000.0/96000, 0)
	var a Aggregates
	if err := json.Unmarshal(lastAgg, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.History) != 1 || a.History[0].Day != dayOf(day(41, 0)) || a.History[0].ActiveCustomers != 10 || a.CustomersChurned != 4 {
		t.Errorf("history %+v, churned %d", a.History, a.CustomersChurned)
	}

	// Days 42..75, a batch every day: at most 31 days are kept.
	for n := 42; n <= 75; n++ {
		batch(n)
	}
	if err := json.Unmarshal(lastAgg, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.History) != historyDays || a.History[0].Day != dayOf(day(75-windowDays, 0)) {
		t.Errorf("history of %d days from day %d", len(a.History), a.History[0].Day-dayOf(midnight))
	}
	check(75, 0, 0, 0)
}

// TestRatioClockBackwards: a batch dated before the latest recorded day
// counts into the latest day rather than reordering the history.
func TestRatioClockBackwards(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	rec := memRecords{}
	applyAll(t, tr, rec, wm.Add(48*time.Hour), sb("a", "c1", time.Minute), sb("b", "c2", time.Minute))
	applyAll(t, tr, rec, wm.Add(24*time.Hour), sb("a", "c1", time.Minute, status(StatusCanceled), at(time.Hour)))
	b := tr.Begin(wm.Add(24 * time.Hour))
	if len(b.agg.History) != 1 || b.agg.History[0].CustomersChurned != 1 {
		t.Errorf("history %+v", b.agg.History)
	}
}

func TestDayOf(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(86399, 0), 0},
		{time.Unix(86400, 0), 1},
		{time.Unix(-1, 0), -1},
		{time.Date(2026, 11, 2, 23, 59, 59, 0, time.FixedZone("x", -5*3600)), dayOf(time.Date(2026, 11, 3, 4, 59, 59, 0, time.UTC))},
	} {
		if got := dayOf(c.t); got != c.want {
			t.Errorf("dayOf(%v) = %d, want %d", c.t, got, c.want)
		}
	}
}
