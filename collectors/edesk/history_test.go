package edesk

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/collectors/source/sourcetest"
	fakeedesk "github.com/cx-exporter/cx-exporter/internal/fake/edesk"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// TestHistory replays a scripted account (hours from t0, the backfill's
// start; the end is t0+24h) from its tickets' items and reads the engine
// at past instants:
//   - 1: created -24h, reply -23h, closed +2h, rated good +3h;
//   - 2: created +1h, reply +1h30, closed +5h, open again +10h;
//   - 3: created +4h, unanswered;
//   - 4: created +6h, closed +8h, rated bad +9h;
//   - 5: closed -30h, not changed since: not replayed;
//   - 6: created +12h, pending +13h, closed +14h, open +15h, closed +16h
//     (every status change dated by a Status item).
func TestHistory(t *testing.T) {
	ed := fakeedesk.NewServer(fakeedesk.Options{Token: "tok", PageSize: 2, NoRateLimit: true})
	defer ed.Close()
	t0 := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Hour)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	ch := fakeedesk.DefaultChannels[0].ID
	in := func(n float64) fakeedesk.Item {
		return fakeedesk.Item{Type: fakeedesk.TypeMessage, Direction: fakeedesk.Incoming, Body: "help", CreatedAt: h(n)}
	}
	reply := func(n float64) fakeedesk.Item {
		return fakeedesk.Item{Type: fakeedesk.TypeMessage, Direction: fakeedesk.Outgoing, Body: "done", CreatedAt: h(n)}
	}
	status := func(s string, n float64) fakeedesk.Item {
		return fakeedesk.Item{Type: fakeedesk.TypeStatus, Direction: fakeedesk.Other, Body: s, CreatedAt: h(n)}
	}
	rating := func(r string, n float64) fakeedesk.Item {
		return fakeedesk.Item{Type: fakeedesk.TypeRating, Direction: fakeedesk.Incoming, Body: r, CreatedAt: h(n)}
	}
	ed.Put(fakeedesk.Ticket{ID: 1, ChannelID: ch, Status: "Closed", CreatedAt: h(-24), UpdatedAt: h(3),
		Items: []fakeedesk.Item{in(-24), reply(-23), status("Closed", 2), rating("good", 3)}})
	ed.Put(fakeedesk.Ticket{ID: 2, ChannelID: ch, Status: "Open", CreatedAt: h(1), UpdatedAt: h(10),
		Items: []fakeedesk.Item{in(1), reply(1.5), status("Closed", 5), status("Open", 10)}})
	ed.Put(fakeedesk.Ticket{ID: 3, ChannelID: ch, Status: "Open", CreatedAt: h(4), UpdatedAt: h(4), Items: []fakeedesk.Item{in(4)}})
	ed.Put(fakeedesk.Ticket{ID: 4, ChannelID: ch, Status: "Closed", CreatedAt: h(6), UpdatedAt: h(9),
		Items: []fakeedesk.Item{status("Closed", 8), rating("bad", 9)}})
	ed.Put(fakeedesk.Ticket{ID: 6, ChannelID: ch, Status: "Closed", CreatedAt: h(12), UpdatedAt: h(16),
		Items: []fakeedesk.Item{in(12), status("Pending", 13), status("Closed", 14), status("Open", 15), status("Closed", 16)}})
	ed.Put(fakeedesk.Ticket{ID: 5, ChannelID: ch, Status: "Closed", CreatedAt: h(-48), UpdatedAt: h(-30), Items: []fakeedesk.Item{status("Closed", -30)}})

	hist, err := NewHistory(Options{Deps: source.Deps{Name: "edesk", Client: upstream.Options{Metrics: upstream.NewMetrics(prometheus.NewRegistry())}},
		BaseURL: ed.URL, Token: "tok", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sourcetest.Replay(context.Background(), hist, source.RoleHelpdesk, h(0), h(24), h(0.5), h(3.5), h(6.5), h(11), h(13.5), h(17))
	if err != nil {
		t.Fatal(err)
	}
	type vals struct{ open, awaiting, created, solved, reopened, good, bad float64 }
	want := []vals{
		{1, 0, 0, 0, 0, 0, 0}, // 1 open (older than the start, folded in)
		{1, 0, 1, 1, 0, 1, 0}, // 1 closed and rated, 2 open and answered
		{2, 2, 3, 2, 0, 1, 0}, // 2 closed; 3 and 4 unanswered
		{2, 1, 3, 3, 1, 1, 1}, // 4 closed and rated; 2 reopened
		{3, 2, 4, 3, 1, 1, 1}, // 6 pending
		{2, 1, 4, 5, 2, 1, 1}, // 6 closed, reopened, closed again
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
	if n := got[4].Sum("helpdesk_open_tickets", "status", "pending"); n != 1 {
		t.Errorf("pending at +13h30 = %v, want 1 (6)", n)
	}
	if n, sum := got[3].Sum("helpdesk_resolution_seconds_count"), got[3].Sum("helpdesk_resolution_seconds_sum"); n != 3 || sum != (26+4+2)*3600 {
		t.Errorf("resolutions at +11h: %v totalling %vs, want 3 totalling 32h (1: 26h, 2: 4h, 4: 2h)", n, sum)
	}
	if hist.Requests() != len(ed.Requests()) {
		t.Errorf("requests %d, the fake answered %d", hist.Requests(), len(ed.Requests()))
	}
}
