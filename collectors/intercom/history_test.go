package intercom

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/collectors/source/sourcetest"
	fakeintercom "github.com/cx-exporter/cx-exporter/internal/fake/intercom"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// TestHistory replays a scripted workspace (hours from t0, the backfill's
// start; the end is t0+24h) and reads the engine at past instants:
//   - 1: created -24h, answered -23h, closed +2h, rated 5 +3h;
//   - 2: priority/email, created +1h, answered +1h30, closed +5h,
//     reopened (open, count_reopens 1, updated) +10h;
//   - 3: created and snoozed +4h, unanswered;
//   - 4: created +6h, closed +8h, rated 1 +9h;
//   - 5: closed -30h, not updated since: not listed.
func TestHistory(t *testing.T) {
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: "tok", MaxPageSize: 2, NoRateLimit: true})
	defer ic.Close()
	t0 := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Hour)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	ic.Put(
		fakeintercom.Conversation{ID: "1", State: "closed", SourceType: "conversation", CreatedAt: h(-24), UpdatedAt: h(3),
			FirstAdminReplyAt: h(-23), LastAdminReplyAt: h(-23), FirstCloseAt: h(2), LastCloseAt: h(2), Rating: 5, RatingAt: h(3)},
		fakeintercom.Conversation{ID: "2", State: "open", Priority: "priority", SourceType: "email", CreatedAt: h(1), UpdatedAt: h(10),
			FirstAdminReplyAt: h(1.5), LastAdminReplyAt: h(1.5), FirstCloseAt: h(5), LastCloseAt: h(5), CountReopens: 1},
		fakeintercom.Conversation{ID: "3", State: "snoozed", SourceType: "conversation", CreatedAt: h(4), UpdatedAt: h(4)},
		fakeintercom.Conversation{ID: "4", State: "closed", SourceType: "conversation", CreatedAt: h(6), UpdatedAt: h(9),
			FirstCloseAt: h(8), LastCloseAt: h(8), Rating: 1, RatingAt: h(9)},
		fakeintercom.Conversation{ID: "5", State: "closed", SourceType: "conversation", CreatedAt: h(-48), UpdatedAt: h(-30),
			FirstCloseAt: h(-30), LastCloseAt: h(-30)},
	)
	hist, err := NewHistory(Options{Deps: source.Deps{Name: "intercom", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry())}},
		BaseURL: ic.URL, Token: "tok", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sourcetest.Replay(context.Background(), hist, source.RoleHelpdesk, h(0), h(24), h(0.5), h(3.5), h(7), h(11))
	if err != nil {
		t.Fatal(err)
	}
	type vals struct{ open, awaiting, created, solved, reopened, good, bad float64 }
	want := []vals{
		{1, 0, 0, 0, 0, 0, 0}, // 1 open (older than the start, folded in)
		{1, 0, 1, 1, 0, 1, 0}, // 1 closed and rated, 2 open and answered
		{2, 2, 3, 2, 0, 1, 0}, // 2 closed; 3 snoozed and 4 open, unanswered
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
	if n := got[2].Sum("helpdesk_open_tickets", "status", "on_hold"); n != 1 {
		t.Errorf("on hold at +7h = %v, want 1 (3, snoozed)", n)
	}
	if n, sum := got[3].Sum("helpdesk_first_reply_seconds_count"), got[3].Sum("helpdesk_first_reply_seconds_sum"); n != 1 || sum != 1800 {
		t.Errorf("first replies at +11h: %v totalling %vs, want 1 of 1800s (2's)", n, sum)
	}
	if hist.Requests() != 2 { // 4 conversations updated since t0, 2 a page
		t.Errorf("requests %d, want 2", hist.Requests())
	}
}
