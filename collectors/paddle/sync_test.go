package paddle

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/fake"
	fakepaddle "github.com/cx-exporter/cx-exporter/internal/fake/paddle"
	"github.com/cx-exporter/cx-exporter/internal/metricstest"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// env is a fake Paddle account and a state directory that collectors are
// built on, as the exporter does at each start.
type env struct {
	t         *testing.T
	pd        *fakepaddle.Server
	dir       string
	store     *state.Store
	watermark time.Time
	metrics   *upstream.Metrics

	mu      sync.Mutex
	rejects []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pd := fakepaddle.NewServer(fakepaddle.Options{RateLimitOff: true})
	t.Cleanup(pd.Close)
	e := &env{t: t, pd: pd, dir: t.TempDir()}
	e.metrics = upstream.NewMetrics(prometheus.NewRegistry())
	e.watermark = pd.Now().Add(-time.Hour)
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

func (e *env) restart() {
	e.t.Helper()
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

func (e *env) collector(mod func(o *Options)) (*Syncer, *billing.Tracker) {
	e.t.Helper()
	src := e.store.Source("paddle")
	tr := billing.NewTracker(billing.Config{Watermark: e.watermark})
	if err := src.View(func(tx *state.Tx) error { return tr.Load(tx.Get(state.KeyAggregates), tx.Records().ForEach) }); err != nil {
		e.t.Fatal(err)
	}
	o := Options{
		Deps: source.Deps{Name: "paddle", Client: upstream.Options{Metrics: e.metrics, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond},
			State: src, Now: e.pd.Now, Reject: func(id, reason string, err error) {
				e.mu.Lock()
				defer e.mu.Unlock()
				e.rejects = append(e.rejects, id+" "+reason)
			}},
		BaseURL: e.pd.URL, APIKey: fakepaddle.DefaultAPIKey, Tracker: tr,
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

func (e *env) rejected() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.rejects...)
}

func scrape(t *testing.T, tr *billing.Tracker, now time.Time) map[string]float64 {
	t.Helper()
	c := tr.Collector("paddle", func() time.Time { return now })
	return metricstest.Samples(t, c)
}

var expect = metricstest.Expect

// TestSyncMapsThroughEngine lists a backfill, then follows events: a new
// subscription, an upgrade, a pause, a cancellation; yearly and quarterly
// prices are normalised and a recurring discount reduces MRR.
func TestSyncMapsThroughEngine(t *testing.T) {
	e := newEnv(t)
	past := e.pd.Now().Add(-48 * time.Hour)
	basic := e.pd.CreatePrice(fakepaddle.Price{ProductID: "pro_basic", Currency: "USD", Amount: 2000})
	pro := e.pd.CreatePrice(fakepaddle.Price{ProductID: "pro_pro", Currency: "USD", Amount: 5000})
	yearly := e.pd.CreatePrice(fakepaddle.Price{ProductID: "pro_pro", Currency: "USD", Amount: 120000, Interval: "year"})
	quarterly := e.pd.CreatePrice(fakepaddle.Price{ProductID: "pro_basic", Currency: "EUR", Amount: 9000, Frequency: 3})
	forever := e.pd.CreateDiscount(fakepaddle.Discount{Type: "percentage", Amount: "25", Recur: true})
	once := e.pd.CreateDiscount(fakepaddle.Discount{Type: "percentage", Amount: "50"})
	a := e.pd.CreateSubscription(fakepaddle.Subscription{CreatedAt: past, Items: []fakepaddle.Item{{PriceID: basic}}, DiscountID: once}) // 20
	e.pd.CreateSubscription(fakepaddle.Subscription{CreatedAt: past, Items: []fakepaddle.Item{{PriceID: pro}}, DiscountID: forever})     // 37.50
	e.pd.CreateSubscription(fakepaddle.Subscription{CreatedAt: past, Items: []fakepaddle.Item{{PriceID: yearly}}})                       // 100
	e.pd.CreateSubscription(fakepaddle.Subscription{CreatedAt: past, Items: []fakepaddle.Item{{PriceID: quarterly, Quantity: 2}}})       // 60 eur
	e.pd.CreateSubscription(fakepaddle.Subscription{CreatedAt: past, Status: "paused", Items: []fakepaddle.Item{{PriceID: pro}}})        // 0
	c, tr := e.collector(nil)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	expect(t, scrape(t, tr, e.pd.Now()), map[string]float64{
		`billing_mrr{currency="usd",plan="pro_basic"}`: 20, `billing_mrr{currency="usd",plan="pro_pro"}`: 137.5,
		`billing_mrr{currency="eur",plan="pro_basic"}`:                         60,
		`billing_subscriptions{currency="usd",plan="pro_pro",status="paused"}`: 1,
		`billing_active_customers{currency="usd"}`:                             3,
		`billing_mrr_movements_total{currency="usd",kind="new"}`:               0,
	})
	// Live changes: a new subscription, an upgrade, a cancellation.
	e.pd.CreateSubscription(fakepaddle.Subscription{Items: []fakepaddle.Item{{PriceID: basic, Quantity: 3}}}) // +60 new
	e.pd.UpdateSubscription(a, func(s *fakepaddle.Subscription) { s.Items[0].PriceID = pro })                 // +30 expansion
	e.pd.UpdateSubscription(a, func(s *fakepaddle.Subscription) { s.Status = "canceled" })                    // -50 churn
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	expect(t, scrape(t, tr, e.pd.Now()), map[string]float64{
		`billing_mrr{currency="usd",plan="pro_basic"}`:                           60,
		`billing_mrr_movements_total{currency="usd",kind="new"}`:                 60,
		`billing_mrr_movements_total{currency="usd",kind="expansion"}`:           30,
		`billing_mrr_movements_total{currency="usd",kind="churn"}`:               50,
		`billing_subscriptions_churned_total{plan="pro_pro",reason="voluntary"}`: 1,
	})
	if r := e.rejected(); len(r) != 0 {
		t.Errorf("rejections %v", r)
	}
}

// TestPagingKillAndResume kills the listing after each page: every page
// is committed with its cursor, a new process resumes after it, and
// nothing is counted twice.
func TestPagingKillAndResume(t *testing.T) {
	e := newEnv(t)
	basic := e.pd.CreatePrice(fakepaddle.Price{ProductID: "pro_basic", Amount: 1000})
	for range 25 {
		e.pd.CreateSubscription(fakepaddle.Subscription{CreatedAt: e.pd.Now().Add(-48 * time.Hour), Items: []fakepaddle.Item{{PriceID: basic}}})
	}
	for i := range 3 {
		c, _ := e.collector(func(o *Options) { o.PageSize = 10 })
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		e.pd.ResetRequests()
		// Cancel after the first list page is served.
		go func() {
			for n == 0 {
				for _, r := range e.pd.Requests() {
					if r.Path == "/subscriptions" {
						cancel()
						return
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
		err := c.Sync(ctx)
		n = 1
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("sync %d: %v", i, err)
		}
		e.restart()
	}
	c, tr := e.collector(func(o *Options) { o.PageSize = 10 })
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	var lists int
	for _, r := range e.pd.Requests() {
		if r.Path == "/subscriptions" {
			lists++
		}
	}
	if lists > 3 {
		t.Errorf("%d listing requests over the killed syncs: a page was fetched twice", lists)
	}
	expect(t, scrape(t, tr, e.pd.Now()), map[string]float64{
		`billing_subscriptions{currency="usd",plan="pro_basic",status="active"}`: 25,
		`billing_mrr{currency="usd",plan="pro_basic"}`:                           250,
	})
}

// TestRequestsPerSync: after the backfill, a sync costs one events page
// per PageSize changes (plus the one that finds no more), whatever the
// account's size.
func TestRequestsPerSync(t *testing.T) {
	const account, changes = 3000, 150
	e := newEnv(t)
	basic := e.pd.CreatePrice(fakepaddle.Price{ProductID: "pro_basic", Amount: 1000})
	ids := make([]string, account)
	for i := range account {
		ids[i] = e.pd.CreateSubscription(fakepaddle.Subscription{CreatedAt: e.pd.Now().Add(-48 * time.Hour), Items: []fakepaddle.Item{{PriceID: basic}}})
	}
	c, tr := e.collector(nil)
	ctx := context.Background()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	backfill := len(e.pd.Requests())
	if want := 1 + int(math.Ceil(account/200.0)) + 1; backfill > want {
		t.Errorf("backfill of %d took %d requests, want at most %d", account, backfill, want)
	}
	for i := range changes {
		e.pd.UpdateSubscription(ids[i*17%account], func(s *fakepaddle.Subscription) { s.Items[0].Quantity = 2 })
	}
	e.pd.ResetRequests()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, want := len(e.pd.Requests()), int(math.Ceil(changes/200.0))
	t.Logf("account of %d: backfill %d requests; %d changes: %d requests (bound %d)", account, backfill, changes, got, want)
	if got > want {
		t.Errorf("a sync of %d changes took %d requests, want at most %d", changes, got, want)
	}
	expect(t, scrape(t, tr, e.pd.Now()), map[string]float64{
		`billing_mrr{currency="usd",plan="pro_basic"}`:                 float64(account*10 + changes*10),
		`billing_mrr_movements_total{currency="usd",kind="expansion"}`: float64(changes * 10),
	})
	e.pd.ResetRequests()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(e.pd.Requests()); got != 1 {
		t.Errorf("an idle sync took %d requests, want 1", got)
	}
}

func TestFaultsRetried(t *testing.T) {
	for _, tc := range []struct {
		fault  fake.Fault
		reason string
	}{
		{fake.Fault429, "rate_limited"},
		{fake.Fault500, "server_error"},
		{fake.FaultTruncated, "transport"},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			e := newEnv(t)
			basic := e.pd.CreatePrice(fakepaddle.Price{ProductID: "pro_basic", Amount: 100})
			for range 25 {
				e.pd.CreateSubscription(fakepaddle.Subscription{Items: []fakepaddle.Item{{PriceID: basic}}})
			}
			e.pd.SetRetryAfter(0)
			c, tr := e.collector(func(o *Options) { o.PageSize = 10 })
			e.pd.InjectFault(tc.fault, 3)
			if err := c.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := testutil.ToFloat64(e.metrics.Retries.WithLabelValues("paddle", tc.reason)); got != 3 {
				t.Errorf("retries{reason=%q} = %v, want 3", tc.reason, got)
			}
			expect(t, scrape(t, tr, e.pd.Now()), map[string]float64{
				`billing_subscriptions{currency="usd",plan="pro_basic",status="active"}`: 25,
			})
			if r := e.rejected(); len(r) != 0 {
				t.Errorf("rejections %v", r)
			}
		})
	}
}

// TestRateLimitRetryAfter: Paddle's own 429 (over 240 requests a minute)
// carries Retry-After, which the client honours.
func TestRateLimitRetryAfter(t *testing.T) {
	e := newEnv(t)
	e.pd.SetRetryAfter(1)
	e.pd.InjectFault(fake.Fault429, 1)
	c, _ := e.collector(nil)
	start := time.Now()
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v, before Retry-After", d)
	}
	e.pd.InjectFault(fake.Fault429, -1)
	e.pd.SetRetryAfter(0)
	c2, _ := e.collector(func(o *Options) { o.Client.RetryMax = 1 })
	err := c2.Sync(context.Background())
	var se *upstream.StatusError
	if !errors.As(err, &se) || se.Status != 429 || !strings.Contains(err.Error(), "paddle") || !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("want a 429 naming paddle with Paddle's detail, got %v", err)
	}
}

// TestBadKey: a refused key is a clear error naming the source and
// Paddle's reason, never the key, and is not retried.
func TestBadKey(t *testing.T) {
	const bad = "pdl_live_apikey_wrong_fixture_key"
	e := newEnv(t)
	c, _ := e.collector(func(o *Options) { o.APIKey = bad })
	err := c.Sync(context.Background())
	var se *upstream.StatusError
	if !errors.As(err, &se) || se.Status != 403 {
		t.Fatalf("want a 403, got %v", err)
	}
	for _, w := range []string{"paddle", "Invalid or revoked API key"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "wrong_fixture") {
		t.Errorf("error leaks the key: %v", err)
	}
	if n := len(e.pd.Requests()); n != 1 {
		t.Errorf("%d requests: a refused key is not retried", n)
	}
}

func TestNewValidates(t *testing.T) {
	e := newEnv(t)
	for _, mod := range []func(o *Options){
		func(o *Options) { o.APIKey = "" },
		func(o *Options) { o.BaseURL = "ftp://x" },
		func(o *Options) { o.BaseURL = "" },
	} {
		o := Options{Deps: source.Deps{State: e.store.Source("paddle")}, BaseURL: e.pd.URL, APIKey: "k", Tracker: billing.NewTracker(billing.Config{})}
		mod(&o)
		if _, err := New(o); err == nil {
			t.Errorf("New accepted %+v", o)
		}
	}
}
