package stripe

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakestripe "github.com/cx-exporter/cx-exporter/internal/fake/stripe"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

type harness struct {
	t       *testing.T
	fake    *fakestripe.Server
	store   *state.Store
	tr      *billing.Tracker
	c       *Syncer
	rejects []string
}

func newHarness(t *testing.T, now func() time.Time, watermark time.Time) *harness {
	fake := fakestripe.NewServer(fakestripe.Options{ItemsEmbedded: 1})
	t.Cleanup(fake.Close)
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := &harness{t: t, fake: fake, store: store}
	h.tr = billing.NewTracker(billing.Config{Watermark: watermark})
	h.c, err = New(Options{
		Deps:     source.Deps{Name: "stripe", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry()), RetryMax: -1, Timeout: 5 * time.Second}, State: store.Source("stripe"), Reject: func(id, reason string, err error) { h.rejects = append(h.rejects, id+" "+reason+": "+err.Error()) }, Now: now},
		BaseURL:  fake.URL,
		APIKey:   fakestripe.DefaultAPIKey,
		PageSize: 2,
		Tracker:  h.tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) sync() {
	h.t.Helper()
	if err := h.c.Sync(context.Background()); err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	if len(h.rejects) > 0 {
		h.t.Fatalf("rejected: %q", h.rejects)
	}
}

func (h *harness) cursor() cursor {
	h.t.Helper()
	c, err := h.c.loadCursor()
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// requestsSince returns the requests answered from index i on, as "path?query".
func (h *harness) requestsSince(i int) []string {
	var out []string
	for _, r := range h.fake.Requests()[i:] {
		out = append(out, r.Path+"?"+r.Query+" "+okFail(r.Status))
	}
	return out
}

func okFail(code int) string { return map[bool]string{true: "ok", false: "fail"}[code < 300] }

func TestSyncPagesItemsDiscountsAndEvents(t *testing.T) {
	watermark := time.Now().Add(-time.Minute)
	h := newHarness(t, time.Now, watermark)
	f := h.fake
	monthly := f.CreatePrice(fakestripe.Price{Product: "prod_pro", Currency: "usd", UnitAmount: 5000})
	seat := f.CreatePrice(fakestripe.Price{Product: "prod_seat", Currency: "usd", UnitAmount: 1000})
	yearly := f.CreatePrice(fakestripe.Price{Product: "prod_pro", Currency: "eur", UnitAmount: 120000, Interval: "year"})
	metered := f.CreatePrice(fakestripe.Price{Product: "prod_api", Currency: "usd", UnitAmount: 5, Metered: true})
	forever := f.CreateCoupon(fakestripe.Coupon{PercentOff: 10, Duration: "forever"})
	once := f.CreateCoupon(fakestripe.Coupon{AmountOff: 500, Currency: "usd", Duration: "once"})
	past := time.Now().Add(-48 * time.Hour)
	// History: 5 subscriptions (3 pages of 2), one with 4 items (paged).
	a := f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Created: past, Coupons: []string{forever},
		Items: []fakestripe.Item{{Price: monthly}, {Price: seat, Quantity: 3}, {Price: seat, Quantity: 2}, {Price: metered}}})
	f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Created: past, Items: []fakestripe.Item{{Price: yearly}}})
	f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Created: past, Status: "trialing", Items: []fakestripe.Item{{Price: monthly}}})
	f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Created: past, Status: "canceled", CanceledAt: past, EndedAt: past, Items: []fakestripe.Item{{Price: monthly}}})
	e := f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Created: past, Coupons: []string{once}, Items: []fakestripe.Item{{Price: monthly}}})

	h.sync()
	if c := h.cursor(); c.Mode != "events" || c.Event == "" {
		t.Fatalf("cursor %+v", c)
	}
	// a: (5000 + 3000 + 2000) × 0.9 = 9000; e: 5000 (a once coupon); eur 10000.
	if got := h.tr.ActiveCustomers(); got != 3 {
		t.Errorf("active customers %d, want 3", got)
	}
	reqs := h.requestsSince(0)
	if !strings.Contains(strings.Join(reqs, "\n"), "/v1/subscription_items?limit=100&subscription="+a) {
		t.Errorf("items not paged:\n%s", strings.Join(reqs, "\n"))
	}

	// Events: a's discount arrives as an id (resolved from the snapshot's
	// cache), a new subscription with a coupon never seen (one look-up),
	// and more than a page of changes.
	n0 := len(f.Requests())
	f.UpdateSubscription(a, func(s *fakestripe.Subscription) { s.Items[1].Quantity = 5 })
	fresh := f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Coupons: []string{forever}, Items: []fakestripe.Item{{Price: monthly, Quantity: 2}}})
	f.UpdateSubscription(e, func(s *fakestripe.Subscription) { s.Status, s.CancellationReason = "canceled", "payment_failed" })
	h.sync()
	reqs = h.requestsSince(n0)
	joined := strings.Join(reqs, "\n")
	if strings.Contains(joined, "/v1/subscriptions?") {
		t.Errorf("incremental sync relisted:\n%s", joined)
	}
	if !strings.Contains(joined, "/v1/subscriptions/"+fresh) {
		t.Errorf("no discount look-up for %s:\n%s", fresh, joined)
	}
	if strings.Contains(joined, "/v1/subscriptions/"+a) {
		t.Errorf("a's discount should come from the cache:\n%s", joined)
	}
	b, _ := h.tr.Begin(time.Now()).Aggregates()
	agg := string(b)
	// a: +2000×0.9 = 1800 expansion; fresh: 10000×0.9 = 9000 new; e: 5000 churn (involuntary).
	for _, want := range []string{`"usd":[9000,1800,0,5000,0]`, `"prod_pro":{"started":1,"churned":[0,1]}`} {
		if !strings.Contains(agg, want) {
			t.Errorf("aggregates lack %s:\n%s", want, agg)
		}
	}

	// Nothing new: one request, nothing changes.
	n0 = len(f.Requests())
	h.sync()
	if got := h.requestsSince(n0); len(got) != 1 {
		t.Errorf("idle sync made %d requests: %q", len(got), got)
	}
}

func TestSyncResumesRelistAfterFailure(t *testing.T) {
	h := newHarness(t, time.Now, time.Now())
	f := h.fake
	p := f.CreatePrice(fakestripe.Price{UnitAmount: 1000})
	past := time.Now().Add(-time.Hour)
	for range 5 {
		f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Created: past, Items: []fakestripe.Item{{Price: p}}})
	}
	n0 := len(f.Requests())
	var err error
	// Drive manually: one page at a time via a cancelled context stops
	// after the page in flight.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err = h.c.Sync(ctx); err != context.Canceled {
		t.Fatalf("cancelled sync: %v", err)
	}
	c := h.cursor()
	if c.Mode != "relist" || c.After == "" {
		t.Fatalf("cursor after one page = %+v, want a relist cursor", c)
	}
	f.InjectFault(fakestripe.Fault500, 1)
	if err := h.c.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("sync with a 500: %v", err)
	}
	if err := h.c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.tr.ActiveCustomers(); got != 5 {
		t.Errorf("active customers %d, want 5", got)
	}
	// The first page was fetched once: no request repeats it.
	first := 0
	for _, r := range h.requestsSince(n0) {
		if strings.HasPrefix(r, "/v1/subscriptions?") && !strings.Contains(r, "starting_after") {
			first++
		}
	}
	if first != 1 {
		t.Errorf("first page fetched %d times, want 1:\n%s", first, strings.Join(h.requestsSince(n0), "\n"))
	}
}

func TestSyncExpiredCursorRelists(t *testing.T) {
	for _, local := range []bool{true, false} {
		name := map[bool]string{true: "by age", false: "by Stripe's answer"}[local]
		t.Run(name, func(t *testing.T) {
			var h *harness
			now := time.Now
			if local {
				now = func() time.Time { return h.fake.Now() }
			}
			h = newHarness(t, now, time.Now().Add(-time.Minute))
			f := h.fake
			p := f.CreatePrice(fakestripe.Price{UnitAmount: 1000})
			a := f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Created: time.Now().Add(-time.Hour), Items: []fakestripe.Item{{Price: p}}})
			h.sync()
			f.Advance(31 * 24 * time.Hour)
			if f.Events() != 0 {
				t.Fatal("events not expired")
			}
			f.UpdateSubscription(a, func(s *fakestripe.Subscription) { s.Items[0].Quantity = 3 })
			n0 := len(f.Requests())
			f.Advance(time.Second)
			// The update's event is kept but the cursor is gone: a relist.
			f.Advance(0)
			h.sync()
			joined := strings.Join(h.requestsSince(n0), "\n")
			if !strings.Contains(joined, "/v1/subscriptions?") {
				t.Errorf("no relist:\n%s", joined)
			}
			if !local && !strings.Contains(joined, "ending_before") {
				t.Errorf("expected Stripe to be asked first:\n%s", joined)
			}
			b, _ := h.tr.Begin(time.Now()).Aggregates()
			if !strings.Contains(string(b), `"usd":[0,2000,0,0,0]`) {
				t.Errorf("expansion not counted once: %s", b)
			}
			if c := h.cursor(); c.Mode != "events" {
				t.Errorf("cursor %+v", c)
			}
		})
	}
}

func TestNewRefusesOtherKeys(t *testing.T) {
	for _, key := range []string{"", "pk_live_123", "whsec_1", "Bearer sk_test_1"} {
		_, err := New(Options{
			Deps:    source.Deps{Name: "stripe"},
			BaseURL: "https://api.stripe.com",
			APIKey:  key,
		})
		if err == nil {
			t.Errorf("key %q accepted", key)
		} else if key != "" && strings.Contains(err.Error(), key) {
			t.Errorf("error quotes the key: %v", err)
		}
	}
}

func TestSyncErrorsNeverCarryTheKey(t *testing.T) {
	fake := fakestripe.NewServer(fakestripe.Options{})
	defer fake.Close()
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const key = "sk_test_wrong_key_4711"
	c, err := New(Options{
		Deps:    source.Deps{Name: "stripe", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry()), RetryMax: -1}, State: store.Source("stripe")},
		BaseURL: fake.URL,
		APIKey:  key,
		Tracker: billing.NewTracker(billing.Config{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), key) {
		t.Fatalf("sync with a bad key: %v", err)
	}
	if !strings.Contains(err.Error(), "/v1/events") {
		t.Errorf("error does not name the endpoint: %v", err)
	}
}

func TestSyncRetriesRateLimitsAndServerErrors(t *testing.T) {
	h := newHarness(t, time.Now, time.Now())
	o := h.c.o
	o.Client.RetryMax, o.Client.RetryWaitMin, o.Client.RetryWaitMax = 3, 5*time.Millisecond, 10*time.Millisecond
	retrying, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.c.client = retrying.client
	f := h.fake
	p := f.CreatePrice(fakestripe.Price{UnitAmount: 1000})
	f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Created: time.Now().Add(-time.Hour), Items: []fakestripe.Item{{Price: p}}})
	f.InjectFault(fakestripe.Fault429, 2)
	h.sync()
	f.InjectFault(fakestripe.Fault500, 1)
	h.sync()
	if got := h.tr.ActiveCustomers(); got != 1 {
		t.Errorf("active customers %d, want 1", got)
	}
	codes := map[int]int{}
	for _, r := range f.Requests() {
		codes[r.Status]++
	}
	if codes[429] != 2 || codes[500] != 1 {
		t.Errorf("statuses %v", codes)
	}
}
