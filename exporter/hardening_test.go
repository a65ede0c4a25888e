package exporter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
)

// fakeSource is a source whose Sync and collector the test chooses.
type fakeSource struct {
	sync func(ctx context.Context) error
	c    prometheus.Collector
}

func (f *fakeSource) Sync(ctx context.Context) error  { return f.sync(ctx) }
func (f *fakeSource) Collector() prometheus.Collector { return f.c }

// fixedCollector renders the metrics it is given.
type fixedCollector struct {
	descs   []*prometheus.Desc
	metrics func() []prometheus.Metric
}

func (c *fixedCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *fixedCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.metrics() {
		ch <- m
	}
}

var (
	gaugeDesc   = prometheus.NewDesc("test_backlog", "A backlog gauge.", []string{"group"}, prometheus.Labels{"source": "fake"})
	counterDesc = prometheus.NewDesc("test_created_total", "A counter.", []string{"group"}, prometheus.Labels{"source": "fake"})
)

func kpis() []prometheus.Metric {
	return []prometheus.Metric{
		helpdesk.ConstMetric(gaugeDesc, prometheus.GaugeValue, 7, "a"),
		helpdesk.ConstMetric(counterDesc, prometheus.CounterValue, 1, "a"),
	}
}

// newTestExporter is an exporter on the state in dir with the given
// sources (all named fake*, kind fake).
func newTestExporter(t testing.TB, dir string, srcs map[string]*fakeSource) *Exporter {
	t.Helper()
	store, err := state.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := &Config{PollInterval: time.Hour, SyncTimeout: time.Minute}
	e, client := newExporter(cfg, slog.New(slog.DiscardHandler), Build{Version: "test"}, store)
	for _, name := range slices.Sorted(maps.Keys(srcs)) { // in name order, as configured sources are added in a fixed order
		if err := e.addSource(&runningSource{name: name, kind: "fake", role: source.RoleHelpdesk, Source: srcs[name]}, client.Metrics); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func scrape(t *testing.T, e *Exporter) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Code, rec.Body.String()
}

// TestBackfillIsNotDown (item 1): a sync that runs out of time after
// committing pages is progress: the source stays up, the backfill shows as
// such, its gauges are withheld until the first sync that reaches the end,
// which is persisted.
func TestBackfillIsNotDown(t *testing.T) {
	dir := t.TempDir()
	var done atomic.Bool
	var st *state.Source
	fs := &fakeSource{c: &fixedCollector{descs: []*prometheus.Desc{gaugeDesc, counterDesc}, metrics: kpis}}
	fs.sync = func(ctx context.Context) error {
		if err := st.Update(func(tx *state.Tx) error { return tx.Put(state.KeyCursor, []byte("page")) }); err != nil {
			return err
		}
		if done.Load() {
			return nil
		}
		<-ctx.Done()
		return ctx.Err()
	}
	e := newTestExporter(t, dir, map[string]*fakeSource{"fake": fs})
	st = e.store.Source("fake")
	e.cfg.SyncTimeout = 50 * time.Millisecond
	up := e.self.up.WithLabelValues("fake", "fake")
	backfill := e.self.backfill.WithLabelValues("fake")

	if v := testutil.ToFloat64(backfill); v != 1 {
		t.Fatalf("backfill_in_progress = %v before the first sync", v)
	}
	e.syncOnce(context.Background(), e.sources[0])
	if v := testutil.ToFloat64(up); v != 1 {
		t.Errorf("source_up = %v after a sync that ran out of time mid-backfill having committed pages", v)
	}
	if v := testutil.ToFloat64(backfill); v != 1 {
		t.Errorf("backfill_in_progress = %v mid-backfill", v)
	}
	code, body := scrape(t, e)
	if code != 200 || strings.Contains(body, "test_backlog") || !strings.Contains(body, "test_created_total") {
		t.Errorf("mid-backfill scrape (%d): want the counter and not the gauge:\n%s", code, body)
	}
	if strings.Contains(body, "cx_exporter_last_sync_success_timestamp_seconds{") {
		t.Error("a partial sync set the last success")
	}
	if e.Ready() {
		t.Error("ready before the first backfill completes")
	}

	// No progress at all within the deadline: that is a failure.
	e2 := newTestExporter(t, t.TempDir(), map[string]*fakeSource{"stuck": {c: fs.c, sync: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}})
	e2.cfg.SyncTimeout = 20 * time.Millisecond
	e2.syncOnce(context.Background(), e2.sources[0])
	if v := testutil.ToFloat64(e2.self.up.WithLabelValues("stuck", "fake")); v != 0 {
		t.Errorf("source_up = %v after a sync that timed out without committing anything", v)
	}

	done.Store(true)
	e.syncOnce(context.Background(), e.sources[0])
	if v := testutil.ToFloat64(backfill); v != 0 {
		t.Errorf("backfill_in_progress = %v after the sync that reached the end", v)
	}
	if _, body := scrape(t, e); !strings.Contains(body, `test_backlog{group="a",source="fake"} 7`) {
		t.Errorf("gauge not exported after the backfill:\n%s", body)
	}
	if !e.Ready() {
		t.Error("not ready after the backfill")
	}
	// Persisted: a restart does not start the backfill state over.
	e.store.Close()
	e3 := newTestExporter(t, dir, map[string]*fakeSource{"fake": fs})
	if v := testutil.ToFloat64(e3.self.backfill.WithLabelValues("fake")); v != 0 {
		t.Errorf("backfill_in_progress = %v after a restart", v)
	}
}

// TestHungCommitMarksDown (item 12): a state commit that takes longer than
// the bound marks the source down while it hangs (the sync cannot return
// to say so), and a slow commit that did finish fails the sync.
func TestHungCommitMarksDown(t *testing.T) {
	var e *Exporter
	fs := &fakeSource{c: &fixedCollector{metrics: func() []prometheus.Metric { return nil }}}
	fs.sync = func(context.Context) error {
		return e.store.Source("fake").Update(func(tx *state.Tx) error { return tx.Put(state.KeyCursor, []byte("c")) })
	}
	e = newTestExporter(t, t.TempDir(), map[string]*fakeSource{"fake": fs})
	e.limits.commit, e.limits.watch = 150*time.Millisecond, 10*time.Millisecond
	up := e.self.up.WithLabelValues("fake", "fake")
	e.syncOnce(context.Background(), e.sources[0])
	if v := testutil.ToFloat64(up); v != 1 {
		t.Fatalf("source_up = %v after a healthy sync", v)
	}

	release := make(chan struct{})
	e.store.SetCommitHook(func(string) { <-release })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.watchCommits(ctx)
	synced := make(chan struct{})
	go func() { e.syncOnce(context.Background(), e.sources[0]); close(synced) }()
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(up) != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if v := testutil.ToFloat64(up); v != 0 {
		t.Fatalf("source_up = %v while a commit hangs", v)
	}
	e.mu.Lock()
	msg := e.status["fake"].lastErr
	e.mu.Unlock()
	if !strings.Contains(msg, "hung") {
		t.Errorf("landing-page error %q does not say the disk may be hung", msg)
	}
	close(release)
	<-synced
	if v := testutil.ToFloat64(up); v != 0 {
		t.Errorf("source_up = %v after a sync whose commit took longer than the bound", v)
	}
	e.store.SetCommitHook(nil)
	e.syncOnce(context.Background(), e.sources[0])
	if v := testutil.ToFloat64(up); v != 1 {
		t.Errorf("source_up = %v once commits are fast again", v)
	}
}

// panicky panics half-way through a scrape.
type panicky struct{}

func (panicky) Describe(ch chan<- *prometheus.Desc) { ch <- gaugeDesc }
func (panicky) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(gaugeDesc, prometheus.GaugeValue, 1, "ok")
	ch <- prometheus.MustNewConstMetric(gaugeDesc, prometheus.GaugeValue, 1, "bad\xff")
}

// TestScrapeSurvivesBadSeries (item 5): a label value with invalid UTF-8
// (from a damaged state file) is sanitised, a collector that panics loses
// its own series only, and /metrics answers 200 with everything else.
func TestScrapeSurvivesBadSeries(t *testing.T) {
	ls, err := helpdesk.ParseLabelSet("priority,channel,group")
	if err != nil {
		t.Fatal(err)
	}
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls})
	bad := helpdesk.State{Status: helpdesk.StatusOpen, CreatedAt: 1, UpdatedAt: 1, Priority: "normal",
		Labels: [6]string{"normal", "web", "sup\xffport", "none", "none", "none"}}
	v, _ := bad.MarshalBinary()
	if err := tr.Load(nil, func(fn func(id string, v []byte) error) error { return fn("1", v) }); err != nil {
		t.Fatal(err)
	}
	hd := &fakeSource{c: tr.Collector("zendesk", time.Now), sync: func(context.Context) error { return nil }}
	pan := &fakeSource{c: panicky{}, sync: func(context.Context) error { return nil }}
	e := newTestExporter(t, t.TempDir(), map[string]*fakeSource{"zendesk": hd, "fake": pan})
	for _, s := range e.sources {
		e.syncOnce(context.Background(), s)
	}
	code, body := scrape(t, e)
	if code != 200 {
		t.Fatalf("/metrics = %d:\n%s", code, body)
	}
	for _, want := range []string{
		`cx_exporter_source_up{kind="fake",source="zendesk"} 1`,
		"helpdesk_open_tickets{channel=\"web\",group=\"sup\uFFFDport\",priority=\"normal\",source=\"zendesk\",status=\"open\"} 1",
		`test_backlog{group="ok",source="fake"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "panic") || strings.Contains(body, "[running]") {
		t.Error("/metrics shows a stack")
	}
}

// TestHTTPServerLimits (item 6): connections that send nothing are closed
// after the header timeout, idle keep-alive connections after the idle
// timeout, and at most maxConns are served at once.
func TestHTTPServerLimits(t *testing.T) {
	e := newTestExporter(t, t.TempDir(), nil)
	e.limits.readHeader, e.limits.read, e.limits.idle, e.limits.maxConns = 500*time.Millisecond, time.Second, 300*time.Millisecond, 4
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx, l) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			t.Error(err)
		}
	}()
	addr := l.Addr().String()
	get := func(timeout time.Duration) error {
		c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
		r, err := c.Get("http://" + addr + "/-/healthy")
		if err != nil {
			return err
		}
		r.Body.Close()
		if r.StatusCode != 200 {
			return fmt.Errorf("status %d", r.StatusCode)
		}
		return nil
	}
	if err := get(2 * time.Second); err != nil {
		t.Fatal(err)
	}

	// Four silent connections fill the limit: a fifth is not served.
	var idle []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	time.Sleep(50 * time.Millisecond)
	if err := get(200 * time.Millisecond); err == nil {
		t.Error("a fifth connection was served with 4 allowed and 4 open")
	}
	// The silent ones are closed by the header timeout; then there is room.
	for i, c := range idle {
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Errorf("silent connection %d: read %v, want EOF (closed by the server)", i, err)
		}
	}
	if err := get(2 * time.Second); err != nil {
		t.Errorf("after the silent connections were closed: %v", err)
	}

	// A keep-alive connection left idle after a request is closed.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	r, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("idle keep-alive connection: read %v, want EOF", err)
	} else if d := time.Since(start); d > 2*time.Second {
		t.Errorf("idle keep-alive connection closed after %s", d)
	}
}
