package freshdesk

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakefreshdesk "github.com/cx-exporter/cx-exporter/internal/fake/freshdesk"
	"github.com/cx-exporter/cx-exporter/internal/metricstest"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

const syncKey = "sync-fixture-key-f3k9"

type env struct {
	t     *testing.T
	fd    *fakefreshdesk.Server
	store *state.Store
	wm    time.Time
}

func newEnv(t *testing.T, o fakefreshdesk.Options, wm time.Time) *env {
	t.Helper()
	o.APIKey, o.NoRateLimit = syncKey, true
	fd := fakefreshdesk.NewServer(o)
	t.Cleanup(fd.Close)
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &env{t: t, fd: fd, store: store, wm: wm}
}

// collector builds a collector and a tracker restored from the store, as
// a restarted exporter does.
func (e *env) collector(key string) (*Syncer, *helpdesk.Tracker) {
	e.t.Helper()
	ls, _ := helpdesk.ParseLabelSet("priority,channel")
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: e.wm})
	src := e.store.Source("freshdesk")
	if err := src.View(func(tx *state.Tx) error { return tr.Load(tx.Get(state.KeyAggregates), tx.Records().ForEach) }); err != nil {
		e.t.Fatal(err)
	}
	c, err := New(Options{
		Deps: source.Deps{Name: "freshdesk", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry()), RetryMax: 4,
			RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond}, State: src, Reject: func(id, reason string, err error) { e.t.Errorf("rejected %s (%s): %v", id, reason, err) }},
		BaseURL:  e.fd.URL,
		APIKey:   key,
		PageSize: 100,
		Tracker:  tr,
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
	return metricstest.Totals(t, tr.Collector("freshdesk", time.Now))
}

func expect(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	// Freshdesk counts no replies: FCR and replies per ticket are absent,
	// never a constant.
	for _, k := range []string{"helpdesk_tickets_solved_first_contact_total", "helpdesk_replies_per_solved_ticket_count"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s = %v is exported; Freshdesk gives no reply count", k, v)
		}
	}
}

func put(fd *fakefreshdesk.Server, id int64, status int, created time.Time, mut ...func(*fakefreshdesk.Ticket)) {
	tk := fakefreshdesk.Ticket{ID: id, Status: status, Priority: 2, Source: 1, CreatedAt: created}
	for _, m := range mut {
		m(&tk)
	}
	fd.Put(tk)
}

func queries(fd *fakefreshdesk.Server, path string) []url.Values {
	var out []url.Values
	for _, r := range fd.Requests() {
		if r.Path == path {
			q, _ := url.ParseQuery(r.Query)
			q.Set("status", func() string { return strings.TrimSpace(string(rune('0' + r.Status/100))) }())
			out = append(out, q)
		}
	}
	return out
}

func TestSyncPagesByLink(t *testing.T) {
	e := newEnv(t, fakefreshdesk.Options{PageSize: 5}, time.Now().Add(-time.Hour))
	created := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	for i := range 23 {
		put(e.fd, int64(i+1), 2, created, func(tk *fakefreshdesk.Ticket) { tk.UpdatedAt = created.Add(time.Duration(i) * time.Second) })
	}
	c, tr := e.collector(syncKey)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	qs := queries(e.fd, TicketsPath)
	if len(qs) != 6 { // 5 pages + one deleted listing
		t.Fatalf("ticket requests = %d, want 6: %v", len(qs), qs)
	}
	for i, q := range qs[:5] {
		if q.Get("page") != string(rune('1'+i)) || q.Get("include") != "stats" || q.Get("order_by") != "updated_at" ||
			q.Get("order_type") != "asc" || q.Get("updated_since") != "1970-01-01T00:00:00Z" || q.Get("per_page") != "100" {
			t.Errorf("request %d: %v", i, q)
		}
	}
	if qs[5].Get("filter") != "deleted" {
		t.Errorf("no deleted listing: %v", qs[5])
	}
	if n := len(queries(e.fd, RatingsPath)); n != 1 {
		t.Errorf("ratings requests = %d, want 1", n)
	}
	expect(t, totals(t, tr), map[string]float64{"helpdesk_tickets_created_total": 23, "helpdesk_open_tickets": 23})
	// An idle sync: three requests, from the last updated_at seen (the
	// tickets of that second are listed again and ignored as stale).
	e.fd.ResetRequests()
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fd.Requests()); n != 3 {
		t.Errorf("idle sync took %d requests, want 3", n)
	}
	if q := queries(e.fd, TicketsPath)[0]; q.Get("updated_since") == "1970-01-01T00:00:00Z" || q.Get("page") != "1" {
		t.Errorf("idle sync did not start from the last update: %v", q)
	}
	expect(t, totals(t, tr), map[string]float64{"helpdesk_tickets_created_total": 23, "helpdesk_open_tickets": 23})
}

func TestSyncPageCapReanchors(t *testing.T) {
	e := newEnv(t, fakefreshdesk.Options{PageSize: 3, PageCap: 2}, time.Now().Add(-time.Hour))
	base := time.Now().UTC().Add(-50 * time.Minute).Truncate(time.Second)
	for i := range 20 {
		// Distinct update times, so every re-anchoring makes progress.
		put(e.fd, int64(i+1), 2, base, func(tk *fakefreshdesk.Ticket) { tk.UpdatedAt = base.Add(time.Duration(i) * time.Second) })
	}
	c, tr := e.collector(syncKey)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	expect(t, totals(t, tr), map[string]float64{"helpdesk_tickets_created_total": 20, "helpdesk_open_tickets": 20})
	var capped, reanchored int
	for _, q := range queries(e.fd, TicketsPath) {
		if q.Get("status") == "4" && q.Get("page") == "3" {
			capped++
		}
		if q.Get("page") == "1" && q.Get("updated_since") != "1970-01-01T00:00:00Z" && q.Get("filter") == "" {
			reanchored++
		}
	}
	if capped == 0 || reanchored == 0 {
		t.Errorf("capped %d, re-anchored %d times; want both > 0", capped, reanchored)
	}
}

func TestSyncResumesAfterInterruption(t *testing.T) {
	e := newEnv(t, fakefreshdesk.Options{PageSize: 4, Latency: 30 * time.Millisecond}, time.Now().Add(-time.Hour))
	created := time.Now().UTC().Add(-20 * time.Minute).Truncate(time.Second)
	for i := range 30 {
		put(e.fd, int64(i+1), 4, created, func(tk *fakefreshdesk.Ticket) {
			tk.Stats.FirstRespondedAt, tk.Stats.ResolvedAt = created.Add(10*time.Minute), created.Add(15*time.Minute)
		})
	}
	c, tr := e.collector(syncKey)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(e.fd.Requests()) < 3 {
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
	e.fd.ResetRequests()
	c, tr = e.collector(syncKey)
	if got := totals(t, tr)["helpdesk_tickets_created_total"]; got != part {
		t.Fatalf("restored %v, want %v", got, part)
	}
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q := queries(e.fd, TicketsPath)[0]; q.Get("page") == "1" {
		t.Errorf("resumed from page 1, not from the persisted page: %v", q)
	}
	expect(t, totals(t, tr), map[string]float64{
		"helpdesk_tickets_created_total": 30, "helpdesk_tickets_solved_total": 30, "helpdesk_tickets_first_solved_total": 30,
		"helpdesk_first_reply_seconds_count": 30, "helpdesk_first_reply_seconds_sum": 30 * 600,
		"helpdesk_resolution_seconds_count": 30, "helpdesk_resolution_seconds_sum": 30 * 900,
		"helpdesk_open_tickets": 0,
	})
}

func TestSyncRetriesFaults(t *testing.T) {
	e := newEnv(t, fakefreshdesk.Options{PageSize: 2}, time.Now().Add(-time.Hour))
	e.fd.SetRetryAfter(0)
	created := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	for i := range 5 {
		put(e.fd, int64(i+1), 2, created)
	}
	c, tr := e.collector(syncKey)
	for _, f := range []fakefreshdesk.Fault{fakefreshdesk.Fault500, fakefreshdesk.Fault429, fakefreshdesk.FaultTruncated} {
		e.fd.InjectFault(f, 1)
		if err := c.Sync(context.Background()); err != nil {
			t.Fatalf("fault %v: %v", f, err)
		}
	}
	expect(t, totals(t, tr), map[string]float64{"helpdesk_tickets_created_total": 5, "helpdesk_open_tickets": 5})
}

func TestSyncLifecycleRatingsAndDeletes(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	e := newEnv(t, fakefreshdesk.Options{}, now.Add(-time.Minute))
	// History: solved and rated before the watermark.
	put(e.fd, 1, 5, now.Add(-48*time.Hour), func(tk *fakefreshdesk.Ticket) {
		tk.Stats.FirstRespondedAt, tk.Stats.ResolvedAt, tk.UpdatedAt = now.Add(-47*time.Hour), now.Add(-24*time.Hour), now.Add(-24*time.Hour)
	})
	e.fd.RateAt(1, 103, now.Add(-23*time.Hour))
	put(e.fd, 2, 2, now.Add(-3*time.Hour))
	c, tr := e.collector(syncKey)
	sync := func() {
		t.Helper()
		if err := c.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	expect(t, totals(t, tr), map[string]float64{"helpdesk_tickets_created_total": 0, "helpdesk_satisfaction_ratings_total{good}": 0, "helpdesk_open_tickets": 1})

	created := now
	tk := fakefreshdesk.Ticket{ID: 100, Status: 2, Priority: 4, Source: 1, CreatedAt: created}
	step := func(mut func(*fakefreshdesk.Ticket)) {
		mut(&tk)
		tk.UpdatedAt = time.Time{}
		e.fd.Put(tk)
		sync()
	}
	step(func(*fakefreshdesk.Ticket) {})
	step(func(tk *fakefreshdesk.Ticket) { tk.Stats.FirstRespondedAt = created.Add(30 * time.Minute) })
	step(func(tk *fakefreshdesk.Ticket) { tk.Status, tk.Stats.ResolvedAt = 4, created.Add(90*time.Minute) })
	step(func(tk *fakefreshdesk.Ticket) { tk.Status, tk.Stats.ReopenedAt = 2, created.Add(100*time.Minute) })
	step(func(tk *fakefreshdesk.Ticket) { tk.Status, tk.Stats.ResolvedAt = 4, created.Add(120*time.Minute) })
	e.fd.Rate(100, 103)
	sync()
	e.fd.RateAt(100, -102, now.Add(time.Second))
	sync()
	sync() // nothing new: nothing counted twice
	// A rating for a ticket not listed yet is applied when it is.
	e.fd.RateAt(101, 100, now.Add(2*time.Second))
	sync()
	put(e.fd, 101, 5, now, func(tk *fakefreshdesk.Ticket) { tk.Stats.ResolvedAt = now })
	e.fd.Delete(2)
	sync()
	expect(t, totals(t, tr), map[string]float64{
		"helpdesk_tickets_created_total": 2, "helpdesk_tickets_solved_total": 3, "helpdesk_tickets_reopened_total": 1,
		"helpdesk_tickets_first_solved_total":       2,
		"helpdesk_satisfaction_ratings_total{good}": 1, "helpdesk_satisfaction_ratings_total{bad}": 1, "helpdesk_satisfaction_ratings_total{neutral}": 1,
		"helpdesk_first_reply_seconds_count": 1, "helpdesk_first_reply_seconds_sum": 1800,
		"helpdesk_resolution_seconds_count": 3, "helpdesk_resolution_seconds_sum": 5400 + 7200,
		"helpdesk_open_tickets": 0,
	})
}

func TestSyncBadKey(t *testing.T) {
	e := newEnv(t, fakefreshdesk.Options{}, time.Now())
	c, _ := e.collector("wrong-key-zz")
	err := c.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want a 401", err)
	}
	if strings.Contains(err.Error(), "wrong-key-zz") {
		t.Errorf("the key leaked into the error: %v", err)
	}
}
