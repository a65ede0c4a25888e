package billing

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cx-exporter/cx-exporter/internal/metricstest"
)

// memRecords is an in-memory Records for tests and benchmarks.
type memRecords map[string][]byte

func (m memRecords) Get(id string) []byte          { return m[id] }
func (m memRecords) Put(id string, v []byte) error { m[id] = v; return nil }

// each iterates the records as the state store's ForEach does.
func (m memRecords) each(fn func(id string, v []byte) error) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := fn(k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

func applyAll(t testing.TB, tr *Tracker, rec Records, now time.Time, subs ...Subscription) {
	t.Helper()
	b := tr.Begin(now)
	if err := b.ApplyAll(rec, subs, func(s *Subscription, err *InvalidError) { t.Fatalf("rejected %s: %v", s.ID, err) }); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Aggregates(); err != nil {
		t.Fatal(err)
	}
	tr.Publish(b)
}

var (
	scrape = metricstest.Samples
	expect = metricstest.Expect
)

func TestCollectorExposition(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm, MaxLabelValues: 50})
	rec := memRecords{}
	now := wm.Add(time.Hour)
	applyAll(t, tr, rec, now,
		sb("old", "c0", -30*24*time.Hour, cancelAtPeriodEnd), // backfill: gauges only
		sb("new", "c1", time.Minute, plan("max"), unit(25000)),
		sb("trial", "c2", time.Minute, status(StatusTrialing)),
		sb("yen", "c3", time.Minute, plan("max"), currency("jpy"), unit(4980)),
	)
	applyAll(t, tr, rec, now.Add(time.Hour),
		sb("yen", "c3", time.Minute, plan("max"), currency("jpy"), unit(4980), status(StatusCanceled), at(2*time.Hour)),
	)
	c := tr.Collector("stripe", func() time.Time { return now.Add(3 * time.Hour) })
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	want := `
# HELP billing_active_customers Customers with a paying (active or past_due, MRR above zero) subscription in the currency; a customer paying in two currencies counts in each.
# TYPE billing_active_customers gauge
billing_active_customers{currency="jpy",source="stripe"} 0
billing_active_customers{currency="usd",source="stripe"} 2
# HELP billing_customer_churn_ratio Customers churned in the window / (customers active at its start + customers paying for the first time in it).
# TYPE billing_customer_churn_ratio gauge
billing_customer_churn_ratio{source="stripe",window="30d"} 0.3333333333333333
# HELP billing_customers_churned_total Active customers that lost their last paying subscription.
# TYPE billing_customers_churned_total counter
billing_customers_churned_total{source="stripe"} 1
# HELP billing_mrr Monthly recurring revenue, major units of the currency.
# TYPE billing_mrr gauge
billing_mrr{currency="jpy",plan="max",source="stripe"} 0
billing_mrr{currency="usd",plan="max",source="stripe"} 250
billing_mrr{currency="usd",plan="pro",source="stripe"} 100
# HELP billing_mrr_churn_ratio Churn and contraction MRR in the window / MRR at its start.
# TYPE billing_mrr_churn_ratio gauge
billing_mrr_churn_ratio{currency="jpy",source="stripe",window="30d"} 0
billing_mrr_churn_ratio{currency="usd",source="stripe",window="30d"} 0
# HELP billing_mrr_movements_total MRR moved, major units of the currency, always positive.
# TYPE billing_mrr_movements_total counter
billing_mrr_movements_total{currency="jpy",kind="churn",source="stripe"} 4980
billing_mrr_movements_total{currency="jpy",kind="contraction",source="stripe"} 0
billing_mrr_movements_total{currency="jpy",kind="expansion",source="stripe"} 0
billing_mrr_movements_total{currency="jpy",kind="new",source="stripe"} 4980
billing_mrr_movements_total{currency="jpy",kind="reactivation",source="stripe"} 0
billing_mrr_movements_total{currency="usd",kind="churn",source="stripe"} 0
billing_mrr_movements_total{currency="usd",kind="contraction",source="stripe"} 0
billing_mrr_movements_total{currency="usd",kind="expansion",source="stripe"} 0
billing_mrr_movements_total{currency="usd",kind="new",source="stripe"} 250
billing_mrr_movements_total{currency="usd",kind="reactivation",source="stripe"} 0
# HELP billing_revenue_retention_ratio (MRR at the window's start of the customers active then + their expansion (net only) - contraction - churn in it) / that MRR.
# TYPE billing_revenue_retention_ratio gauge
billing_revenue_retention_ratio{currency="usd",kind="gross",source="stripe",window="30d"} 1
billing_revenue_retention_ratio{currency="usd",kind="net",source="stripe",window="30d"} 1
# HELP billing_scheduled_churn_mrr MRR of paying subscriptions set to cancel at period end, major units.
# TYPE billing_scheduled_churn_mrr gauge
billing_scheduled_churn_mrr{currency="jpy",source="stripe"} 0
billing_scheduled_churn_mrr{currency="usd",source="stripe"} 100
# HELP billing_subscriptions Subscriptions now, not counting canceled or ended ones.
# TYPE billing_subscriptions gauge
billing_subscriptions{currency="jpy",plan="max",source="stripe",status="active"} 0
billing_subscriptions{currency="jpy",plan="max",source="stripe",status="incomplete"} 0
billing_subscriptions{currency="jpy",plan="max",source="stripe",status="past_due"} 0
billing_subscriptions{currency="jpy",plan="max",source="stripe",status="paused"} 0
billing_subscriptions{currency="jpy",plan="max",source="stripe",status="trialing"} 0
billing_subscriptions{currency="jpy",plan="max",source="stripe",status="unpaid"} 0
billing_subscriptions{currency="usd",plan="max",source="stripe",status="active"} 1
billing_subscriptions{currency="usd",plan="max",source="stripe",status="incomplete"} 0
billing_subscriptions{currency="usd",plan="max",source="stripe",status="past_due"} 0
billing_subscriptions{currency="usd",plan="max",source="stripe",status="paused"} 0
billing_subscriptions{currency="usd",plan="max",source="stripe",status="trialing"} 0
billing_subscriptions{currency="usd",plan="max",source="stripe",status="unpaid"} 0
billing_subscriptions{currency="usd",plan="pro",source="stripe",status="active"} 1
billing_subscriptions{currency="usd",plan="pro",source="stripe",status="incomplete"} 0
billing_subscriptions{currency="usd",plan="pro",source="stripe",status="past_due"} 0
billing_subscriptions{currency="usd",plan="pro",source="stripe",status="paused"} 0
billing_subscriptions{currency="usd",plan="pro",source="stripe",status="trialing"} 1
billing_subscriptions{currency="usd",plan="pro",source="stripe",status="unpaid"} 0
# HELP billing_subscriptions_churned_total Paying subscriptions that were canceled, ended or became unpaid.
# TYPE billing_subscriptions_churned_total counter
billing_subscriptions_churned_total{plan="max",reason="involuntary",source="stripe"} 0
billing_subscriptions_churned_total{plan="max",reason="voluntary",source="stripe"} 1
billing_subscriptions_churned_total{plan="pro",reason="involuntary",source="stripe"} 0
billing_subscriptions_churned_total{plan="pro",reason="voluntary",source="stripe"} 0
# HELP billing_subscriptions_started_total Subscriptions that became paying for the first time.
# TYPE billing_subscriptions_started_total counter
billing_subscriptions_started_total{plan="max",source="stripe"} 2
billing_subscriptions_started_total{plan="pro",source="stripe"} 0
# HELP billing_trials_canceled_total Trials that ended without paying.
# TYPE billing_trials_canceled_total counter
billing_trials_canceled_total{plan="max",source="stripe"} 0
billing_trials_canceled_total{plan="pro",source="stripe"} 0
# HELP billing_trials_converted_total Trials whose first paid period began.
# TYPE billing_trials_converted_total counter
billing_trials_converted_total{plan="max",source="stripe"} 0
billing_trials_converted_total{plan="pro",source="stripe"} 0
# HELP billing_trials_started_total Trials begun by subscriptions that never paid.
# TYPE billing_trials_started_total counter
billing_trials_started_total{plan="max",source="stripe"} 0
billing_trials_started_total{plan="pro",source="stripe"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// TestStripeGlossaryExample is the worked example of Stripe's "Billing
// metric definitions" (docs.stripe.com/billing/subscriptions/analytics/glossary):
// 100 subscribers on Plan A at 100 USD a month and 50 on Plan B at 600 USD a
// year give MRR = 12,500 USD. (The page's formula writes 800 USD/12 for
// Plan B, a typo: with 800 the total would be 13,333.33; 600/12 = 50 is
// what adds up to its 12,500.)
func TestStripeGlossaryExample(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	rec := memRecords{}
	var subs []Subscription
	for i := range 100 {
		subs = append(subs, sb(fmt.Sprintf("a%d", i), fmt.Sprintf("ca%d", i), time.Minute, plan("Plan A")))
	}
	for i := range 50 {
		subs = append(subs, sb(fmt.Sprintf("b%d", i), fmt.Sprintf("cb%d", i), time.Minute, plan("Plan B"),
			withItems(item(60000, 1, "year", 1))))
	}
	applyAll(t, tr, rec, wm.Add(time.Hour), subs...)
	got := scrape(t, tr.Collector("stripe", func() time.Time { return wm.Add(time.Hour) }))
	expect(t, got, map[string]float64{
		`billing_mrr{currency="usd",plan="Plan A"}`:                           10000,
		`billing_mrr{currency="usd",plan="Plan B"}`:                           2500,
		`billing_active_customers{currency="usd"}`:                            150,
		`billing_mrr_movements_total{currency="usd",kind="new"}`:              12500,
		`billing_subscriptions_started_total{plan="Plan A"}`:                  100,
		`billing_subscriptions_started_total{plan="Plan B"}`:                  50,
		`billing_subscriptions{currency="usd",plan="Plan B",status="active"}`: 50,
	})
	if total := got[`billing_mrr{currency="usd",plan="Plan A"}`] + got[`billing_mrr{currency="usd",plan="Plan B"}`]; total != 12500 {
		t.Errorf("MRR = %v USD, want 12,500", total)
	}
}

func TestScheduledChurn(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	rec := memRecords{}
	c := tr.Collector("stripe", func() time.Time { return wm.Add(time.Hour) })
	steps := []struct {
		s         Subscription
		scheduled float64
		churned   float64
		mrr       float64
	}{
		{sb("s1", "c1", time.Minute), 0, 0, 100},
		{sb("s1", "c1", time.Minute, cancelAtPeriodEnd, at(time.Hour)), 100, 0, 100},
		{sb("s1", "c1", time.Minute, cancelAtPeriodEnd, qty(2), at(2*time.Hour)), 200, 0, 200},
		{sb("s1", "c1", time.Minute, cancelAtPeriodEnd, qty(2), status(StatusPastDue), at(3*time.Hour)), 200, 0, 200},
		{sb("s1", "c1", time.Minute, cancelAtPeriodEnd, qty(2), status(StatusEnded), at(4*time.Hour)), 0, 1, 0},
	}
	for i, st := range steps {
		applyAll(t, tr, rec, wm.Add(time.Hour), st.s)
		got := scrape(t, c)
		if got[`billing_scheduled_churn_mrr{currency="usd"}`] != st.scheduled ||
			got[`billing_subscriptions_churned_total{plan="pro",reason="voluntary"}`] != st.churned ||
			got[`billing_mrr{currency="usd",plan="pro"}`] != st.mrr {
			t.Errorf("step %d: scheduled %v churned %v mrr %v; want %v %v %v", i,
				got[`billing_scheduled_churn_mrr{currency="usd"}`], got[`billing_subscriptions_churned_total{plan="pro",reason="voluntary"}`],
				got[`billing_mrr{currency="usd",plan="pro"}`], st.scheduled, st.churned, st.mrr)
		}
	}
}

func TestSeveralCurrenciesNeverSummed(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	rec := memRecords{}
	applyAll(t, tr, rec, wm.Add(time.Hour),
		sb("u", "c1", time.Minute),
		sb("e", "c1", time.Minute, currency("eur"), unit(9000)),
		sb("j", "c2", time.Minute, currency("jpy"), unit(1500)),
	)
	got := scrape(t, tr.Collector("stripe", func() time.Time { return wm.Add(time.Hour) }))
	expect(t, got, map[string]float64{
		`billing_mrr{currency="usd",plan="pro"}`:                 100,
		`billing_mrr{currency="eur",plan="pro"}`:                 90,
		`billing_mrr{currency="jpy",plan="pro"}`:                 1500,
		`billing_mrr_movements_total{currency="usd",kind="new"}`: 100,
		// c1 was already active when its eur subscription came
		`billing_mrr_movements_total{currency="eur",kind="expansion"}`: 90,
		`billing_mrr_movements_total{currency="jpy",kind="new"}`:       1500,
		`billing_active_customers{currency="usd"}`:                     1,
		`billing_active_customers{currency="eur"}`:                     1, // c1 counts in both
		`billing_active_customers{currency="jpy"}`:                     1,
	})
	for k := range got {
		if strings.Contains(k, "billing_mrr{") && !strings.Contains(k, "currency=") {
			t.Errorf("series without currency: %s", k)
		}
	}
}

func TestWatermarkBackfill(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	rec := memRecords{}
	// The first sync: everything that exists was created before the watermark.
	applyAll(t, tr, rec, wm,
		sb("a", "c1", -100*24*time.Hour, at(-24*time.Hour)),
		sb("b", "c2", -50*24*time.Hour, status(StatusPastDue), unit(5000), at(-time.Hour)),
		sb("c", "c3", -40*24*time.Hour, status(StatusCanceled), at(-30*24*time.Hour)),
		sb("d", "c4", -2*24*time.Hour, status(StatusTrialing)),
		sb("e", "c5", -10*24*time.Hour, status(StatusUnpaid), reason(ReasonInvoluntary)),
	)
	c := tr.Collector("stripe", func() time.Time { return wm.Add(time.Hour) })
	got := scrape(t, c)
	expect(t, got, map[string]float64{
		`billing_active_customers{currency="usd"}`:                           2,
		`billing_mrr{currency="usd",plan="pro"}`:                             150,
		`billing_subscriptions{currency="usd",plan="pro",status="active"}`:   1,
		`billing_subscriptions{currency="usd",plan="pro",status="past_due"}`: 1,
		`billing_subscriptions{currency="usd",plan="pro",status="trialing"}`: 1,
		`billing_subscriptions{currency="usd",plan="pro",status="unpaid"}`:   1,
		`billing_subscriptions_started_total{plan="pro"}`:                    0,
		`billing_subscriptions_churned_total{plan="pro",reason="voluntary"}`: 0,
		`billing_customers_churned_total{}`:                                  0,
		`billing_mrr_movements_total{currency="usd",kind="new"}`:             0,
		`billing_customer_churn_ratio{window="30d"}`:                         0,
	})
	// Afterwards, changes of backfilled subscriptions count, and new ones do.
	applyAll(t, tr, rec, wm.Add(24*time.Hour),
		sb("a", "c1", -100*24*time.Hour, status(StatusCanceled), at(24*time.Hour)),
		sb("d", "c4", -2*24*time.Hour, at(24*time.Hour)),
		sb("e", "c5", -10*24*time.Hour, at(24*time.Hour)),
		sb("f", "c6", time.Hour, plan("max")),
		// a subscription first seen later but created before the watermark is still backfill
		sb("g", "c7", -time.Hour, plan("max")),
	)
	got = scrape(t, tr.Collector("stripe", func() time.Time { return wm.Add(25 * time.Hour) }))
	expect(t, got, map[string]float64{
		`billing_active_customers{currency="usd"}`:                           5,
		`billing_subscriptions_started_total{plan="pro"}`:                    1, // d, the trial
		`billing_subscriptions_started_total{plan="max"}`:                    1, // f
		`billing_subscriptions_churned_total{plan="pro",reason="voluntary"}`: 1, // a
		`billing_customers_churned_total{}`:                                  1,
		`billing_mrr_movements_total{currency="usd",kind="new"}`:             200, // d and f
		`billing_mrr_movements_total{currency="usd",kind="reactivation"}`:    100, // e paid again
		`billing_mrr_movements_total{currency="usd",kind="churn"}`:           100, // a
		`billing_mrr{currency="usd",plan="max"}`:                             200, // f and g
		// 1 churned of the 2 active at the window's start, the first
		// sync's day (the oldest available): c1 and c2, plus the 2 new
		// since (c4's converted trial, c6; c5 came back, c7 is backfill)
		`billing_customer_churn_ratio{window="30d"}`: 1.0 / 4,
		`billing_trials_converted_total{plan="pro"}`: 1, // d
		`billing_trials_started_total{plan="pro"}`:   0, // d began before the watermark
	})
}

func TestReloadKeepsEverything(t *testing.T) {
	cfg := Config{Watermark: wm, MaxLabelValues: 2}
	tr := NewTracker(cfg)
	rec := memRecords{}
	applyAll(t, tr, rec, wm.Add(time.Hour),
		sb("a", "c1", -time.Hour, plan("p1")),
		sb("b", "c2", time.Minute, plan("p2"), cancelAtPeriodEnd),
		sb("c", "c3", time.Minute, plan("p3"), currency("eur")), // over the cap: "other"
		sb("d", "c3", time.Minute, plan("p1"), status(StatusTrialing)),
	)
	b := tr.Begin(wm.Add(2 * time.Hour))
	if err := b.ApplyAll(rec, []Subscription{sb("b", "c2", time.Minute, plan("p2"), status(StatusCanceled), at(2*time.Hour))},
		func(s *Subscription, err *InvalidError) { t.Fatal(err) }); err != nil {
		t.Fatal(err)
	}
	agg, err := b.Aggregates()
	if err != nil {
		t.Fatal(err)
	}
	tr.Publish(b)
	now := func() time.Time { return wm.Add(3 * time.Hour) }
	before := scrape(t, tr.Collector("stripe", now))
	if before[`billing_mrr{currency="eur",plan="other"}`] != 100 {
		t.Errorf("capped plan: %v", before)
	}
	re := NewTracker(cfg)
	if err := re.Load(agg, rec.each); err != nil {
		t.Fatal(err)
	}
	after := scrape(t, re.Collector("stripe", now))
	if !maps.Equal(before, after) {
		t.Errorf("after reload\n got %v\nwant %v", after, before)
	}
	if re.ActiveCustomers() != 2 {
		t.Errorf("active customers %d", re.ActiveCustomers())
	}
	// A new plan after the reload is still over the cap.
	applyAll(t, re, rec, wm.Add(4*time.Hour), sb("e", "c4", time.Minute, plan("p4")))
	if got := scrape(t, re.Collector("stripe", now)); got[`billing_mrr{currency="usd",plan="other"}`] != 100 {
		t.Errorf("capped plan after reload: %v", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	if err := tr.Load([]byte("{"), memRecords{}.each); err == nil {
		t.Error("bad aggregates loaded")
	}
	if err := tr.Load(nil, memRecords{"sub/x": {9}}.each); err == nil {
		t.Error("bad subscription state loaded")
	}
	if err := tr.Load(nil, memRecords{"cus/x": {9}}.each); err == nil {
		t.Error("bad customer state loaded")
	}
	if err := tr.Load([]byte(`{"plans":{"x":null},"movements":{"usd":null},"history":[{"day":3},{"day":1}]}`),
		memRecords{"cursor": []byte("whatever")}.each); err != nil {
		t.Fatal(err)
	}
	applyAll(t, tr, memRecords{}, wm, sb("a", "c1", time.Minute, plan("x")))
	scrape(t, tr.Collector("stripe", func() time.Time { return wm }))
}

func TestApplyAllRejects(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	rec := memRecords{}
	b := tr.Begin(wm)
	var rejected []string
	err := b.ApplyAll(rec, []Subscription{
		sb("ok", "c1", time.Minute),
		sb("bad", "c2", time.Minute, func(s *Subscription) { s.Items[0].Interval = "fortnight" }),
		sb("", "c3", time.Minute),
	}, func(s *Subscription, err *InvalidError) { rejected = append(rejected, s.ID+":"+err.Reason) })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"bad:unknown_value", ":missing_field"}; !slices.Equal(rejected, want) {
		t.Errorf("rejected %v, want %v", rejected, want)
	}
	if _, ok := rec["sub/bad"]; ok || len(rec) != 2 {
		t.Errorf("records %v", slices.Sorted(maps.Keys(rec)))
	}
	tr.Publish(b)
	if tr.ActiveCustomers() != 1 {
		t.Errorf("active %d", tr.ActiveCustomers())
	}
}

// failingRecords fails every Put.
type failingRecords struct{ memRecords }

func (failingRecords) Put(string, []byte) error { return fmt.Errorf("disk full") }

func TestApplyAllStorageError(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	b := tr.Begin(wm)
	err := b.ApplyAll(failingRecords{memRecords{}}, []Subscription{sb("a", "c1", time.Minute)},
		func(*Subscription, *InvalidError) { t.Fatal("rejected") })
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v", err)
	}
}

func TestInvalidUTF8PlanDoesNotBreakScrapes(t *testing.T) {
	tr := NewTracker(Config{Watermark: wm})
	applyAll(t, tr, memRecords{}, wm, sb("a", "c1", time.Minute, plan("pro\xff")))
	got := scrape(t, tr.Collector("stripe", func() time.Time { return wm }))
	if got["billing_mrr{currency=\"usd\",plan=\"pro\uFFFD\"}"] != 100 {
		t.Errorf("got %v", got)
	}
}
