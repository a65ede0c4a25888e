package helpscout

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/collectors/source/sourcetest"
	fakehelpscout "github.com/cx-exporter/cx-exporter/internal/fake/helpscout"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// TestHistory replays a scripted account (hours from t0, the backfill's
// start; the end is t0+24h) and reads the engine at past instants:
//   - 1: created -24h, reply -23h, closed +2h, rated great +3h;
//   - 2: chat, created +1h, replies +1h30 and +4h, closed +5h;
//   - 3: created pending +4h, unanswered;
//   - 4: created +6h, reply +7h, closed +8h, rated not good +9h;
//   - 5: closed -30h, not modified since: not listed.
func TestHistory(t *testing.T) {
	hs := fakehelpscout.NewServer(fakehelpscout.Options{AppID: "id", AppSecret: "secret", NoRateLimit: true})
	defer hs.Close()
	t0 := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Hour)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	reply := func(n float64) fakehelpscout.Thread {
		return fakehelpscout.Thread{Type: "reply", CreatedBy: "user", CreatedAt: h(n)}
	}
	hs.PutAll(
		fakehelpscout.Conversation{ID: 1, Status: "closed", MailboxID: 9, CreatedAt: h(-24), ClosedAt: h(2), ModifiedAt: h(2),
			Threads: []fakehelpscout.Thread{{Type: "customer", CreatedBy: "customer", CreatedAt: h(-24)}, reply(-23)}},
		fakehelpscout.Conversation{ID: 2, Status: "closed", MailboxID: 9, Source: "chat", CreatedAt: h(1), ClosedAt: h(5), ModifiedAt: h(5),
			Threads: []fakehelpscout.Thread{reply(1.5), reply(4)}},
		fakehelpscout.Conversation{ID: 3, Status: "pending", MailboxID: 9, CreatedAt: h(4), ModifiedAt: h(4)},
		fakehelpscout.Conversation{ID: 4, Status: "closed", MailboxID: 9, CreatedAt: h(6), ClosedAt: h(8), ModifiedAt: h(8),
			Threads: []fakehelpscout.Thread{reply(7)}},
		fakehelpscout.Conversation{ID: 5, Status: "closed", MailboxID: 9, CreatedAt: h(-48), ClosedAt: h(-30), ModifiedAt: h(-30)},
	)
	hs.RateAt(1, "great", h(3))
	hs.RateAt(4, "not_good", h(9))
	hist, err := NewHistory(Options{Deps: source.Deps{Name: "helpscout", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry())}},
		BaseURL: hs.URL, AppID: "id", AppSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sourcetest.Replay(context.Background(), hist, source.RoleHelpdesk, h(0), h(24), h(0.5), h(3.5), h(6.5), h(11))
	if err != nil {
		t.Fatal(err)
	}
	type vals struct{ open, awaiting, created, solved, good, bad float64 }
	want := []vals{
		{1, 0, 0, 0, 0, 0}, // 1 open (older than the start, folded in)
		{1, 0, 1, 1, 1, 0}, // 1 closed and rated; 2 open and answered
		{2, 2, 3, 2, 1, 0}, // 2 closed; 3 pending and 4 open, unanswered (+6h30)
		{1, 1, 3, 3, 1, 1}, // 4 answered, closed, rated
	}
	for i, w := range want {
		s := got[i]
		g := vals{s.Sum("helpdesk_open_tickets"), s.Sum("helpdesk_awaiting_first_reply_tickets"), s.Sum("helpdesk_tickets_created_total"),
			s.Sum("helpdesk_tickets_solved_total"),
			s.Sum("helpdesk_satisfaction_ratings_total", "rating", "good"), s.Sum("helpdesk_satisfaction_ratings_total", "rating", "bad")}
		if g != w {
			t.Errorf("instant %d: got %+v, want %+v", i, g, w)
		}
	}
	if n := got[2].Sum("helpdesk_open_tickets", "status", "pending"); n != 1 {
		t.Errorf("pending at +6h30 = %v, want 1 (3)", n)
	}
	if n, sum := got[3].Sum("helpdesk_first_reply_seconds_count"), got[3].Sum("helpdesk_first_reply_seconds_sum"); n != 2 || sum != 1800+3600 {
		t.Errorf("first replies at +11h: %v totalling %vs, want 2 totalling 5400s", n, sum)
	}
	// Solved on first contact between +3h30 and +11h: 4 (one reply), not 2 (two).
	if n := got[3].Sum("helpdesk_tickets_solved_first_contact_total") - got[1].Sum("helpdesk_tickets_solved_first_contact_total"); n != 1 {
		t.Errorf("first-contact solves between +3h30 and +11h = %v, want 1", n)
	}
	// One listing page, threads of the 4 conversations, one ratings page.
	if hist.Requests() != 6 {
		t.Errorf("requests %d, want 6", hist.Requests())
	}
}
