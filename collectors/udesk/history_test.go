package udesk

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/collectors/source/sourcetest"
	fakeudesk "github.com/cx-exporter/cx-exporter/internal/fake/udesk"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// TestHistory replays a scripted account (hours from t0, the backfill's
// start; the end is t0+24h) and reads the engine at past instants:
//   - 1: created -24h, answered -23h, resolved +2h, rated 5 +3h;
//   - 2: created +1h, answered +1h30, resolved +5h, open again +10h;
//   - 3: urgent/im, created +4h, unanswered;
//   - 4: created +6h, closed +8h, rated 1 +9h;
//   - 5: closed -30h, not updated since: not listed.
func TestHistory(t *testing.T) {
	ud := fakeudesk.NewServer(fakeudesk.Options{Email: "admin@example.invalid", Token: "tok", PageSize: 2, NoRateLimit: true})
	defer ud.Close()
	t0 := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Hour)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	ud.Put(fakeudesk.Ticket{ID: 1, StatusID: 2, PriorityID: 3, Platform: "email", CreatedAt: h(-24), UpdatedAt: h(3),
		FirstReplyAt: h(-23), ResolvedAt: h(2), Satisfaction: &fakeudesk.Satisfaction{Score: 5, CreatedAt: h(3)}})
	ud.Put(fakeudesk.Ticket{ID: 2, StatusID: 1, PriorityID: 3, Platform: "email", CreatedAt: h(1), UpdatedAt: h(10),
		FirstReplyAt: h(1.5), ResolvedAt: h(5)})
	ud.Put(fakeudesk.Ticket{ID: 3, StatusID: 1, PriorityID: 1, Platform: "im", CreatedAt: h(4), UpdatedAt: h(4)})
	ud.Put(fakeudesk.Ticket{ID: 4, StatusID: 3, PriorityID: 3, Platform: "email", CreatedAt: h(6), UpdatedAt: h(9),
		ClosedAt: h(8), Satisfaction: &fakeudesk.Satisfaction{Score: 1, CreatedAt: h(9)}})
	ud.Put(fakeudesk.Ticket{ID: 5, StatusID: 3, PriorityID: 3, Platform: "email", CreatedAt: h(-48), UpdatedAt: h(-30), ClosedAt: h(-30)})

	hist, err := NewHistory(Options{Deps: source.Deps{Name: "udesk", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry())}},
		BaseURL: ud.URL, Email: "admin@example.invalid", Token: "tok", PageSize: 2, RequestsPerMinute: 60000})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sourcetest.Replay(context.Background(), hist, source.RoleHelpdesk, h(0), h(24), h(0.5), h(3.5), h(6.5), h(11))
	if err != nil {
		t.Fatal(err)
	}
	type vals struct{ open, awaiting, created, solved, reopened, good, bad float64 }
	want := []vals{
		{1, 0, 0, 0, 0, 0, 0}, // 1 open (older than the start, folded in)
		{1, 0, 1, 1, 0, 1, 0}, // 1 resolved and rated, 2 open and answered
		{2, 2, 3, 2, 0, 1, 0}, // 2 resolved; 3 and 4 unanswered
		{2, 1, 3, 3, 1, 1, 1}, // 4 closed and rated; 2 reopened
	}
	for i, w := range want {
		s := got[i]
		g := vals{s.Sum("helpdesk_open_tickets"), s.Sum("helpdesk_awaiting_first_reply_tickets"), s.Sum("helpdesk_tickets_created_total"),
			s.Sum("helpdesk_tickets_solved_total"), s.Sum("helpdesk_tickets_reopened_total"),
			s.Sum("helpdesk_satisfaction_ratings_total", "rating", "good"), s.Sum("helpdesk_satisfaction_ratings_total", "rating", "bad")}
		if g != w {
			t.Errorf("instant %d: got %+v, want %+v", i, g, w)
		}
	}
	if n := got[2].Sum("helpdesk_awaiting_first_reply_tickets", "priority", "urgent"); n != 1 {
		t.Errorf("awaiting urgent at +6h30 = %v, want 1 (3)", n)
	}
	if n, sum := got[3].Sum("helpdesk_first_reply_seconds_count"), got[3].Sum("helpdesk_first_reply_seconds_sum"); n != 1 || sum != 1800 {
		t.Errorf("first replies at +11h: %v totalling %vs, want 1 of 1800s (2's)", n, sum)
	}
	if hist.Requests() != 2 { // 4 work orders updated since t0, 2 a page
		t.Errorf("requests %d, want 2", hist.Requests())
	}
}
