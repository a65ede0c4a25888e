package helpscout

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakehelpscout "github.com/cx-exporter/cx-exporter/internal/fake/helpscout"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

const (
	syncAppID  = "sync-app"
	syncSecret = "sync-fixture-secret-k2p9"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type harness struct {
	t       *testing.T
	hs      *fakehelpscout.Server
	clk     *clock
	store   *state.Store
	wm      time.Time
	metrics *upstream.Metrics
	logs    *bytes.Buffer
	secret  string
}

func newHarness(t *testing.T, o fakehelpscout.Options) *harness {
	clk := &clock{t: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
	o.AppID, o.AppSecret, o.Now, o.NoRateLimit = syncAppID, syncSecret, clk.Now, true
	hs := fakehelpscout.NewServer(o)
	t.Cleanup(hs.Close)
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &harness{t: t, hs: hs, clk: clk, store: store, wm: clk.Now().Add(-time.Hour),
		metrics: upstream.NewMetrics(prometheus.NewRegistry()), logs: &bytes.Buffer{}, secret: syncSecret}
}

// collector builds a collector and a tracker loaded from the store, as a
// process start does.
func (h *harness) collector() (*Syncer, *helpdesk.Tracker) {
	h.t.Helper()
	ls, _ := helpdesk.ParseLabelSet("priority,channel")
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: h.wm})
	err := h.store.Source("helpscout").View(func(tx *state.Tx) error {
		return tr.Load(tx.Get(state.KeyAggregates), tx.Records().ForEach)
	})
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := New(Options{
		Deps:      source.Deps{Name: "helpscout", Client: upstream.Options{Metrics: h.metrics, RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond}, State: h.store.Source("helpscout"), Reject: func(id, reason string, err error) { h.t.Errorf("rejected %s (%s): %v", id, reason, err) }, Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: h.clk.Now},
		BaseURL:   h.hs.URL,
		AppID:     syncAppID,
		AppSecret: h.secret,
		Watermark: h.wm,
		Tracker:   tr,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return c, tr
}

// total sums a helpdesk metric over all its series.
func total(t *testing.T, tr *helpdesk.Tracker, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(tr.Collector("helpscout", time.Now))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

func (h *harness) requests(path string) []fakehelpscout.Request {
	var out []fakehelpscout.Request
	for _, r := range h.hs.Requests() {
		if r.Path == path || (strings.HasSuffix(path, "*") && strings.HasPrefix(r.Path, strings.TrimSuffix(path, "*"))) {
			out = append(out, r)
		}
	}
	return out
}

// seed puts conversations 1..n modified one second apart, ending at the
// clock's now minus 8 s, each with an agent reply; and one conversation
// closed before the watermark.
func (h *harness) seed(n int) time.Time {
	t0 := h.clk.Now()
	h.clk.Set(t0.Add(-24 * time.Hour))
	h.hs.Put(fakehelpscout.Conversation{ID: 900, Status: "closed", Source: "email", CreatedAt: t0.Add(-48 * time.Hour), ClosedAt: t0.Add(-24 * time.Hour)})
	h.hs.AddThread(900, fakehelpscout.Thread{CreatedAt: t0.Add(-47 * time.Hour)})
	for i := 1; i <= n; i++ {
		h.clk.Set(t0.Add(-time.Duration(8+n-i) * time.Second))
		created := t0.Add(-10 * time.Minute)
		h.hs.Put(fakehelpscout.Conversation{ID: int64(i), Status: "active", Source: "email", CreatedAt: created})
		h.hs.AddThread(int64(i), fakehelpscout.Thread{CreatedAt: created.Add(time.Minute)})
	}
	h.clk.Set(t0)
	return t0
}

func TestSyncPagingResumeAndThreads(t *testing.T) {
	h := newHarness(t, fakehelpscout.Options{PageSize: 5})
	h.seed(12)

	// A first process handles one page and dies (a cancelled context
	// stops Sync after the page in flight is committed).
	c, _ := h.collector()
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sync(dead); err == nil {
		t.Fatal("a cancelled sync reported success")
	}
	if n := len(h.requests(ConversationsPath)); n != 1 {
		t.Fatalf("%d listing requests before the kill, want 1", n)
	}
	// The next process resumes from page 2 on the same store.
	c, tr := h.collector()
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	var pages []string
	for _, r := range h.requests(ConversationsPath) {
		pages = append(pages, r.Query[strings.Index(r.Query, "page="):][:6])
	}
	if got := strings.Join(pages, ","); got != "page=1,page=2,page=3" {
		t.Errorf("listing pages %s, want page=1,page=2,page=3 (13 conversations, 5 a page)", got)
	}
	if got := total(t, tr, "helpdesk_tickets_created_total"); got != 12 {
		t.Errorf("created %v, want 12", got)
	}
	if got := total(t, tr, "helpdesk_first_reply_seconds"); got != 12 {
		t.Errorf("first replies %v, want 12", got)
	}
	if got := total(t, tr, "helpdesk_open_tickets"); got != 12 {
		t.Errorf("open %v, want 12", got)
	}
	if got := total(t, tr, "helpdesk_tickets_solved_total"); got != 0 {
		t.Errorf("solved %v, want 0 (conversation 900 was closed before the watermark)", got)
	}
	if got := len(h.requests("/v2/conversations/*")); got != 13 {
		t.Errorf("%d thread requests, want 13 (one per new conversation)", got)
	}

	// Next sync: conversation 3 is closed, 13 is new; only they need threads.
	h.hs.ResetRequests()
	h.clk.Advance(time.Minute)
	cv, _ := h.hs.Get(3)
	cv.Status, cv.ClosedAt, cv.ModifiedAt = "closed", h.clk.Now(), time.Time{}
	h.hs.Put(cv)
	h.hs.Put(fakehelpscout.Conversation{ID: 13, Status: "active", Source: "chat", CreatedAt: h.clk.Now()})
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	var threads []string
	for _, r := range h.requests("/v2/conversations/*") {
		threads = append(threads, r.Path)
	}
	if got := strings.Join(threads, ","); got != "/v2/conversations/3/threads,/v2/conversations/13/threads" {
		t.Errorf("threads fetched for %s, want only 3 and 13", got)
	}
	if got := total(t, tr, "helpdesk_tickets_solved_first_contact_total"); got != 1 {
		t.Errorf("FCR %v, want 1", got)
	}
	if got := total(t, tr, "helpdesk_tickets_created_total"); got != 13 {
		t.Errorf("created %v, want 13", got)
	}
	// A quiet sync re-reads one page (the overlap of the last second) and
	// the threads of the one conversation there still awaiting a reply.
	h.hs.ResetRequests()
	h.clk.Advance(time.Minute)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l, th := len(h.requests(ConversationsPath)), len(h.requests("/v2/conversations/*")); l != 1 || th != 1 {
		t.Errorf("quiet sync: %d listing and %d thread requests, want 1 and 1", l, th)
	}
}

func TestSyncFaultsRetried(t *testing.T) {
	h := newHarness(t, fakehelpscout.Options{PageSize: 5})
	h.seed(7)
	c, tr := h.collector()
	for _, f := range []fakehelpscout.Fault{fakehelpscout.FaultServerError, fakehelpscout.FaultTruncated, fakehelpscout.FaultRateLimit} {
		h.hs.InjectFault(f, 1)
		if err := c.Sync(context.Background()); err != nil {
			t.Fatalf("fault %d: %v", f, err)
		}
	}
	if got := total(t, tr, "helpdesk_tickets_created_total"); got != 7 {
		t.Errorf("created %v, want 7", got)
	}
	for _, reason := range []string{"server_error", "transport", "rate_limited"} {
		if got := testutil.ToFloat64(h.metrics.Retries.WithLabelValues("helpscout", reason)); got != 1 {
			t.Errorf("retries{reason=%s} = %v, want 1", reason, got)
		}
	}
	if got := testutil.ToFloat64(h.metrics.RateLimitRemaining.WithLabelValues("helpscout")); got != 400 {
		t.Errorf("rate limit remaining %v, want 400", got)
	}
}

func TestTokenRefresh(t *testing.T) {
	h := newHarness(t, fakehelpscout.Options{TokenTTL: 10 * time.Minute})
	h.seed(2)
	c, _ := h.collector()
	sync := func() {
		t.Helper()
		if err := c.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	sync()
	if n := len(h.requests(TokenPath)); n != 1 {
		t.Fatalf("%d token requests, want 1 (cached)", n)
	}
	// Refreshed before expiry: 9 of 10 minutes later the token is renewed.
	h.clk.Advance(9*time.Minute + 30*time.Second)
	sync()
	if n := len(h.requests(TokenPath)); n != 2 {
		t.Fatalf("%d token requests, want 2 (refreshed before expiry)", n)
	}
	for _, r := range h.hs.Requests() {
		if r.Status == 401 {
			t.Fatalf("a request was refused: %+v", r)
		}
	}
	// A token revoked early: the 401 refreshes it once and the sync succeeds.
	h.hs.InjectFault(fakehelpscout.FaultExpireTokens, 1)
	sync()
	if n := len(h.requests(TokenPath)); n != 3 {
		t.Fatalf("%d token requests, want 3 (refreshed on 401)", n)
	}
	// Bad credentials: an error naming the endpoint and status, not the secret.
	h.secret = "wrong-secret-z8"
	bad, _ := h.collector()
	err := bad.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("bad credentials: %v", err)
	}
	for _, s := range []string{"wrong-secret-z8", syncSecret, "fake-access"} {
		if strings.Contains(err.Error(), s) || strings.Contains(h.logs.String(), s) {
			t.Errorf("%q leaked into the error or the logs", s)
		}
	}
}

func TestRatings(t *testing.T) {
	h := newHarness(t, fakehelpscout.Options{})
	h.seed(3)
	h.hs.RateAt(900, "great", h.clk.Now().Add(-24*time.Hour)) // history
	c, tr := h.collector()
	sync := func() {
		t.Helper()
		h.clk.Advance(time.Minute)
		if err := c.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	if got := total(t, tr, "helpdesk_satisfaction_ratings_total"); got != 0 {
		t.Fatalf("ratings %v, want 0", got)
	}
	h.hs.Rate(1, "great")
	sync()
	h.hs.ResetRequests()
	sync() // the same rating again in the overlap: no conversation fetched
	if n := len(h.requests("/v2/conversations/1")); n != 0 {
		t.Errorf("an unchanged rating fetched its conversation %d times", n)
	}
	h.hs.Rate(1, "not_good")
	h.hs.Rate(2, "okay")
	sync()
	if got := total(t, tr, "helpdesk_satisfaction_ratings_total"); got != 3 {
		t.Errorf("ratings %v, want 3 (great, then not good, and okay)", got)
	}
	// Plan-gated reports: one warning, the source stays up.
	h.hs.SetRatingsForbidden(true)
	sync()
	sync()
	if n := strings.Count(h.logs.String(), "ratings disabled"); n != 1 {
		t.Errorf("%d warnings about disabled ratings, want 1", n)
	}
}
