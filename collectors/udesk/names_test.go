package udesk

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/fake"
	fakeudesk "github.com/cx-exporter/cx-exporter/internal/fake/udesk"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// TestSyncAssigneeNames: a work order's assignee_id and user_group_id are
// named through the agents and user-group lists (pages of 100: 150 agents
// are two requests, one group page), read once for several syncs.
func TestSyncAssigneeNames(t *testing.T) {
	wm := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	e := newEnv(t, fakeudesk.Options{}, wm)
	e.ud.PutAgent(fake.Person{ID: 501, Name: "张伟", Group: 31001})
	for i := range 149 {
		e.ud.PutAgent(fake.Person{ID: int64(1000 + i), Name: "Agent"})
	}
	e.ud.PutGroup(fake.Person{ID: 31001, Name: "售后组"})
	created := wm.Add(time.Minute)
	e.ud.Put(fakeudesk.Ticket{ID: 1, StatusID: 1, PriorityID: 3, Platform: "email", CreatedAt: created, AssigneeID: 501, GroupID: 31001})
	e.ud.Put(fakeudesk.Ticket{ID: 2, StatusID: 1, PriorityID: 3, Platform: "email", CreatedAt: created})

	ls, _ := helpdesk.ParseLabelSet("group,assignee")
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: e.wm})
	deps := source.Deps{Name: "udesk", State: e.store.Source("udesk"),
		Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry()), RetryMax: 1}}.WithDefaults()
	c, err := New(Options{Deps: deps, BaseURL: e.ud.URL, Email: syncEmail, Token: syncToken, RequestsPerMinute: e.rpm, Tracker: tr})
	if err != nil {
		t.Fatal(err)
	}
	c.o.Names = source.Env{Deps: deps, Helpdesk: helpdesk.Config{Labels: ls}, AgentLabel: source.AgentLabelName}.Names(c.Directory())
	for range 2 {
		if err := c.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	err = testutil.CollectAndCompare(tr.Collector("udesk", time.Now), strings.NewReader(`
# HELP helpdesk_tickets_created_total Tickets created.
# TYPE helpdesk_tickets_created_total counter
helpdesk_tickets_created_total{assignee="none",group="none",source="udesk"} 1
helpdesk_tickets_created_total{assignee="张伟",group="售后组",source="udesk"} 1
`), "helpdesk_tickets_created_total")
	if err != nil {
		t.Error(err)
	}
	n := 0
	for _, r := range e.ud.Requests() {
		if r.Path == AgentsPath || r.Path == UserGroupsPath {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d directory requests, want 3 (two agent pages, one group page)", n)
	}
}
