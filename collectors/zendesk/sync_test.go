package zendesk

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/fake"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
	"github.com/cx-exporter/cx-exporter/internal/metricstest"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

const (
	syncEmail = "sync@example.invalid"
	syncToken = "sync-fixture-token"
)

func newSyncCollector(tb testing.TB, zd *fakezendesk.Server, watermark time.Time) (*Syncer, *helpdesk.Tracker) {
	tb.Helper()
	store, err := state.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	ls, _ := helpdesk.ParseLabelSet("priority,channel")
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: watermark})
	c, err := New(Options{
		Deps:                    source.Deps{Name: "zendesk", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry()), RetryWaitMin: time.Millisecond, RetryWaitMax: 10 * time.Millisecond}, State: store.Source("zendesk"), Reject: func(id, reason string, err error) { tb.Errorf("rejected %s (%s): %v", id, reason, err) }},
		BaseURL:                 zd.URL,
		Email:                   syncEmail,
		APIToken:                syncToken,
		ExportRequestsPerMinute: 100000,
		Tracker:                 tr,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c, tr
}

// TestRequestsPerSync checks that syncs cost requests in proportion to the
// changes, not to the account: ceil(changes/1000)+1 at most.
func TestRequestsPerSync(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100k-ticket account")
	}
	const account, changes = 100_000, 100
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: syncEmail, APIToken: syncToken, NoRateLimit: true})
	defer zd.Close()
	created := time.Now().UTC().Add(-30 * 24 * time.Hour)
	for i := 1; i <= account; i++ {
		zd.Put(fakezendesk.Ticket{ID: int64(i), Status: "closed", Priority: "normal", Channel: "email", CreatedAt: created,
			Metrics: fakezendesk.Metrics{Replies: 1}})
	}
	c, tr := newSyncCollector(t, zd, time.Now())
	ctx := context.Background()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	backfill := len(zd.Requests())
	if want := account/1000 + 1; backfill > want {
		t.Errorf("backfill of %d tickets took %d requests, want at most %d", account, backfill, want)
	}
	for i := 1; i <= changes; i++ {
		zd.Put(fakezendesk.Ticket{ID: int64(i * 997 % account), Status: "open", Priority: "high", Channel: "web", CreatedAt: created,
			Metrics: fakezendesk.Metrics{Replies: 1, Reopens: 1}})
	}
	zd.ResetRequests()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got := len(zd.Requests())
	want := int(math.Ceil(changes/1000.0)) + 1
	t.Logf("account %d tickets: backfill %d requests; sync of %d changes: %d requests (bound %d)", account, backfill, changes, got, want)
	if got > want {
		t.Errorf("a sync of %d changes took %d requests, want at most %d", changes, got, want)
	}
	if n := tr.OpenTickets(); n != changes {
		t.Errorf("backlog = %d, want the %d reopened tickets", n, changes)
	}
	// Nothing changed: one request.
	zd.ResetRequests()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(zd.Requests()); got != 1 {
		t.Errorf("an idle sync took %d requests, want 1", got)
	}
}

// TestFetchTicketsResolvesNames: a ticket read by id for a webhook is
// labelled with its assignee's and group's names, as the export labels
// it, never with their ids (which would split an agent's series in two).
func TestFetchTicketsResolvesNames(t *testing.T) {
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: syncEmail, APIToken: syncToken, NoRateLimit: true})
	defer zd.Close()
	zd.PutAgent(fake.Person{ID: 501, Name: "Ada Lovelace"})
	zd.PutGroup(fake.Person{ID: 601, Name: "Billing"})
	c, tr := newSyncCollector(t, zd, time.Now().Add(-time.Hour))
	ls, _ := helpdesk.ParseLabelSet("group,assignee")
	tr = helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: time.Now().Add(-time.Hour)})
	c.o.Tracker = tr
	c.o.Names = source.Env{Deps: c.o.Deps, Helpdesk: helpdesk.Config{Labels: ls}, AgentLabel: source.AgentLabelName}.Names(c.Directory())
	zd.Put(fakezendesk.Ticket{ID: 7, Status: "open", Priority: "normal", Channel: "email", CreatedAt: time.Now().UTC(),
		AssigneeID: 501, GroupID: 601})
	if found, err := c.FetchTickets(context.Background(), []string{"7"}); err != nil || len(found) != 1 {
		t.Fatalf("FetchTickets: %v %v", found, err)
	}
	got := metricstest.Samples(t, tr.Collector("zendesk", time.Now))
	if v := got[`helpdesk_open_tickets{assignee="Ada Lovelace",group="Billing",status="open"}`]; v != 1 {
		t.Errorf("open tickets of Ada Lovelace in Billing = %v, want 1; samples:\n%v", v, got)
	}
	for k := range got {
		if strings.Contains(k, `"501"`) || strings.Contains(k, `"601"`) {
			t.Errorf("series labelled by id: %s", k)
		}
	}
}
