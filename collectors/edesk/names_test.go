package edesk

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/fake"
	fakeedesk "github.com/cx-exporter/cx-exporter/internal/fake/edesk"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// TestSyncAssigneeNames: a ticket's owner is its assignee, named through
// GET /v1/users (paged by 100: 150 users are two requests, once for
// several syncs); an owner the list does not know stays its id.
func TestSyncAssigneeNames(t *testing.T) {
	start := time.Date(2026, 5, 18, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, fakeedesk.Options{}, start)
	e.ed.PutAgent(fake.Person{ID: 71, Name: "Ada Lovelace"})
	for i := range 149 {
		e.ed.PutAgent(fake.Person{ID: int64(1000 + i), Name: "Agent"})
	}
	at := start.Add(time.Minute)
	e.ed.Put(fakeedesk.Ticket{ID: 1, ChannelID: 1, Status: "Open", OwnerUserID: 71, CreatedAt: at, UpdatedAt: at, Items: []fakeedesk.Item{customer(at)}})
	e.ed.Put(fakeedesk.Ticket{ID: 2, ChannelID: 1, Status: "Open", OwnerUserID: 72, CreatedAt: at, UpdatedAt: at, Items: []fakeedesk.Item{customer(at)}})
	e.ed.Put(fakeedesk.Ticket{ID: 3, ChannelID: 1, Status: "Open", CreatedAt: at, UpdatedAt: at, Items: []fakeedesk.Item{customer(at)}})
	e.clk.Add(2 * time.Minute)

	ls, _ := helpdesk.ParseLabelSet("assignee")
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: e.wm, Now: e.clk.Now})
	deps := source.Deps{Name: "edesk", State: e.store.Source("edesk"), Now: e.clk.Now,
		Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry()), RetryMax: 1}}.WithDefaults()
	c, err := New(Options{Deps: deps, BaseURL: e.ed.URL, Token: syncToken, Watermark: e.wm, Tracker: tr})
	if err != nil {
		t.Fatal(err)
	}
	c.o.Names = source.Env{Deps: deps, Helpdesk: helpdesk.Config{Labels: ls}, AgentLabel: source.AgentLabelName}.Names(c.Directory())
	e.sync(c)
	e.clk.Add(time.Minute)
	e.sync(c)
	err = testutil.CollectAndCompare(tr.Collector("edesk", e.clk.Now), strings.NewReader(`
# HELP helpdesk_tickets_created_total Tickets created.
# TYPE helpdesk_tickets_created_total counter
helpdesk_tickets_created_total{assignee="72",source="edesk"} 1
helpdesk_tickets_created_total{assignee="Ada Lovelace",source="edesk"} 1
helpdesk_tickets_created_total{assignee="none",source="edesk"} 1
`), "helpdesk_tickets_created_total")
	if err != nil {
		t.Error(err)
	}
	users := 0
	for _, r := range e.ed.Requests() {
		if r.Path == "/v1/users" {
			users++
		}
	}
	if users != 2 {
		t.Errorf("%d users requests, want 2 (150 users, pages of 100, one read)", users)
	}
}
