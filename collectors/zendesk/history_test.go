package zendesk

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

func testDeps() source.Deps {
	return source.Deps{Name: "zendesk", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry())}}
}

type recorder struct {
	at       []time.Time
	versions []helpdesk.Ticket
	// snapAt and snap take a checkpoint at the Advance to snapAt.
	snapAt time.Time
	snap   func()
}

func (r *recorder) Advance(at time.Time) error {
	if at.Equal(r.snapAt) && r.snap != nil {
		r.snap()
	}
	r.at = append(r.at, at)
	return nil
}

func (r *recorder) Ticket(t *helpdesk.Ticket) error            { r.versions = append(r.versions, *t); return nil }
func (r *recorder) Subscription(s *billing.Subscription) error { return nil }

func TestHistoryReplay(t *testing.T) {
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: "a@example.invalid", APIToken: "tok", RateLimit: 10000, PageSize: 1})
	defer zd.Close()
	t0 := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Hour)
	old := zd.CreateTicket(fakezendesk.Ticket{Priority: "low", Channel: "email"}, t0)
	zd.UpdateTicket(old, t0.Add(30*time.Minute), func(t *fakezendesk.Ticket) { t.Status = "pending" }, fakezendesk.Comment{AuthorID: 7, Public: true})
	zd.UpdateTicket(old, t0.Add(2*time.Hour), func(t *fakezendesk.Ticket) { t.Status = "solved" })
	id := zd.CreateTicket(fakezendesk.Ticket{Priority: "urgent", Channel: "chat"}, t0.Add(3*time.Hour))
	zd.UpdateTicket(id, t0.Add(4*time.Hour), nil, fakezendesk.Comment{AuthorID: fakezendesk.RequesterID(id), Public: true})
	zd.UpdateTicket(id, t0.Add(5*time.Hour), func(t *fakezendesk.Ticket) { t.Status = "open" }, fakezendesk.Comment{AuthorID: 7, Public: false})
	zd.UpdateTicket(id, t0.Add(6*time.Hour), nil, fakezendesk.Comment{AuthorID: 7, Public: true})
	zd.UpdateTicket(id, t0.Add(7*time.Hour), func(t *fakezendesk.Ticket) { t.Status = "solved" })
	zd.UpdateTicket(id, t0.Add(8*time.Hour), func(t *fakezendesk.Ticket) { t.Satisfaction = "bad" })
	zd.UpdateTicket(id, t0.Add(9*time.Hour), func(t *fakezendesk.Ticket) { t.Status = "open" })

	h, err := NewHistory(Options{Deps: testDeps(), BaseURL: zd.URL, Email: "a@example.invalid", APIToken: "tok", ExportRequestsPerMinute: 60000, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	var st []byte
	r := recorder{snapAt: t0.Add(8 * time.Hour)}
	r.snap = func() {
		var err error
		if st, err = h.State(); err != nil {
			t.Fatal(err)
		}
	}
	from := t0.Add(time.Hour)
	if err := h.Replay(context.Background(), from, t0.Add(9*time.Hour), nil, &r); err != nil {
		t.Fatal(err)
	}
	if h.Requests() < 7 {
		t.Errorf("%d requests for 7 audits one a page", h.Requests())
	}
	for i := 1; i < len(r.at); i++ {
		if r.at[i].Before(r.at[i-1]) {
			t.Fatalf("Advance went back: %v", r.at)
		}
	}
	if len(r.versions) != 6 {
		t.Fatalf("%d versions, want 6 (the 9h reopen is at the end, excluded): %+v", len(r.versions), r.versions)
	}
	// The ticket created before the replay's start: first seen at its solve,
	// its status before it taken from the change's previous value.
	o := r.versions[0]
	if o.ID != "1" || o.Status != helpdesk.StatusSolved || !o.CreatedAt.Before(from) || !o.Replied || o.SolvedAt != t0.Add(2*time.Hour) {
		t.Errorf("pre-window ticket: %+v", o)
	}
	created, private, replied, solved, rated := r.versions[1], r.versions[2], r.versions[3], r.versions[4], r.versions[5]
	if created.Status != helpdesk.StatusNew || created.Priority != "urgent" || created.Channel != "chat" || created.Replied || created.AgentReplies != 0 {
		t.Errorf("created: %+v", created)
	}
	if private.Replied || private.Status != helpdesk.StatusOpen {
		t.Errorf("after the requester's comment and a private note: %+v", private)
	}
	if !replied.Replied || replied.AgentReplies != 1 || replied.FirstReplyAt != t0.Add(6*time.Hour) {
		t.Errorf("first public agent comment: %+v", replied)
	}
	if solved.Status != helpdesk.StatusSolved || solved.SolvedAt != t0.Add(7*time.Hour) {
		t.Errorf("solve: %+v", solved)
	}
	// Requester wait: new 3h→5h and open 5h→7h; no pending, no hold.
	if !solved.RequesterWait.CalendarKnown || solved.RequesterWait.Calendar != 4*time.Hour || solved.AgentWait.Calendar != 0 {
		t.Errorf("waits at the solve: %+v %+v", solved.RequesterWait, solved.AgentWait)
	}
	if rated.Satisfaction != helpdesk.RatingBad || rated.SatisfactionAt != t0.Add(8*time.Hour) {
		t.Errorf("rating: %+v", rated)
	}
	// Resume from the checkpoint taken at the Advance to 8h: the rating
	// and the reopen come (again), nothing before them.
	var r2 recorder
	h2, _ := NewHistory(Options{Deps: testDeps(), BaseURL: zd.URL, Email: "a@example.invalid", APIToken: "tok", ExportRequestsPerMinute: 60000, PageSize: 1})
	if err := h2.Replay(context.Background(), from, t0.Add(10*time.Hour), st, &r2); err != nil {
		t.Fatal(err)
	}
	if len(r2.versions) != 2 || r2.versions[0].Satisfaction != helpdesk.RatingBad || r2.versions[1].Status != helpdesk.StatusOpen || r2.versions[1].Reopens != 1 {
		t.Errorf("resumed: %+v", r2.versions)
	}
}
