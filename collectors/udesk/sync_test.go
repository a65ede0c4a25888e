package udesk

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakeudesk "github.com/cx-exporter/cx-exporter/internal/fake/udesk"
	"github.com/cx-exporter/cx-exporter/internal/metricstest"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

const (
	syncEmail = "admin@sync.example"
	syncToken = "sync-fixture-token-u7q2" // a fixture, shaped like no real token
)

type env struct {
	t     *testing.T
	ud    *fakeudesk.Server
	store *state.Store
	wm    time.Time
	rpm   int
}

func newEnv(t *testing.T, o fakeudesk.Options, wm time.Time) *env {
	t.Helper()
	o.Email, o.Token, o.NoRateLimit = syncEmail, syncToken, true
	ud := fakeudesk.NewServer(o)
	t.Cleanup(ud.Close)
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &env{t: t, ud: ud, store: store, wm: wm, rpm: 1_000_000}
}

// collector builds a collector and a tracker restored from the store, as
// a restarted exporter does.
func (e *env) collector(token string, pageSize int) (*Syncer, *helpdesk.Tracker) {
	e.t.Helper()
	ls, _ := helpdesk.ParseLabelSet("priority,channel")
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: e.wm})
	src := e.store.Source("udesk")
	if err := src.View(func(tx *state.Tx) error { return tr.Load(tx.Get(state.KeyAggregates), tx.Records().ForEach) }); err != nil {
		e.t.Fatal(err)
	}
	c, err := New(Options{
		Deps: source.Deps{Name: "udesk", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry()), RetryMax: 4,
			RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond}, State: src,
			Reject: func(id, reason string, err error) { e.t.Errorf("rejected %s (%s): %v", id, reason, err) }},
		BaseURL: e.ud.URL, Email: syncEmail, Token: token, PageSize: pageSize, RequestsPerMinute: e.rpm, Tracker: tr,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c, tr
}

// totals sums the tracker's helpdesk metrics over their labels, keeping
// rating apart; histograms give _count and _sum (calendar hours).
func totals(t *testing.T, tr *helpdesk.Tracker) map[string]float64 {
	t.Helper()
	return metricstest.Totals(t, tr.Collector("udesk", time.Now))
}

func expect(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	// Udesk counts no replies: FCR and replies per ticket are absent.
	for _, k := range []string{"helpdesk_tickets_solved_first_contact_total", "helpdesk_replies_per_solved_ticket_count"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s = %v is exported; Udesk gives no reply count", k, v)
		}
	}
}

func put(ud *fakeudesk.Server, id int64, status int, created time.Time, mut ...func(*fakeudesk.Ticket)) {
	tk := fakeudesk.Ticket{ID: id, StatusID: status, PriorityID: 3, Platform: "email", CreatedAt: created}
	for _, m := range mut {
		m(&tk)
	}
	ud.Put(tk)
}

func (e *env) sync(c *Syncer) {
	e.t.Helper()
	if err := c.Sync(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func TestSyncPagesByMeta(t *testing.T) {
	e := newEnv(t, fakeudesk.Options{PageSize: 5}, time.Now().Add(-time.Hour))
	created := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	for i := range 23 {
		put(e.ud, int64(i+1), 1, created, func(tk *fakeudesk.Ticket) { tk.UpdatedAt = created.Add(time.Duration(i) * time.Second) })
	}
	c, tr := e.collector(syncToken, 100)
	e.sync(c)
	reqs := e.ud.Requests()
	if len(reqs) != 5 {
		t.Fatalf("requests = %d, want 5 pages: %+v", len(reqs), reqs)
	}
	for i, r := range reqs {
		if r.Page != i+1 || r.Status != 200 || r.Code != fakeudesk.CodeOK {
			t.Errorf("request %d: %+v", i, r)
		}
	}
	expect(t, totals(t, tr), map[string]float64{"helpdesk_tickets_created_total": 23, "helpdesk_open_tickets": 23})
	// An idle sync: one request, from the last updated_at seen.
	e.ud.ResetRequests()
	e.sync(c)
	if n := len(e.ud.Requests()); n != 1 {
		t.Errorf("idle sync took %d requests, want 1", n)
	}
	cur, _ := c.Cursor()
	if want := created.Add(22 * time.Second); !cur.Since.Equal(want) || cur.Page != 1 {
		t.Errorf("cursor = %+v, want since %v page 1", cur, want)
	}
	expect(t, totals(t, tr), map[string]float64{"helpdesk_tickets_created_total": 23, "helpdesk_open_tickets": 23})
}

func TestSyncResumesAfterInterruption(t *testing.T) {
	e := newEnv(t, fakeudesk.Options{PageSize: 4, Latency: 30 * time.Millisecond}, time.Now().Add(-time.Hour))
	created := time.Now().UTC().Add(-20 * time.Minute).Truncate(time.Second)
	for i := range 30 {
		put(e.ud, int64(i+1), 2, created, func(tk *fakeudesk.Ticket) {
			tk.FirstReplyAt, tk.ResolvedAt = created.Add(10*time.Minute), created.Add(15*time.Minute)
		})
	}
	c, tr := e.collector(syncToken, 100)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(e.ud.Requests()) < 3 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if err := c.Sync(ctx); err == nil {
		t.Fatal("the interrupted sync reported success")
	}
	part := totals(t, tr)["helpdesk_tickets_created_total"]
	if part == 0 || part >= 30 {
		t.Fatalf("interrupted with %v of 30 counted; want a partial sync", part)
	}
	// A new process on the same store.
	e.ud.ResetRequests()
	c, tr = e.collector(syncToken, 100)
	if got := totals(t, tr)["helpdesk_tickets_created_total"]; got != part {
		t.Fatalf("restored %v, want %v", got, part)
	}
	e.sync(c)
	if r := e.ud.Requests()[0]; r.Page == 1 {
		t.Errorf("resumed from page 1, not from the persisted page: %+v", r)
	}
	expect(t, totals(t, tr), map[string]float64{
		"helpdesk_tickets_created_total": 30, "helpdesk_tickets_solved_total": 30, "helpdesk_tickets_first_solved_total": 30,
		"helpdesk_first_reply_seconds_count": 30, "helpdesk_first_reply_seconds_sum": 30 * 600,
		"helpdesk_resolution_seconds_count": 30, "helpdesk_resolution_seconds_sum": 30 * 900,
		"helpdesk_open_tickets": 0,
	})
}

// TestSyncRetriesFaults: a 429 (Udesk's code 2004, no Retry-After), a 500
// and a cut body are retried, each retry signed afresh: the nonce of the
// refused attempt is never sent again.
func TestSyncRetriesFaults(t *testing.T) {
	e := newEnv(t, fakeudesk.Options{PageSize: 2}, time.Now().Add(-time.Hour))
	created := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	for i := range 5 {
		put(e.ud, int64(i+1), 1, created)
	}
	c, tr := e.collector(syncToken, 100)
	for _, f := range []fakeudesk.Fault{fakeudesk.Fault500, fakeudesk.Fault429, fakeudesk.FaultTruncated} {
		e.ud.InjectFault(f, 2)
		if err := c.Sync(context.Background()); err != nil {
			t.Fatalf("fault %v: %v", f, err)
		}
	}
	for _, r := range e.ud.Requests() {
		if r.Code == fakeudesk.CodeNonceReused || r.Code == fakeudesk.CodeBadSignature {
			t.Errorf("a retry was refused for its signature: %+v", r)
		}
	}
	expect(t, totals(t, tr), map[string]float64{"helpdesk_tickets_created_total": 5, "helpdesk_open_tickets": 5})
}

func TestSyncLifecycle(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	e := newEnv(t, fakeudesk.Options{}, now.Add(-time.Minute))
	// History: solved and rated before the watermark.
	put(e.ud, 1, 3, now.Add(-48*time.Hour), func(tk *fakeudesk.Ticket) {
		tk.FirstReplyAt, tk.ResolvedAt, tk.ClosedAt, tk.UpdatedAt = now.Add(-47*time.Hour), now.Add(-24*time.Hour), now.Add(-24*time.Hour), now.Add(-23*time.Hour)
		tk.Satisfaction = &fakeudesk.Satisfaction{Score: 5, CreatedAt: now.Add(-23 * time.Hour)}
	})
	put(e.ud, 2, 1, now.Add(-3*time.Hour))
	c, tr := e.collector(syncToken, 100)
	e.sync(c)
	expect(t, totals(t, tr), map[string]float64{"helpdesk_tickets_created_total": 0, "helpdesk_satisfaction_ratings_total{good}": 0, "helpdesk_open_tickets": 1})

	created := now
	tk := fakeudesk.Ticket{ID: 100, StatusID: 1, PriorityID: 1, Platform: "email", CreatedAt: created}
	step := func(mut func(*fakeudesk.Ticket)) {
		mut(&tk)
		tk.UpdatedAt = time.Time{}
		e.ud.Put(tk)
		e.sync(c)
	}
	step(func(*fakeudesk.Ticket) {})
	step(func(tk *fakeudesk.Ticket) { tk.FirstReplyAt, tk.StatusID = created.Add(30*time.Minute), 4 })
	step(func(tk *fakeudesk.Ticket) { tk.StatusID, tk.ResolvedAt = 2, created.Add(90*time.Minute) })
	step(func(tk *fakeudesk.Ticket) { tk.StatusID = 1 })
	step(func(tk *fakeudesk.Ticket) { tk.StatusID, tk.ResolvedAt = 2, created.Add(120*time.Minute) })
	step(func(tk *fakeudesk.Ticket) { tk.Satisfaction = &fakeudesk.Satisfaction{Score: 5, CreatedAt: now} })
	step(func(tk *fakeudesk.Ticket) {
		tk.Satisfaction = &fakeudesk.Satisfaction{Score: 1, CreatedAt: now.Add(time.Second)}
	})
	e.sync(c) // nothing new: nothing counted twice
	expect(t, totals(t, tr), map[string]float64{
		"helpdesk_tickets_created_total": 1, "helpdesk_tickets_solved_total": 2, "helpdesk_tickets_reopened_total": 1,
		"helpdesk_tickets_first_solved_total":       1,
		"helpdesk_satisfaction_ratings_total{good}": 1, "helpdesk_satisfaction_ratings_total{bad}": 1,
		"helpdesk_first_reply_seconds_count": 1, "helpdesk_first_reply_seconds_sum": 1800,
		"helpdesk_resolution_seconds_count": 2, "helpdesk_resolution_seconds_sum": 5400 + 7200,
		"helpdesk_open_tickets": 1,
	})
}

// TestSyncBadToken: a wrong token makes a bad signature; the error names
// the source, the endpoint and Udesk's message, never the token.
func TestSyncBadToken(t *testing.T) {
	e := newEnv(t, fakeudesk.Options{}, time.Now())
	const wrong = "wrong-token-zz93"
	c, _ := e.collector(wrong, 100)
	err := c.Sync(context.Background())
	if err == nil {
		t.Fatal("a bad signature synced")
	}
	msg := err.Error()
	for _, want := range []string{"udesk", ListPath, "401", "signature"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	for _, secret := range []string{wrong, syncToken} {
		if strings.Contains(msg, secret) {
			t.Errorf("a token leaked into the error: %v", err)
		}
	}
}

// TestRequestsSpaced: requests keep to the configured rate.
func TestRequestsSpaced(t *testing.T) {
	e := newEnv(t, fakeudesk.Options{PageSize: 1}, time.Now().Add(-time.Hour))
	e.rpm = 600 // one request every 100 ms
	created := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	for i := range 4 {
		put(e.ud, int64(i+1), 1, created, func(tk *fakeudesk.Ticket) { tk.UpdatedAt = created.Add(time.Duration(i) * time.Second) })
	}
	c, _ := e.collector(syncToken, 100)
	e.sync(c)
	reqs := e.ud.Requests()
	if len(reqs) != 4 {
		t.Fatalf("requests = %d, want 4", len(reqs))
	}
	// Requests leave 100 ms apart; they arrive with the network's jitter
	// (the first also opens the connection), so the span is checked.
	if span := reqs[3].At.Sub(reqs[0].At); span < 250*time.Millisecond {
		t.Errorf("4 requests arrived within %v, want them spread over about 300ms", span)
	}
}

// TestRequestsPerSync checks that syncs cost requests in proportion to the
// changes, not to the account: ceil((changes+k)/100) requests, k being the
// work orders of the last second of the previous listing, read again (1
// here).
func TestRequestsPerSync(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10k-work-order account")
	}
	const account, changes = 10_000, 150
	e := newEnv(t, fakeudesk.Options{}, time.Now())
	created := time.Now().UTC().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	for i := 1; i <= account; i++ {
		put(e.ud, int64(i), 3, created, func(tk *fakeudesk.Ticket) {
			tk.UpdatedAt = created.Add(time.Duration(i) * time.Second)
			tk.FirstReplyAt, tk.ResolvedAt, tk.ClosedAt = created.Add(time.Minute), created.Add(time.Hour), created.Add(time.Hour)
		})
	}
	c, tr := e.collector(syncToken, 100)
	e.sync(c)
	backfill := len(e.ud.Requests())
	if want := account / 100; backfill > want {
		t.Errorf("backfill of %d work orders took %d requests, want at most %d", account, backfill, want)
	}
	changed := time.Now().UTC().Truncate(time.Second).Add(-changes * time.Second)
	for i := 1; i <= changes; i++ {
		put(e.ud, int64(i*97%account+1), 1, created, func(tk *fakeudesk.Ticket) { tk.UpdatedAt = changed.Add(time.Duration(i) * time.Second) })
	}
	e.ud.ResetRequests()
	e.sync(c)
	got := len(e.ud.Requests())
	want := int(math.Ceil((changes + 1) / 100.0))
	t.Logf("account %d work orders: backfill %d requests; sync of %d changes: %d requests (bound %d)", account, backfill, changes, got, want)
	if got > want {
		t.Errorf("a sync of %d changes took %d requests, want at most %d", changes, got, want)
	}
	if n := tr.OpenTickets(); n != changes {
		t.Errorf("backlog = %d, want the %d reopened work orders", n, changes)
	}
	e.ud.ResetRequests()
	e.sync(c)
	if got := len(e.ud.Requests()); got != 1 {
		t.Errorf("an idle sync took %d requests, want 1", got)
	}
}
