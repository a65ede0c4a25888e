package edesk

import (
	"context"
	"errors"
	"math"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakeedesk "github.com/cx-exporter/cx-exporter/internal/fake/edesk"
	"github.com/cx-exporter/cx-exporter/internal/metricstest"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

const syncToken = "sync-fixture-token-e7q2" // a fixture, shaped like no real token

// clock is a settable clock shared by the fake and the collector.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t        *testing.T
	ed       *fakeedesk.Server
	store    *state.Store
	clk      *clock
	wm       time.Time
	rejected []string
	mu       sync.Mutex
}

func newEnv(t *testing.T, o fakeedesk.Options, start time.Time) *env {
	t.Helper()
	clk := &clock{t: start}
	o.Token, o.NoRateLimit, o.Now = syncToken, true, clk.Now
	ed := fakeedesk.NewServer(o)
	t.Cleanup(ed.Close)
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &env{t: t, ed: ed, store: store, clk: clk, wm: start}
}

// collector builds a collector and a tracker restored from the store, as
// a restarted exporter does.
func (e *env) collector(token string) (*Syncer, *helpdesk.Tracker) {
	e.t.Helper()
	ls, _ := helpdesk.ParseLabelSet("priority,channel")
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: e.wm, Now: e.clk.Now})
	src := e.store.Source("edesk")
	if err := src.View(func(tx *state.Tx) error { return tr.Load(tx.Get(state.KeyAggregates), tx.Records().ForEach) }); err != nil {
		e.t.Fatal(err)
	}
	c, err := New(Options{
		Deps: source.Deps{Name: "edesk", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry()), RetryMax: 4,
			RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond}, State: src, Now: e.clk.Now,
			Reject: func(id, reason string, err error) {
				e.mu.Lock()
				defer e.mu.Unlock()
				e.rejected = append(e.rejected, id+":"+reason)
			}},
		BaseURL: e.ed.URL, Token: token, Watermark: e.wm, Tracker: tr,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c, tr
}

func (e *env) sync(c *Syncer) {
	e.t.Helper()
	if err := c.Sync(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// totals sums the tracker's helpdesk metrics over their labels, keeping
// rating apart; histograms give _count and _sum (calendar hours).
func totals(t *testing.T, tr *helpdesk.Tracker, now func() time.Time) map[string]float64 {
	t.Helper()
	return metricstest.Totals(t, tr.Collector("edesk", now))
}

// counters keeps the counters and histograms of a totals map: gauges
// move with the clock.
func counters(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.Contains(k, "_total") || strings.HasSuffix(k, "_count") || strings.HasSuffix(k, "_sum") {
			out[k] = v
		}
	}
	return out
}

func expect(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}

func customer(at time.Time) fakeedesk.Item {
	return fakeedesk.Item{Type: fakeedesk.TypeMessage, Direction: fakeedesk.Incoming, Body: "help", CreatedAt: at}
}

// TestSyncStoryline: backfill is not counted; a new ticket's life is,
// with its first reply, solves, reopen and ratings dated by its items;
// every page is committed and paging reaches the end.
func TestSyncStoryline(t *testing.T) {
	start := time.Date(2026, 5, 18, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, fakeedesk.Options{PageSize: 2}, start)
	old := start.Add(-48 * time.Hour)
	e.ed.Put(fakeedesk.Ticket{ID: 1, ChannelID: 1, Status: "Closed", CreatedAt: old, UpdatedAt: old.Add(time.Hour),
		Items: []fakeedesk.Item{customer(old), {Type: fakeedesk.TypeMessage, Direction: fakeedesk.Outgoing, CreatedAt: old.Add(30 * time.Minute)},
			{Type: fakeedesk.TypeStatus, Body: "Closed", CreatedAt: old.Add(time.Hour)}}})
	for id := int64(2); id <= 5; id++ {
		at := start.Add(-time.Duration(id) * time.Hour)
		e.ed.Put(fakeedesk.Ticket{ID: id, ChannelID: id - 1, Status: "Open", CreatedAt: at, UpdatedAt: at, Items: []fakeedesk.Item{customer(at)}})
	}
	c, tr := e.collector(syncToken)
	e.sync(c)
	got := totals(t, tr, e.clk.Now)
	expect(t, got, map[string]float64{"helpdesk_open_tickets": 4, "helpdesk_awaiting_first_reply_tickets": 4,
		"helpdesk_tickets_created_total": 0, "helpdesk_tickets_solved_total": 0})
	items := 0
	for _, r := range e.ed.Requests() {
		if strings.HasPrefix(r.Path, "/v1/messages/") {
			items++
		}
	}
	if items != 0 {
		t.Errorf("backfill read %d ticket items, want none (history)", items)
	}

	// Ticket 100's life, one sync per step.
	created := start.Add(time.Minute)
	step := func(d time.Duration, fn func()) {
		e.clk.Add(d)
		fn()
		e.sync(c)
	}
	step(time.Minute, func() {
		e.ed.Put(fakeedesk.Ticket{ID: 100, ChannelID: 1, Status: "Open", CreatedAt: created, Items: []fakeedesk.Item{customer(created)}})
	})
	step(30*time.Minute, func() { e.ed.Reply(100, created.Add(30*time.Minute)) })
	step(time.Hour, func() { e.ed.SetStatus(100, "Closed", created.Add(90*time.Minute)) })
	step(5*time.Minute, func() {
		e.ed.SetStatus(100, "Open", created.Add(95*time.Minute))
		e.ed.AddItem(100, customer(created.Add(95*time.Minute)))
	})
	step(25*time.Minute, func() {
		e.ed.Reply(100, created.Add(100*time.Minute))
		e.ed.SetStatus(100, "Closed", created.Add(120*time.Minute))
	})
	step(time.Minute, func() { e.ed.Rate(100, "Good") })
	step(time.Minute, func() { e.ed.Rate(100, "Bad") })
	step(time.Minute, func() { e.ed.SetStatus(2, "Spam", time.Time{}) })
	got = totals(t, tr, e.clk.Now)
	expect(t, got, map[string]float64{
		"helpdesk_open_tickets": 3, "helpdesk_tickets_created_total": 1, "helpdesk_tickets_solved_total": 2,
		"helpdesk_tickets_reopened_total": 1, "helpdesk_tickets_first_solved_total": 1, "helpdesk_tickets_solved_first_contact_total": 1,
		"helpdesk_first_reply_seconds_count": 1, "helpdesk_first_reply_seconds_sum": 1800,
		"helpdesk_resolution_seconds_count": 2, "helpdesk_resolution_seconds_sum": 5400 + 7200,
		"helpdesk_replies_per_solved_ticket_count": 1, "helpdesk_replies_per_solved_ticket_sum": 1, // at the first solve only
		"helpdesk_satisfaction_ratings_total{good}": 1, "helpdesk_satisfaction_ratings_total{bad}": 1,
	})
	if len(e.rejected) != 0 {
		t.Errorf("rejected: %v", e.rejected)
	}
	// A restarted collector on the same state re-reads the day and counts
	// nothing again.
	c2, tr2 := e.collector(syncToken)
	e.clk.Add(time.Minute)
	e.sync(c2)
	after := totals(t, tr2, e.clk.Now)
	for k, v := range got {
		if strings.HasSuffix(k, "_total") || strings.HasSuffix(k, "_count") || strings.HasSuffix(k, "_sum") || strings.Contains(k, "_total{") {
			if after[k] != v {
				t.Errorf("after the restart %s = %v, want %v", k, after[k], v)
			}
		}
	}
}

// TestSameDayReread: the day filter lists today's tickets at every sync;
// versions already applied are skipped without reading their items, and
// nothing counts twice.
func TestSameDayReread(t *testing.T) {
	start := time.Date(2026, 5, 18, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, fakeedesk.Options{}, start)
	c, tr := e.collector(syncToken)
	e.sync(c)
	e.clk.Add(time.Hour)
	for id := int64(1); id <= 5; id++ {
		at := start.Add(time.Duration(id) * time.Minute)
		e.ed.Put(fakeedesk.Ticket{ID: id, ChannelID: 1, Status: "Open", CreatedAt: at, UpdatedAt: at, Items: []fakeedesk.Item{customer(at)}})
		e.ed.Reply(id, at.Add(time.Minute))
	}
	e.sync(c)
	want := counters(totals(t, tr, e.clk.Now))
	expect(t, want, map[string]float64{"helpdesk_tickets_created_total": 5, "helpdesk_first_reply_seconds_count": 5})
	for range 3 {
		e.ed.ResetRequests()
		e.clk.Add(time.Minute)
		e.sync(c)
		reqs := e.ed.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/v1/tickets" {
			t.Fatalf("an idle sync made %d requests (%v), want the one listing page", len(reqs), reqs)
		}
		q, _ := url.ParseQuery(reqs[0].Query)
		if got := q.Get("filter_last_updated_at_gte"); got != "2026-05-17" {
			t.Errorf("filter_last_updated_at_gte = %q, want the day of the latest change less 12 h", got)
		}
		expect(t, totals(t, tr, e.clk.Now), want)
	}
	// One of the re-read tickets changes in the same second as its last
	// version: the new status is seen.
	e.ed.SetStatus(3, "Closed", time.Time{})
	e.sync(c)
	expect(t, totals(t, tr, e.clk.Now), map[string]float64{"helpdesk_tickets_solved_total": 1, "helpdesk_tickets_created_total": 5})
}

// TestZoneBehindUTC: the account's day starts up to 12 h after the UTC
// day; a change just after the UTC midnight is still listed.
func TestZoneBehindUTC(t *testing.T) {
	start := time.Date(2026, 5, 19, 1, 0, 0, 0, time.UTC)
	e := newEnv(t, fakeedesk.Options{Location: time.FixedZone("UTC-10", -10*3600)}, start)
	e.ed.Put(fakeedesk.Ticket{ID: 1, ChannelID: 1, Status: "Open", CreatedAt: start.Add(-48 * time.Hour), Items: []fakeedesk.Item{customer(start.Add(-48 * time.Hour))}})
	c, tr := e.collector(syncToken)
	e.sync(c)
	e.clk.Add(4 * time.Hour) // 05:00 UTC: 19:00 the day before in the account's zone
	e.ed.Put(fakeedesk.Ticket{ID: 2, ChannelID: 1, Status: "Open", Items: []fakeedesk.Item{customer(time.Time{})}})
	e.sync(c)
	expect(t, totals(t, tr, e.clk.Now), map[string]float64{"helpdesk_tickets_created_total": 1, "helpdesk_open_tickets": 2})
}

// TestKillAndResume: a sync cancelled between pages keeps what it
// committed; the next collector on the same state resumes from the
// persisted page and counts every ticket exactly once.
func TestKillAndResume(t *testing.T) {
	start := time.Date(2026, 5, 18, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, fakeedesk.Options{PageSize: 5}, start)
	c, _ := e.collector(syncToken)
	e.sync(c)
	e.clk.Add(2 * time.Hour)
	const n = 40
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second)
		e.ed.Put(fakeedesk.Ticket{ID: int64(1000 + i), ChannelID: 3, Status: "Closed", CreatedAt: at, UpdatedAt: at,
			Items: []fakeedesk.Item{customer(at), {Type: fakeedesk.TypeMessage, Direction: fakeedesk.Outgoing, CreatedAt: at.Add(10 * time.Minute)},
				{Type: fakeedesk.TypeStatus, Body: "Closed", CreatedAt: at.Add(time.Hour)}}})
	}
	e.ed.SetLatency(100 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	e.ed.ResetRequests()
	go func() {
		for {
			n := 0
			for _, r := range e.ed.Requests() {
				if r.Path == "/v1/tickets" {
					n++
				}
			}
			if n >= 3 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	c1, tr1 := e.collector(syncToken)
	if err := c1.Sync(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("sync = %v, want cancelled", err)
	}
	mid := totals(t, tr1, e.clk.Now)["helpdesk_tickets_created_total"]
	if mid == 0 || mid >= n {
		t.Fatalf("cancelled with %v of %d committed; want a partial sync", mid, n)
	}
	e.ed.SetLatency(0)
	c2, tr2 := e.collector(syncToken)
	e.sync(c2)
	e.sync(c2)
	expect(t, totals(t, tr2, e.clk.Now), map[string]float64{"helpdesk_tickets_created_total": n, "helpdesk_tickets_solved_total": n,
		"helpdesk_first_reply_seconds_count": n, "helpdesk_first_reply_seconds_sum": n * 600,
		"helpdesk_resolution_seconds_count": n, "helpdesk_resolution_seconds_sum": n * 3600})
}

// TestFaults: 429 (eDesk's "Out of quota" with Retry-After) and 500 are
// retried; nothing is lost or counted twice.
func TestFaults(t *testing.T) {
	start := time.Date(2026, 5, 18, 9, 0, 0, 0, time.UTC)
	for _, f := range []fakeedesk.Fault{fakeedesk.Fault429, fakeedesk.Fault500, fakeedesk.FaultTruncated} {
		t.Run(f.String(), func(t *testing.T) {
			e := newEnv(t, fakeedesk.Options{PageSize: 2}, start)
			c, tr := e.collector(syncToken)
			e.sync(c)
			e.clk.Add(time.Hour)
			for id := int64(1); id <= 5; id++ {
				at := start.Add(time.Duration(id) * time.Minute)
				e.ed.Put(fakeedesk.Ticket{ID: id, ChannelID: 1, Status: "Open", CreatedAt: at, UpdatedAt: at, Items: []fakeedesk.Item{customer(at)}})
				e.ed.Reply(id, at.Add(time.Minute))
			}
			e.ed.SetRetryAfter(0)
			e.ed.ResetRequests()
			e.ed.InjectFault(f, 2)
			e.sync(c)
			statuses := map[int]int{}
			for _, r := range e.ed.Requests() {
				statuses[r.Status]++
			}
			if f != fakeedesk.FaultTruncated && statuses[map[fakeedesk.Fault]int{fakeedesk.Fault429: 429, fakeedesk.Fault500: 500}[f]] != 2 {
				t.Errorf("statuses %v, want the 2 faults served", statuses)
			}
			e.sync(c)
			expect(t, totals(t, tr, e.clk.Now), map[string]float64{"helpdesk_tickets_created_total": 5, "helpdesk_first_reply_seconds_count": 5,
				"helpdesk_first_reply_seconds_sum": 5 * 60})
		})
	}
}

// TestBadToken: a refused token fails the sync with an error that names
// the source and the endpoint, never the token.
func TestBadToken(t *testing.T) {
	e := newEnv(t, fakeedesk.Options{}, time.Now().UTC())
	const wrong = "wrong-token-fixture-z9z9"
	c, _ := e.collector(wrong)
	err := c.Sync(context.Background())
	if err == nil {
		t.Fatal("a wrong token synced")
	}
	msg := err.Error()
	for _, want := range []string{"edesk", "/tickets", "401"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	for _, secret := range []string{wrong, syncToken} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q contains a token", msg)
		}
	}
	if _, err := New(Options{BaseURL: "https://api.edesk.com/v1"}); err == nil {
		t.Error("New accepted no token")
	}
}

// TestRequestsPerSync: requests grow with the changes, not with the
// account: ceil(W/100) listing pages (W: tickets changed on or after the
// re-read day) plus one GET /messages/{id} per new item of a changed
// ticket that needs it.
func TestRequestsPerSync(t *testing.T) {
	const changes = 30
	var costs []int
	for _, account := range []int{500, 5000} {
		start := time.Date(2026, 5, 18, 12, 0, 0, 0, time.UTC)
		e := newEnv(t, fakeedesk.Options{}, start)
		old := start.Add(-5 * 24 * time.Hour)
		for i := 1; i <= account; i++ {
			e.ed.Put(fakeedesk.Ticket{ID: int64(i), ChannelID: 1, Status: "Open", CreatedAt: old, UpdatedAt: old,
				Items: []fakeedesk.Item{customer(old)}})
		}
		c, _ := e.collector(syncToken)
		e.sync(c)
		backfill := len(e.ed.Requests())
		if want := int(math.Ceil(float64(account)/100)) + 1; backfill != want {
			t.Errorf("backfill of %d tickets took %d requests, want %d (pages + channels)", account, backfill, want)
		}
		e.clk.Add(time.Minute)
		for i := 1; i <= changes; i++ {
			e.ed.Reply(int64(i*97%account+1), time.Time{}) // an answer: one new item each
		}
		e.ed.ResetRequests()
		e.sync(c)
		got := len(e.ed.Requests())
		want := int(math.Ceil(changes/100.0)) + changes
		t.Logf("account %d: backfill %d requests; sync of %d changes: %d requests (formula %d)", account, backfill, changes, got, want)
		if got != want {
			t.Errorf("account %d: a sync of %d changes took %d requests, want %d", account, changes, got, want)
		}
		costs = append(costs, got)
		// Nothing changed: the day's changes are listed again (one page)
		// and nothing else is read.
		e.ed.ResetRequests()
		e.clk.Add(time.Minute)
		e.sync(c)
		if got := len(e.ed.Requests()); got != 1 {
			t.Errorf("account %d: an idle sync took %d requests, want 1", account, got)
		}
	}
	if costs[0] != costs[1] {
		t.Errorf("the same changes cost %d requests in a small account and %d in a large one", costs[0], costs[1])
	}
}
