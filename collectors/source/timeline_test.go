package source_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/collectors/source/sourcetest"
)

var t0 = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

func h(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }

func TestTicketVersions(t *testing.T) {
	// Created 0h, answered 1h, solved 3h, rated 4h, reopened (open now) at 5h.
	cur := helpdesk.Ticket{ID: "1", Status: helpdesk.StatusOpen, Priority: "high", Channel: "email", Type: "none",
		CreatedAt: h(0), UpdatedAt: h(5), FirstReplyAt: h(1), Replied: true, SolvedAt: h(3),
		Satisfaction: helpdesk.RatingGood, SatisfactionAt: h(4), AgentReplies: -1, Reopens: -1}
	vs := source.TicketVersions(cur)
	want := []struct {
		at      time.Time
		status  helpdesk.Status
		replied bool
		solved  bool
		rating  helpdesk.Rating
	}{
		{h(0), helpdesk.StatusOpen, false, false, helpdesk.RatingNone},
		{h(1), helpdesk.StatusOpen, true, false, helpdesk.RatingNone},
		{h(3), helpdesk.StatusSolved, true, true, helpdesk.RatingNone},
		{h(4), helpdesk.StatusSolved, true, true, helpdesk.RatingGood},
		{h(5), helpdesk.StatusOpen, true, true, helpdesk.RatingGood},
	}
	if len(vs) != len(want) {
		t.Fatalf("%d versions, want %d: %+v", len(vs), len(want), vs)
	}
	for i, w := range want {
		v := vs[i]
		if !v.At.Equal(w.at) || !v.V.UpdatedAt.Equal(w.at) || v.V.Status != w.status || v.V.Replied != w.replied ||
			v.V.SolvedAt.IsZero() == w.solved || v.V.Satisfaction != w.rating || v.V.Priority != "high" {
			t.Errorf("version %d = %+v, want %+v", i, v, w)
		}
	}
	// Solved and last updated in the same second: one version, closed.
	cur = helpdesk.Ticket{ID: "2", Status: helpdesk.StatusClosed, CreatedAt: h(0), UpdatedAt: h(2), SolvedAt: h(2), AgentReplies: -1, Reopens: -1}
	if vs := source.TicketVersions(cur); len(vs) != 2 || vs[1].V.Status != helpdesk.StatusClosed {
		t.Errorf("closed ticket versions %+v", vs)
	}
}

func TestSubscriptionVersions(t *testing.T) {
	s := billing.Subscription{ID: "s", Customer: "c", Status: billing.StatusCanceled, CreatedAt: h(0), CanceledAt: h(100), EndedAt: h(120), UpdatedAt: h(120)}
	vs := source.SubscriptionVersions(s, h(24), time.Time{})
	got := []billing.Status{}
	for _, v := range vs {
		got = append(got, v.V.Status)
	}
	if len(vs) != 3 || got[0] != billing.StatusTrialing || got[1] != billing.StatusActive || got[2] != billing.StatusCanceled ||
		!vs[1].At.Equal(h(24)) || !vs[2].At.Equal(h(100)) || !vs[1].V.CanceledAt.IsZero() {
		t.Errorf("versions %v %+v", got, vs)
	}
	// Past due since 50h: active until then.
	s = billing.Subscription{ID: "s", Customer: "c", Status: billing.StatusPaused, CreatedAt: h(0), UpdatedAt: h(50)}
	vs = source.SubscriptionVersions(s, time.Time{}, h(50))
	if len(vs) != 2 || vs[0].V.Status != billing.StatusActive || vs[1].V.Status != billing.StatusPaused || !vs[1].At.Equal(h(50)) {
		t.Errorf("paused versions %+v", vs)
	}
}

// TestTimelineReplay: versions before from fold into one at from, those
// at or after to are dropped, the rest come in time order; a resumed
// replay goes on from its checkpoint's time.
func TestTimelineReplay(t *testing.T) {
	read := func(context.Context, time.Time, time.Time, *int) (source.Versions, error) {
		var vs source.Versions
		for _, c := range []helpdesk.Ticket{
			{ID: "old", Status: helpdesk.StatusSolved, Priority: "low", Channel: "web", Type: "none", CreatedAt: h(-10), UpdatedAt: h(5), SolvedAt: h(5), AgentReplies: -1, Reopens: -1},
			{ID: "new", Status: helpdesk.StatusOpen, Priority: "low", Channel: "web", Type: "none", CreatedAt: h(2), UpdatedAt: h(30), FirstReplyAt: h(3), Replied: true, AgentReplies: -1, Reopens: -1},
		} {
			vs.Tickets = append(vs.Tickets, source.TicketVersions(c)...)
		}
		return vs, nil
	}
	tl := &source.Timeline{Vendor: "test", Read: read}
	got, err := sourcetest.Replay(context.Background(), tl, source.RoleHelpdesk, h(0), h(24), h(1), h(4), h(6))
	if err != nil {
		t.Fatal(err)
	}
	// 1h: old open (folded at 0h), new not yet created; 4h: both open,
	// new created and answered; 6h: old solved.
	for i, w := range []struct{ open, created, solved, awaiting float64 }{{1, 0, 0, 1}, {2, 1, 0, 1}, {1, 1, 1, 0}} {
		s := got[i]
		if o, c, so, aw := s.Sum("helpdesk_open_tickets"), s.Sum("helpdesk_tickets_created_total"), s.Sum("helpdesk_tickets_solved_total"),
			s.Sum("helpdesk_awaiting_first_reply_tickets"); o != w.open || c != w.created || so != w.solved || aw != w.awaiting {
			t.Errorf("instant %d: open %v created %v solved %v awaiting %v, want %+v", i, o, c, so, aw, w)
		}
	}
	st, _ := json.Marshal(h(3).Unix())
	var n int
	rec := replayFunc(func(at time.Time) { n++ })
	if err := (&source.Timeline{Vendor: "test", Read: read}).Replay(context.Background(), h(0), h(24), st, rec); err != nil {
		t.Fatal(err)
	}
	if n != 2 { // new's reply at 3h, old's solve at 5h
		t.Errorf("resumed at 3h: %d changes, want 2", n)
	}
}

type replayFunc func(time.Time)

func (f replayFunc) Advance(at time.Time) error               { f(at); return nil }
func (f replayFunc) Ticket(*helpdesk.Ticket) error            { return nil }
func (f replayFunc) Subscription(*billing.Subscription) error { return nil }

// TestTicketVersionsStatusChanges: dated status changes replace the solve
// time's version: every spell, solve and reopen in order.
func TestTicketVersionsStatusChanges(t *testing.T) {
	cur := helpdesk.Ticket{ID: "1", Status: helpdesk.StatusSolved, CreatedAt: h(0), UpdatedAt: h(4), SolvedAt: h(4), AgentReplies: -1, Reopens: -1}
	vs := source.TicketVersions(cur,
		source.StatusChange{At: h(1), Status: helpdesk.StatusPending}, source.StatusChange{At: h(2), Status: helpdesk.StatusSolved},
		source.StatusChange{At: h(3), Status: helpdesk.StatusOpen}, source.StatusChange{At: h(4), Status: helpdesk.StatusSolved})
	want := []helpdesk.Status{helpdesk.StatusOpen, helpdesk.StatusPending, helpdesk.StatusSolved, helpdesk.StatusOpen, helpdesk.StatusSolved}
	if len(vs) != len(want) {
		t.Fatalf("%d versions, want %d: %+v", len(vs), len(want), vs)
	}
	for i, w := range want {
		if vs[i].V.Status != w || !vs[i].At.Equal(h(float64(i))) {
			t.Errorf("version %d: %s at %s, want %s at %s", i, vs[i].V.Status, vs[i].At, w, h(float64(i)))
		}
	}
	if !vs[2].V.SolvedAt.Equal(h(2)) {
		t.Errorf("first solve dated %s, want %s", vs[2].V.SolvedAt, h(2))
	}
}
