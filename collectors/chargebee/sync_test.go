package chargebee

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakechargebee "github.com/cx-exporter/cx-exporter/internal/fake/chargebee"
	"github.com/cx-exporter/cx-exporter/internal/metricstest"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

const testKey = "test_cbkey_fixture_0123456789"

// env is a fake Chargebee site and a state directory that collectors are
// built on, as the exporter does at each start.
type env struct {
	t         *testing.T
	cb        *fakechargebee.Server
	dir       string
	store     *state.Store
	watermark time.Time
	metrics   *upstream.Metrics
	reg       *prometheus.Registry

	mu      sync.Mutex
	rejects []string // "id reason"
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cb := fakechargebee.NewServer(fakechargebee.Options{APIKey: testKey, Start: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)})
	t.Cleanup(cb.Close)
	e := &env{t: t, cb: cb, dir: t.TempDir(), reg: prometheus.NewRegistry()}
	e.metrics = upstream.NewMetrics(e.reg)
	e.watermark = cb.Now().Add(-time.Hour)
	e.open()
	t.Cleanup(func() {
		if e.store != nil {
			e.store.Close()
		}
	})
	return e
}

func (e *env) open() {
	e.t.Helper()
	s, err := state.Open(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = s
}

// restart closes and reopens the state store, as a new process would.
func (e *env) restart() {
	e.t.Helper()
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

// collector builds a collector and a tracker restored from the store.
func (e *env) collector(mod func(o *Options)) (*Syncer, *billing.Tracker) {
	e.t.Helper()
	src := e.store.Source("chargebee")
	tr := billing.NewTracker(billing.Config{Watermark: e.watermark})
	err := src.View(func(tx *state.Tx) error {
		return tr.Load(tx.Get(state.KeyAggregates), tx.Records().ForEach)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	o := Options{
		Deps: source.Deps{Name: "chargebee", Client: upstream.Options{Metrics: e.metrics, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}, State: src, Now: e.cb.Now, Reject: func(id, reason string, err error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.rejects = append(e.rejects, id+" "+reason)
		}},
		BaseURL: e.cb.URL,
		APIKey:  testKey,
		Tracker: tr,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, tr
}

func (e *env) cursor() Cursor {
	e.t.Helper()
	var c Cursor
	err := e.store.Source("chargebee").View(func(tx *state.Tx) error {
		return json.Unmarshal(tx.Get(state.KeyCursor), &c)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) rejected() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.rejects...)
}

// scrape renders the tracker's metrics as "name{labels}" → value, without
// the source label.
func scrape(t *testing.T, tr *billing.Tracker, now time.Time) map[string]float64 {
	t.Helper()
	c := tr.Collector("chargebee", func() time.Time { return now })
	return metricstest.Samples(t, c)
}

// sum adds the samples of metric whose labels contain every filter.
func sum(m map[string]float64, metric string, filters ...string) float64 {
	var v float64
	for k, x := range m {
		if !strings.HasPrefix(k, metric+"{") {
			continue
		}
		ok := true
		for _, f := range filters {
			ok = ok && strings.Contains(k, f)
		}
		if ok {
			v += x
		}
	}
	return v
}

var expect = metricstest.Expect

func item(price string, unit int64) []fakechargebee.Item {
	return []fakechargebee.Item{{ItemPriceID: price, Quantity: 1, UnitPrice: fakechargebee.Int64(unit)}}
}

// activeSub is a paying monthly subscription with Chargebee's mrr.
func activeSub(id, customer string, mrr int64) fakechargebee.Subscription {
	return fakechargebee.Subscription{ID: id, CustomerID: customer, Status: "active", MRR: fakechargebee.Int64(mrr),
		Items: item("basic-USD-Monthly", mrr)}
}

func TestSyncStatusesThroughEngine(t *testing.T) {
	e := newEnv(t)
	// Backfill: created before the watermark, so gauges only.
	e.cb.Put(fakechargebee.Subscription{ID: "old", CustomerID: "c-old", Status: "active", MRR: fakechargebee.Int64(1000),
		Items: item("basic-USD-Monthly", 1000), CreatedAt: e.watermark.Add(-48 * time.Hour)})
	e.cb.Advance(time.Second)
	e.cb.Put(fakechargebee.Subscription{ID: "trial", CustomerID: "c-trial", Status: "in_trial", MRR: fakechargebee.Int64(0), Items: item("pro-USD-Monthly", 5000)})
	e.cb.Put(fakechargebee.Subscription{ID: "future", CustomerID: "c-future", Status: "future", Items: item("pro-USD-Monthly", 5000)})
	e.cb.Put(fakechargebee.Subscription{ID: "leaving", CustomerID: "c-leaving", Status: "non_renewing", MRR: fakechargebee.Int64(5000),
		Items: item("pro-USD-Monthly", 5000), CancelledAt: e.cb.Now().Add(30 * 24 * time.Hour)})
	e.cb.Put(fakechargebee.Subscription{ID: "paused", CustomerID: "c-paused", Status: "paused", MRR: fakechargebee.Int64(0), Items: item("pro-USD-Monthly", 5000)})
	// No mrr: computed from the items (EUR, yearly 12000 → 1000 a month).
	e.cb.Put(fakechargebee.Subscription{ID: "computed", CustomerID: "c-eu", Status: "active", CurrencyCode: "EUR",
		Items: []fakechargebee.Item{{ItemPriceID: "team-EUR-Yearly", Quantity: 2, UnitPrice: fakechargebee.Int64(6000), BillingPeriodUnit: "year"}}})
	e.cb.Put(fakechargebee.Subscription{ID: "odd", CustomerID: "c-odd", Status: "transferred", Items: item("pro-USD-Monthly", 5000)})
	e.cb.Put(activeSub("doomed", "c-doomed", 2000))
	e.cb.Put(activeSub("unpaid", "c-unpaid", 3000))

	c, tr := e.collector(nil)
	ctx := context.Background()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if r := e.rejected(); len(r) != 1 || r[0] != "odd unknown_value" {
		t.Errorf("rejections %v", r)
	}
	now := e.cb.Now()
	expect(t, scrape(t, tr, now), map[string]float64{
		`billing_subscriptions{currency="usd",plan="basic-USD-Monthly",status="active"}`:   3,
		`billing_subscriptions{currency="usd",plan="pro-USD-Monthly",status="active"}`:     1,
		`billing_subscriptions{currency="usd",plan="pro-USD-Monthly",status="trialing"}`:   1,
		`billing_subscriptions{currency="usd",plan="pro-USD-Monthly",status="incomplete"}`: 1,
		`billing_subscriptions{currency="usd",plan="pro-USD-Monthly",status="paused"}`:     1,
		`billing_subscriptions{currency="eur",plan="team-EUR-Yearly",status="active"}`:     1,
		`billing_mrr{currency="usd",plan="basic-USD-Monthly"}`:                             60,
		`billing_mrr{currency="usd",plan="pro-USD-Monthly"}`:                               50,
		`billing_mrr{currency="eur",plan="team-EUR-Yearly"}`:                               10,
		`billing_scheduled_churn_mrr{currency="usd"}`:                                      50,
		`billing_active_customers{currency="usd"}`:                                         4,
		`billing_active_customers{currency="eur"}`:                                         1,
		`billing_subscriptions_started_total{plan="basic-USD-Monthly"}`:                    2, // not the backfilled one
		`billing_trials_started_total{plan="pro-USD-Monthly"}`:                             1,
		`billing_mrr_movements_total{currency="usd",kind="new"}`:                           100,
	})

	// Churn: a voluntary deletion and an involuntary cancellation.
	e.cb.Advance(time.Minute)
	e.cb.Delete("doomed")
	u := activeSub("unpaid", "c-unpaid", 0)
	u.Status, u.CancelledAt, u.CancelReason = "cancelled", e.cb.Now(), "not_paid"
	e.cb.Put(u)
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	expect(t, scrape(t, tr, e.cb.Now()), map[string]float64{
		`billing_subscriptions{currency="usd",plan="basic-USD-Monthly",status="active"}`:     1,
		`billing_subscriptions_churned_total{plan="basic-USD-Monthly",reason="voluntary"}`:   1,
		`billing_subscriptions_churned_total{plan="basic-USD-Monthly",reason="involuntary"}`: 1,
		`billing_customers_churned_total{}`:                                                  2,
		`billing_mrr_movements_total{currency="usd",kind="churn"}`:                           50,
		`billing_active_customers{currency="usd"}`:                                           2,
		`billing_active_customers{currency="eur"}`:                                           1,
	})

	// Trials: the trial converts; a new one begins, then is cancelled
	// before paying.
	e.cb.Advance(time.Minute)
	e.cb.Put(fakechargebee.Subscription{ID: "trial", CustomerID: "c-trial", Status: "active", MRR: fakechargebee.Int64(5000), Items: item("pro-USD-Monthly", 5000)})
	e.cb.Put(fakechargebee.Subscription{ID: "trial2", CustomerID: "c-trial2", Status: "in_trial", MRR: fakechargebee.Int64(0), Items: item("basic-USD-Monthly", 1000)})
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	e.cb.Advance(time.Minute)
	e.cb.Put(fakechargebee.Subscription{ID: "trial2", CustomerID: "c-trial2", Status: "cancelled", MRR: fakechargebee.Int64(0), Items: item("basic-USD-Monthly", 1000),
		CancelledAt: e.cb.Now(), CancelReason: "not_paid"})
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	expect(t, scrape(t, tr, e.cb.Now()), map[string]float64{
		`billing_trials_started_total{plan="pro-USD-Monthly"}`:     1,
		`billing_trials_converted_total{plan="pro-USD-Monthly"}`:   1,
		`billing_trials_canceled_total{plan="pro-USD-Monthly"}`:    0,
		`billing_trials_started_total{plan="basic-USD-Monthly"}`:   1,
		`billing_trials_converted_total{plan="basic-USD-Monthly"}`: 0,
		`billing_trials_canceled_total{plan="basic-USD-Monthly"}`:  1,
		`billing_active_customers{currency="usd"}`:                 3,
		// a cancelled trial never paid: no subscription churn
		`billing_subscriptions_churned_total{plan="basic-USD-Monthly",reason="involuntary"}`: 1,
	})
}

// TestPagingKillAndResume stops a listing after its first page, changes
// the site, and resumes with a new collector on the reopened store: every
// subscription must count exactly once.
func TestPagingKillAndResume(t *testing.T) {
	e := newEnv(t)
	const n = 250
	for i := range n {
		e.cb.Put(activeSub(fmt.Sprintf("sub_%03d", i), fmt.Sprintf("cus_%03d", i), 1000))
		if i%7 == 0 {
			e.cb.Advance(time.Second)
		}
	}
	a, _ := e.collector(func(o *Options) { o.MaxPagesPerSync = 1 })
	if err := a.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	cur := e.cursor()
	if cur.NextOffset == "" || cur.UpdatedAfter != 0 || cur.MaxUpdatedAt == 0 {
		t.Fatalf("cursor after one page: %+v", cur)
	}
	if got := len(e.cb.Requests()); got != 1 {
		t.Fatalf("%d requests for one page", got)
	}

	// While the exporter is down: 5 subscriptions of page 1 expand, 2 of
	// page 3 are deleted, 3 are new.
	e.cb.Advance(time.Minute)
	for i := range 5 {
		e.cb.Put(activeSub(fmt.Sprintf("sub_%03d", i*10), fmt.Sprintf("cus_%03d", i*10), 2000))
	}
	e.cb.Delete("sub_230")
	e.cb.Delete("sub_240")
	for i := n; i < n+3; i++ {
		e.cb.Put(activeSub(fmt.Sprintf("sub_%03d", i), fmt.Sprintf("cus_%03d", i), 1000))
	}

	e.restart()
	e.cb.ResetRequests()
	b, tr := e.collector(nil)
	if err := b.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := e.cb.Requests()
	// 150 left of the first listing + 10 changed: two pages.
	if len(reqs) != 2 {
		t.Errorf("resume took %d requests, want 2", len(reqs))
	}
	if q, _ := url.ParseQuery(reqs[0].Query); q.Get("offset") != cur.NextOffset || q.Get("updated_at[after]") != "0" {
		t.Errorf("resume did not continue the listing: %s", reqs[0].Query)
	}
	if c := e.cursor(); c.NextOffset != "" || c.UpdatedAfter != e.cb.Now().Unix()-1 {
		t.Errorf("cursor after the listing: %+v (now %d)", c, e.cb.Now().Unix())
	}
	live := n + 3 - 2
	m := scrape(t, tr, e.cb.Now())
	expect(t, m, map[string]float64{
		`billing_subscriptions{currency="usd",plan="basic-USD-Monthly",status="active"}`:   float64(live),
		`billing_active_customers{currency="usd"}`:                                         float64(live),
		`billing_mrr{currency="usd",plan="basic-USD-Monthly"}`:                             float64(live*10 + 5*10),
		`billing_subscriptions_started_total{plan="basic-USD-Monthly"}`:                    float64(live),
		`billing_mrr_movements_total{currency="usd",kind="new"}`:                           float64(live * 10),
		`billing_mrr_movements_total{currency="usd",kind="expansion"}`:                     50,
		`billing_subscriptions_churned_total{plan="basic-USD-Monthly",reason="voluntary"}`: 0,
	})

	// A third process: nothing changed, nothing moves, one request.
	e.restart()
	e.cb.ResetRequests()
	c, tr2 := e.collector(nil)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(e.cb.Requests()); got != 1 {
		t.Errorf("idle sync took %d requests", got)
	}
	m2 := scrape(t, tr2, e.cb.Now())
	for k, v := range m {
		if m2[k] != v {
			t.Errorf("after an idle restart %s = %v, was %v", k, m2[k], v)
		}
	}
	if r := e.rejected(); len(r) != 0 {
		t.Errorf("rejections %v", r)
	}
}

// TestKilledBeforeCommit: a page fetched but never committed (the process
// died, or the page failed) is fetched again, and counts once.
func TestKilledBeforeCommit(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		e.cb.Put(activeSub(fmt.Sprintf("s%02d", i), fmt.Sprintf("c%02d", i), 500))
	}
	a, _ := e.collector(func(o *Options) {
		o.PageSize = 10
		o.Client.RetryMax = -1
	})
	if err := a.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Second listing: page 1 commits, page 2 fails for good.
	e.cb.Advance(time.Minute)
	for i := range 25 {
		e.cb.Put(activeSub(fmt.Sprintf("s%02d", i), fmt.Sprintf("c%02d", i), 700))
	}
	a2, _ := e.collector(func(o *Options) {
		o.PageSize = 10
		o.Client.RetryMax = -1
		o.MaxPagesPerSync = 1
	})
	if err := a2.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.cb.InjectFault(fakechargebee.Fault500, 1)
	a3, _ := e.collector(func(o *Options) { o.PageSize = 10; o.Client.RetryMax = -1 })
	var se *upstream.StatusError
	if err := a3.Sync(context.Background()); !errors.As(err, &se) || se.Status != 500 {
		t.Fatalf("want a 500, got %v", err)
	}
	e.restart()
	b, tr := e.collector(func(o *Options) { o.PageSize = 10 })
	if err := b.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	expect(t, scrape(t, tr, e.cb.Now()), map[string]float64{
		`billing_subscriptions{currency="usd",plan="basic-USD-Monthly",status="active"}`: 30,
		`billing_mrr{currency="usd",plan="basic-USD-Monthly"}`:                           25*7 + 5*5,
		`billing_mrr_movements_total{currency="usd",kind="expansion"}`:                   25 * 2,
		`billing_subscriptions_started_total{plan="basic-USD-Monthly"}`:                  30,
	})
}

// TestRequestsPerSync checks that syncs cost requests in proportion to the
// changes, not to the site: ceil(changes/100)+1 at most.
func TestRequestsPerSync(t *testing.T) {
	const site, changes = 3000, 150
	e := newEnv(t)
	for i := range site {
		e.cb.Put(activeSub(fmt.Sprintf("sub_%05d", i), fmt.Sprintf("cus_%05d", i), 1000))
		if i%10 == 0 {
			e.cb.Advance(time.Second)
		}
	}
	c, tr := e.collector(nil)
	ctx := context.Background()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	backfill := len(e.cb.Requests())
	if want := site/100 + 1; backfill > want {
		t.Errorf("backfill of %d took %d requests, want at most %d", site, backfill, want)
	}
	e.cb.Advance(time.Minute)
	for i := range changes {
		e.cb.Put(activeSub(fmt.Sprintf("sub_%05d", i*17%site), fmt.Sprintf("cus_%05d", i*17%site), 1500))
		if i%10 == 0 {
			e.cb.Advance(time.Second)
		}
	}
	e.cb.ResetRequests()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, want := len(e.cb.Requests()), int(math.Ceil(changes/100.0))+1
	t.Logf("site of %d: backfill %d requests; %d changes: %d requests (bound %d)", site, backfill, changes, got, want)
	if got > want {
		t.Errorf("a sync of %d changes took %d requests, want at most %d", changes, got, want)
	}
	m := scrape(t, tr, e.cb.Now())
	expect(t, m, map[string]float64{
		`billing_mrr{currency="usd",plan="basic-USD-Monthly"}`:         float64(site*10 + changes*5),
		`billing_mrr_movements_total{currency="usd",kind="expansion"}`: float64(changes * 5),
	})
	e.cb.ResetRequests()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(e.cb.Requests()); got != 1 {
		t.Errorf("an idle sync took %d requests, want 1", got)
	}
}

func TestFaultsRetried(t *testing.T) {
	for _, tc := range []struct {
		fault  fakechargebee.Fault
		reason string
	}{
		{fakechargebee.Fault429, "rate_limited"},
		{fakechargebee.Fault500, "server_error"},
		{fakechargebee.FaultTruncated, "transport"},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			e := newEnv(t)
			for i := range 25 {
				e.cb.Put(activeSub(fmt.Sprintf("s%02d", i), fmt.Sprintf("c%02d", i), 100))
			}
			e.cb.SetRetryAfter(0)
			c, tr := e.collector(func(o *Options) { o.PageSize = 10 })
			e.cb.InjectFault(tc.fault, 3)
			if err := c.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := testutil.ToFloat64(e.metrics.Retries.WithLabelValues("chargebee", tc.reason)); got != 3 {
				t.Errorf("retries{reason=%q} = %v, want 3", tc.reason, got)
			}
			if got := len(e.cb.Requests()); got != 3+3 {
				t.Errorf("%d requests, want 6", got)
			}
			expect(t, scrape(t, tr, e.cb.Now()), map[string]float64{
				`billing_subscriptions{currency="usd",plan="basic-USD-Monthly",status="active"}`: 25,
			})
			// A retried fault rejects nothing.
			if r := e.rejected(); len(r) != 0 {
				t.Errorf("rejections %v", r)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	e := newEnv(t)
	e.cb.Put(activeSub("s", "c", 100))
	e.cb.SetRetryAfter(1)
	e.cb.InjectFault(fakechargebee.Fault429, 1)
	c, _ := e.collector(nil)
	start := time.Now()
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v, before Retry-After", d)
	}
	// Without Retry-After, backoff; exhausted retries name the status and
	// Chargebee's message, never the key.
	e.cb.SetRetryAfter(-1)
	e.cb.InjectFault(fakechargebee.Fault429, -1)
	c2, _ := e.collector(func(o *Options) { o.Client.RetryMax = 2 })
	err := c2.Sync(context.Background())
	var se *upstream.StatusError
	if !errors.As(err, &se) || se.Status != 429 || !strings.Contains(err.Error(), "request count exceeding") {
		t.Errorf("want a 429 error with Chargebee's message, got %v", err)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error leaks the key: %v", err)
	}
}

func TestAuthFailure(t *testing.T) {
	e := newEnv(t)
	c, _ := e.collector(func(o *Options) { o.APIKey = "wrong_key_fixture" })
	err := c.Sync(context.Background())
	var se *upstream.StatusError
	if !errors.As(err, &se) || se.Status != 401 || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("want a 401, got %v", err)
	}
	if strings.Contains(err.Error(), "wrong_key_fixture") || strings.Contains(err.Error(), testKey) {
		t.Errorf("error leaks the key: %v", err)
	}
	if reqs := e.cb.Requests(); len(reqs) != 1 {
		t.Errorf("%d requests: a 401 is not retried", len(reqs))
	}
}

func TestRequestShape(t *testing.T) {
	e := newEnv(t)
	e.cb.Put(activeSub("s", "c", 100))
	c, _ := e.collector(func(o *Options) { o.StartTime = time.Unix(1600000000, 0) })
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := e.cb.Requests()[0]
	q, _ := url.ParseQuery(r.Query)
	if r.Path != ListPath || q.Get("limit") != "100" || q.Get("sort_by[asc]") != "updated_at" || q.Get("include_deleted") != "true" ||
		q.Get("updated_at[after]") != "1600000000" || q.Has("offset") {
		t.Errorf("request %s?%s", r.Path, r.Query)
	}
}

func TestRefusedOffsetListsAgain(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.cb.Put(activeSub(fmt.Sprintf("s%d", i), fmt.Sprintf("c%d", i), 100))
	}
	err := e.store.Source("chargebee").Update(func(tx *state.Tx) error {
		return tx.Put(state.KeyCursor, []byte(`{"updated_after":0,"next_offset":"not-an-offset","max_updated_at":5}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	c, tr := e.collector(nil)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := e.cb.Requests()[0].Status; st != 400 {
		t.Errorf("first request answered %d", st)
	}
	if n := tr.ActiveCustomers(); n != 5 {
		t.Errorf("%d active customers, want 5", n)
	}
}

func TestUnreadableCursorListsAgain(t *testing.T) {
	e := newEnv(t)
	e.cb.Put(activeSub("s", "c", 100))
	err := e.store.Source("chargebee").Update(func(tx *state.Tx) error {
		return tx.Put(state.KeyCursor, []byte("zendesk-style-cursor"))
	})
	if err != nil {
		t.Fatal(err)
	}
	c, tr := e.collector(nil)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if tr.ActiveCustomers() != 1 {
		t.Error("not listed again")
	}
}

func TestCancelledContextStopsBetweenPages(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		e.cb.Put(activeSub(fmt.Sprintf("s%02d", i), fmt.Sprintf("c%02d", i), 100))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var c *Syncer
	c, _ = e.collector(func(o *Options) {
		o.PageSize = 10
		o.Logger = nil
		o.Reject = nil
	})
	cancel()
	if err := c.Sync(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("sync on a cancelled context: %v", err)
	}
	if len(e.cb.Requests()) != 0 {
		t.Error("requests sent on a cancelled context")
	}
}

func TestNewValidates(t *testing.T) {
	e := newEnv(t)
	_, tr := e.collector(nil)
	src := e.store.Source("chargebee")
	for _, o := range []Options{
		{Site: "acme", Deps: source.Deps{State: src}, Tracker: tr},                     // no key
		{APIKey: "k", Deps: source.Deps{State: src}, Tracker: tr},                      // no site
		{Site: "Acme.evil/x", APIKey: "k", Deps: source.Deps{State: src}, Tracker: tr}, // bad site
		{BaseURL: "ftp://x", APIKey: "k", Deps: source.Deps{State: src}, Tracker: tr},  // bad URL
		{Site: "acme", APIKey: "k"},                                                    // no state
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v accepted", o)
		} else if strings.Contains(err.Error(), "k\"") {
			t.Errorf("error names the key: %v", err)
		}
	}
	if u, err := SiteURL("acme-test"); err != nil || u != "https://acme-test.chargebee.com" {
		t.Errorf("SiteURL: %q %v", u, err)
	}
	if _, err := New(Options{
		Deps:    source.Deps{State: src},
		Site:    "acme",
		APIKey:  "k",
		Tracker: tr,
	}); err != nil {
		t.Error(err)
	}
}
