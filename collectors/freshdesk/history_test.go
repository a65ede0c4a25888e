package freshdesk

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/collectors/source/sourcetest"
	fakefreshdesk "github.com/cx-exporter/cx-exporter/internal/fake/freshdesk"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// TestHistory replays a scripted account (hours from t0, the backfill's
// start; the end is t0+48h) and reads the engine at past instants:
//   - 1: created -24h, answered -23h, resolved +2h, rated good +3h;
//   - 2: high/web, created +1h, answered +1h30, resolved +5h, open again
//     (updated) +10h;
//   - 3: urgent/chat, created +4h, unanswered;
//   - 4: created +6h, closed +8h, rated bad +9h;
//   - 5: closed -30h, not updated since: not listed;
//   - 6: created +20h, answered +21h, resolved +49h (after the end).
func TestHistory(t *testing.T) {
	fd := fakefreshdesk.NewServer(fakefreshdesk.Options{APIKey: "k", PageSize: 2, NoRateLimit: true})
	defer fd.Close()
	t0 := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Hour)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	put := func(id int64, prio, src, status int, created, updated time.Time, st fakefreshdesk.Stats) {
		fd.Put(fakefreshdesk.Ticket{ID: id, Priority: prio, Source: src, Status: status, CreatedAt: created, UpdatedAt: updated, Stats: st})
	}
	put(1, 2, 1, 4, h(-24), h(2), fakefreshdesk.Stats{FirstRespondedAt: h(-23), ResolvedAt: h(2)})
	fd.RateAt(1, 103, h(3))
	put(2, 3, 2, 2, h(1), h(10), fakefreshdesk.Stats{FirstRespondedAt: h(1.5), ResolvedAt: h(5), ReopenedAt: h(10)})
	put(3, 4, 7, 2, h(4), h(4), fakefreshdesk.Stats{})
	put(4, 2, 1, 5, h(6), h(8), fakefreshdesk.Stats{ResolvedAt: h(8), ClosedAt: h(8)})
	fd.RateAt(4, -103, h(9))
	put(5, 2, 1, 5, h(-48), h(-30), fakefreshdesk.Stats{ResolvedAt: h(-30), ClosedAt: h(-30)})
	put(6, 2, 1, 4, h(20), h(50), fakefreshdesk.Stats{FirstRespondedAt: h(21), ResolvedAt: h(49)})

	hist, err := NewHistory(Options{Deps: source.Deps{Name: "freshdesk", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry())}},
		BaseURL: fd.URL, APIKey: "k", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sourcetest.Replay(context.Background(), hist, source.RoleHelpdesk, h(0), h(48), h(0.5), h(3.5), h(7), h(11), h(47))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ open, awaiting, created, solved, reopened, good, bad float64 }{
		{1, 0, 0, 0, 0, 0, 0}, // 1 open (older than the start, folded in)
		{1, 0, 1, 1, 0, 1, 0}, // 1 solved and rated, 2 open and answered
		{2, 2, 3, 2, 0, 1, 0}, // 2 solved; 3 and 4 unanswered
		{2, 1, 3, 3, 1, 1, 1}, // 4 closed and rated; 2 reopened
		{3, 1, 4, 3, 1, 1, 1}, // 6 open and answered; its solve is after the end
	}
	for i, w := range want {
		s := got[i]
		g := struct{ open, awaiting, created, solved, reopened, good, bad float64 }{
			s.Sum("helpdesk_open_tickets"), s.Sum("helpdesk_awaiting_first_reply_tickets"), s.Sum("helpdesk_tickets_created_total"),
			s.Sum("helpdesk_tickets_solved_total"), s.Sum("helpdesk_tickets_reopened_total"),
			s.Sum("helpdesk_satisfaction_ratings_total", "rating", "good"), s.Sum("helpdesk_satisfaction_ratings_total", "rating", "bad"),
		}
		if g != w {
			t.Errorf("instant %d: got %+v, want %+v", i, g, w)
		}
	}
	// By label at +7h: 3 is urgent/chat, unanswered.
	if n := got[2].Sum("helpdesk_awaiting_first_reply_tickets", "priority", "urgent", "channel", "chat"); n != 1 {
		t.Errorf("awaiting urgent/chat at +7h = %v, want 1", n)
	}
	// First replies in the range: 2 (30 min) and 6 (1 h); 1's was before it.
	if n, sum := got[4].Sum("helpdesk_first_reply_seconds_count"), got[4].Sum("helpdesk_first_reply_seconds_sum"); n != 2 || sum != 1800+3600 {
		t.Errorf("first replies at +47h: %v totalling %vs, want 2 totalling 5400s", n, sum)
	}
	if hist.Requests() != len(fd.Requests()) || hist.Requests() < 4 {
		t.Errorf("requests %d, the fake saw %d", hist.Requests(), len(fd.Requests()))
	}
}
