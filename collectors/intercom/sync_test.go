package intercom

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakeintercom "github.com/cx-exporter/cx-exporter/internal/fake/intercom"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

const syncToken = "sync-fixture-token"

type rejections struct {
	mu  sync.Mutex
	ids []string
}

func (r *rejections) add(id, reason string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id+":"+reason)
}

func (r *rejections) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

func openStore(tb testing.TB) *state.Store {
	tb.Helper()
	store, err := state.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	return store
}

// newSyncCollector builds a collector on store, restoring the tracker
// from it as the exporter does at start.
func newSyncCollector(tb testing.TB, ic *fakeintercom.Server, store *state.Store, watermark time.Time, rej *rejections) (*Syncer, *helpdesk.Tracker) {
	tb.Helper()
	ls, _ := helpdesk.ParseLabelSet("priority,channel")
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: watermark})
	err := store.Source("intercom").View(func(tx *state.Tx) error {
		return tr.Load(tx.Get(state.KeyAggregates), tx.Records().ForEach)
	})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := New(Options{
		Deps:    source.Deps{Name: "intercom", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry()), RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond}, State: store.Source("intercom"), Reject: rej.add},
		BaseURL: ic.URL,
		Token:   syncToken,
		Tracker: tr,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c, tr
}

// total sums a helpdesk family over its series.
func total(tb testing.TB, tr *helpdesk.Tracker, name string) float64 {
	tb.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(tr.Collector("intercom", time.Now))
	fams, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.Metric {
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

func solvedConv(id string, created time.Time) fakeintercom.Conversation {
	return fakeintercom.Conversation{ID: id, State: "closed", Priority: "not_priority", SourceType: "email", CreatedAt: created,
		FirstAdminReplyAt: created.Add(10 * time.Minute), LastAdminReplyAt: created.Add(10 * time.Minute), LastCloseAt: created.Add(time.Hour)}
}

func TestSyncPagingAndRequests(t *testing.T) {
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: syncToken, MaxPageSize: 5, NoRateLimit: true})
	defer ic.Close()
	old := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	for i := range 12 {
		c := fakeintercom.Conversation{ID: itoa(i + 1), State: "open", Priority: "priority", SourceType: "email", CreatedAt: old, UpdatedAt: old.Add(time.Duration(i) * time.Minute)}
		ic.Put(c)
	}
	store := openStore(t)
	rej := &rejections{}
	c, tr := newSyncCollector(t, ic, store, time.Now(), rej)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := ic.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests for 12 conversations in pages of 5, want 3", len(reqs))
	}
	for i, r := range reqs {
		var body SearchRequest
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatal(err)
		}
		if r.Method != "POST" || r.Path != "/conversations/search" || r.Version != APIVersion || r.Status != 200 {
			t.Errorf("request %d: %s %s version %q status %d", i, r.Method, r.Path, r.Version, r.Status)
		}
		if body.Query.Field != "updated_at" || body.Query.Operator != ">" || body.Query.Value != 0 || body.Pagination.PerPage != 150 ||
			body.Sort.Field != "updated_at" || body.Sort.Order != "ascending" || (i == 0) != (body.Pagination.StartingAfter == "") {
			t.Errorf("request %d body %s", i, r.Body)
		}
	}
	if got := total(t, tr, "helpdesk_open_tickets"); got != 12 {
		t.Errorf("open tickets = %v, want 12", got)
	}
	cur, _ := c.cursor()
	if want := old.Add(11*time.Minute).Unix() - 1; cur.UpdatedAfter != want || cur.StartingAfter != "" {
		t.Errorf("cursor %+v, want updated_after %d", cur, want)
	}
	// The next sync reads only the newest second again.
	ic.ResetRequests()
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if reqs := ic.Requests(); len(reqs) != 1 || !strings.Contains(reqs[0].Body, `"value":`+itoa(int(cur.UpdatedAfter))) {
		t.Errorf("second sync: %+v", reqs)
	}
	if len(rej.list()) != 0 {
		t.Errorf("rejections: %v", rej.list())
	}
}

// TestSyncResume stops a sync between pages (as a kill after a committed
// page does) and resumes on the same store with a fresh collector and
// tracker: every conversation is counted exactly once.
func TestSyncResume(t *testing.T) {
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: syncToken, MaxPageSize: 5, NoRateLimit: true, Latency: 20 * time.Millisecond})
	defer ic.Close()
	store := openStore(t)
	rej := &rejections{}
	wm := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	c1, tr1 := newSyncCollector(t, ic, store, wm, rej)
	created := time.Now().UTC().Truncate(time.Second)
	for i := range 40 {
		ic.Put(solvedConv(itoa(100+i), created))
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(ic.Requests()) < 3 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if err := c1.Sync(ctx); err == nil {
		t.Fatal("the sync was not interrupted")
	}
	part := total(t, tr1, "helpdesk_tickets_created_total")
	if part == 0 || part >= 40 {
		t.Fatalf("%v of 40 counted before the stop, want some", part)
	}
	c2, tr2 := newSyncCollector(t, ic, store, wm, rej)
	if got := total(t, tr2, "helpdesk_tickets_created_total"); got != part {
		t.Fatalf("restored %v created, want %v", got, part)
	}
	if err := c2.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c2.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"helpdesk_tickets_created_total":              40,
		"helpdesk_tickets_solved_total":               40,
		"helpdesk_tickets_solved_first_contact_total": 40,
		"helpdesk_first_reply_seconds":                40, // calendar only: no business hours configured
		"helpdesk_resolution_seconds":                 40,
		"helpdesk_open_tickets":                       0,
	} {
		if got := total(t, tr2, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestSyncFaultsRetried(t *testing.T) {
	for _, f := range []fakeintercom.Fault{fakeintercom.Fault429, fakeintercom.Fault500, fakeintercom.FaultTruncated} {
		t.Run(itoa(int(f)), func(t *testing.T) {
			ic := fakeintercom.NewServer(fakeintercom.Options{Token: syncToken, NoRateLimit: true})
			defer ic.Close()
			ic.Put(solvedConv("1", time.Now().UTC()))
			rej := &rejections{}
			c, tr := newSyncCollector(t, ic, openStore(t), time.Now().Add(-time.Minute), rej)
			ic.InjectFault(f, 1)
			if err := c.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if reqs := ic.Requests(); len(reqs) != 2 || (reqs[0].Status == 200) != (f == fakeintercom.FaultTruncated) || reqs[1].Status != 200 {
				t.Errorf("requests %+v, want a failure then a success", reqs)
			}
			if got := total(t, tr, "helpdesk_tickets_solved_total"); got != 1 {
				t.Errorf("solved = %v, want 1", got)
			}
		})
	}
}

func TestSyncUnknownState(t *testing.T) {
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: syncToken, NoRateLimit: true})
	defer ic.Close()
	now := time.Now().UTC()
	ic.Put(solvedConv("1", now), solvedConv("2", now))
	rej := &rejections{}
	c, tr := newSyncCollector(t, ic, openStore(t), now.Add(-time.Minute), rej)
	ic.InjectFault(fakeintercom.FaultUnknownState, 1)
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rej.list(); len(got) != 1 || got[0] != "1:unknown_value" {
		t.Errorf("rejections %v, want 1:unknown_value", got)
	}
	if got := total(t, tr, "helpdesk_tickets_created_total"); got != 1 {
		t.Errorf("created = %v, want 1", got)
	}
}

func TestSyncUnauthorized(t *testing.T) {
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: "the-right-one"})
	defer ic.Close()
	c, _ := newSyncCollector(t, ic, openStore(t), time.Now(), &rejections{})
	err := c.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), syncToken) {
		t.Errorf("err = %v", err)
	}
}
