package zendesk

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// rejections records what a syncer rejected.
type rejections struct {
	mu      sync.Mutex
	reasons []string
}

func (r *rejections) reject(_, reason string, _ error) {
	r.mu.Lock()
	r.reasons = append(r.reasons, reason)
	r.mu.Unlock()
}

func (r *rejections) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reasons...)
}

func newFaultSyncer(t *testing.T, base string, rj *rejections) (*Syncer, *upstream.Metrics) {
	t.Helper()
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ls, _ := helpdesk.ParseLabelSet("priority,channel")
	m := upstream.NewMetrics(prometheus.NewRegistry())
	c, err := New(Options{
		Deps: source.Deps{Name: "zendesk", State: store.Source("zendesk"), Reject: rj.reject,
			Client: upstream.Options{Metrics: m, RetryMax: -1, Timeout: 300 * time.Millisecond}},
		BaseURL: base, Email: syncEmail, APIToken: syncToken, ExportRequestsPerMinute: 100000,
		Tracker: helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: time.Now()}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

// TestTransportFaultsAreNotRejections: a truncated page, a page whose body
// stalls past the request timeout, and a connection reset drop no record:
// the sync fails, the attempt counts as
// cx_exporter_api_requests_total{code="error"}, and
// cx_exporter_records_rejected_total is not touched.
func TestTransportFaultsAreNotRejections(t *testing.T) {
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: syncEmail, APIToken: syncToken, NoRateLimit: true})
	t.Cleanup(zd.Close)
	zd.Put(fakezendesk.Ticket{ID: 1, Status: "open", Priority: "normal", Channel: "web", CreatedAt: time.Now().UTC()})
	zd.SetSlowDelay(2 * time.Second)

	for _, f := range []fakezendesk.Fault{fakezendesk.FaultTruncated, fakezendesk.FaultSlow, fakezendesk.FaultDown} {
		t.Run(f.String(), func(t *testing.T) {
			rj := &rejections{}
			c, m := newFaultSyncer(t, zd.URL, rj)
			zd.InjectFault(f, 1)
			if err := c.Sync(context.Background()); err == nil {
				t.Fatal("the sync succeeded through the fault")
			}
			if got := rj.list(); len(got) != 0 {
				t.Errorf("rejected %v for a transport fault", got)
			}
			if got := testutil.ToFloat64(m.Requests.WithLabelValues("zendesk", "error")); got != 1 {
				t.Errorf(`requests{code="error"} = %v, want 1`, got)
			}
			// The next sync fetches the page again and counts the ticket.
			if err := c.Sync(context.Background()); err != nil {
				t.Fatalf("sync after the fault: %v", err)
			}
		})
	}
}

// TestNonsensePageIsMalformed: a page that decodes as JSON but makes no
// sense is still a malformed_page.
func TestNonsensePageIsMalformed(t *testing.T) {
	for name, body := range map[string]string{
		"wrong type":      `{"tickets":"none","end_of_stream":true}`,
		"no after_cursor": `{"tickets":[],"end_of_stream":false}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(body))
			}))
			t.Cleanup(s.Close)
			rj := &rejections{}
			c, _ := newFaultSyncer(t, s.URL, rj)
			if err := c.Sync(context.Background()); err == nil {
				t.Fatal("a nonsense page synced")
			}
			if got := rj.list(); len(got) != 1 || got[0] != "malformed_page" {
				t.Errorf("rejections %v, want one malformed_page", got)
			}
		})
	}
}
