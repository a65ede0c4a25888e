package helpdesk

import (
	"errors"
	"testing"
	"time"
)

var wm = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

// tk builds a ticket created at the given offset from the watermark.
func tk(created time.Duration, mut ...func(*Ticket)) Ticket {
	t := Ticket{ID: "1", Status: StatusNew, Priority: "normal", Channel: "email", Type: "question",
		CreatedAt: wm.Add(created), UpdatedAt: wm.Add(created)}
	for _, m := range mut {
		m(&t)
	}
	return t
}

func at(d time.Duration) func(*Ticket) { return func(t *Ticket) { t.UpdatedAt = wm.Add(d) } }
func status(s Status) func(*Ticket)    { return func(t *Ticket) { t.Status = s } }
func reopens(n int) func(*Ticket)      { return func(t *Ticket) { t.Reopens = n } }
func rated(r Rating) func(*Ticket)     { return func(t *Ticket) { t.Satisfaction = r } }
func agentReplies(n int) func(*Ticket) { return func(t *Ticket) { t.AgentReplies = n } }
func solvedAt(d time.Duration) func(*Ticket) {
	return func(t *Ticket) {
		t.Status, t.SolvedAt = StatusSolved, wm.Add(d)
		t.Resolution = Durations{Calendar: 2 * time.Hour, Business: time.Hour, CalendarKnown: true, BusinessKnown: true}
	}
}
func replied(min int) func(*Ticket) {
	return func(t *Ticket) {
		t.Replied, t.AgentReplies = true, max(t.AgentReplies, 1)
		t.FirstReply = Durations{Calendar: time.Duration(min) * time.Minute, Business: time.Duration(min/2) * time.Minute, CalendarKnown: true, BusinessKnown: true}
	}
}

func TestApplyTransitions(t *testing.T) {
	r := Rules{Watermark: wm}
	type step struct {
		t    Ticket
		want Events
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"created after watermark", []step{{tk(time.Minute), Events{Created: true}}}},
		{"created before watermark is backfill", []step{{tk(-time.Hour, status(StatusOpen)), Events{}}}},
		{"first reply counted once", []step{
			{tk(time.Minute), Events{Created: true}},
			{tk(time.Minute, at(2*time.Minute), status(StatusOpen), replied(30)), Events{FirstReply: true,
				FirstReplyTime: Durations{Calendar: 30 * time.Minute, Business: 15 * time.Minute, CalendarKnown: true, BusinessKnown: true}}},
			{tk(time.Minute, at(3*time.Minute), status(StatusOpen), replied(30), agentReplies(2)), Events{}},
		}},
		{"solve with one reply is first contact", []step{
			{tk(time.Minute, replied(10)), Events{Created: true, FirstReply: true, FirstReplyTime: Durations{Calendar: 10 * time.Minute, Business: 5 * time.Minute, CalendarKnown: true, BusinessKnown: true}}},
			{tk(time.Minute, at(time.Hour), replied(10), solvedAt(time.Hour)), Events{Solves: 1, FirstSolve: true, FirstContact: 1, RepliesAtSolve: 1,
				ResolutionTime: Durations{Calendar: 2 * time.Hour, Business: time.Hour, CalendarKnown: true, BusinessKnown: true}}},
		}},
		{"reopen then re-solve", []step{
			{tk(time.Minute, replied(10), solvedAt(time.Hour), at(time.Hour)), Events{Created: true, FirstReply: true,
				FirstReplyTime: Durations{Calendar: 10 * time.Minute, Business: 5 * time.Minute, CalendarKnown: true, BusinessKnown: true},
				Solves:         1, FirstSolve: true, FirstContact: 1, RepliesAtSolve: 1, ResolutionTime: Durations{Calendar: 2 * time.Hour, Business: time.Hour, CalendarKnown: true, BusinessKnown: true}}},
			{tk(time.Minute, replied(10), at(2*time.Hour), status(StatusOpen), reopens(1)), Events{Reopens: 1}},
			{tk(time.Minute, replied(10), agentReplies(2), solvedAt(3*time.Hour), at(3*time.Hour), reopens(1)), Events{Solves: 1, RepliesAtSolve: 2,
				ResolutionTime: Durations{Calendar: 2 * time.Hour, Business: time.Hour, CalendarKnown: true, BusinessKnown: true}}},
		}},
		{"solve, reopen and solve between two syncs", []step{
			{tk(time.Minute, status(StatusOpen)), Events{Created: true}},
			{tk(time.Minute, agentReplies(2), solvedAt(3*time.Hour), at(3*time.Hour), reopens(1)), Events{Solves: 2, FirstSolve: true, Reopens: 1, RepliesAtSolve: 2,
				ResolutionTime: Durations{Calendar: 2 * time.Hour, Business: time.Hour, CalendarKnown: true, BusinessKnown: true}}},
		}},
		{"reopen judged by status when the vendor keeps no count", []step{
			{tk(time.Minute, reopens(-1), agentReplies(1), solvedAt(time.Hour), at(time.Hour)), Events{Created: true, Solves: 1, FirstSolve: true, FirstContact: 1, RepliesAtSolve: 1,
				ResolutionTime: Durations{Calendar: 2 * time.Hour, Business: time.Hour, CalendarKnown: true, BusinessKnown: true}}},
			{tk(time.Minute, reopens(-1), agentReplies(1), status(StatusOpen), at(2*time.Hour)), Events{Reopens: 1}},
			// solved again with still one reply: no first contact, it was reopened
			{tk(time.Minute, reopens(-1), agentReplies(1), solvedAt(3*time.Hour), at(3*time.Hour)), Events{Solves: 1, RepliesAtSolve: 1,
				ResolutionTime: Durations{Calendar: 2 * time.Hour, Business: time.Hour, CalendarKnown: true, BusinessKnown: true}}},
		}},
		{"closing a solved ticket is no new solve", []step{
			{tk(time.Minute, solvedAt(time.Hour), at(time.Hour)), Events{Created: true, Solves: 1, FirstSolve: true,
				ResolutionTime: Durations{Calendar: 2 * time.Hour, Business: time.Hour, CalendarKnown: true, BusinessKnown: true}}},
			{tk(time.Minute, solvedAt(time.Hour), status(StatusClosed), at(5*time.Hour)), Events{}},
		}},
		{"rating set then changed", []step{
			{tk(time.Minute, status(StatusOpen)), Events{Created: true}},
			{tk(time.Minute, status(StatusOpen), rated(RatingGood), at(time.Hour)), Events{Rating: RatingGood}},
			{tk(time.Minute, status(StatusOpen), rated(RatingGood), at(2*time.Hour)), Events{}},
			{tk(time.Minute, status(StatusOpen), rated(RatingBad), at(3*time.Hour)), Events{Rating: RatingBad}},
			{tk(time.Minute, status(StatusOpen), at(4*time.Hour)), Events{}}, // rating withdrawn: nothing to count
		}},
		{"deletion counts nothing", []step{
			{tk(time.Minute, status(StatusOpen)), Events{Created: true}},
			{tk(time.Minute, status(StatusDeleted), at(time.Hour)), Events{}},
		}},
		{"first seen already solved before the watermark", []step{
			{tk(-48*time.Hour, replied(10), solvedAt(-24*time.Hour), rated(RatingGood), at(-time.Hour)), Events{}},
		}},
		{"first seen old ticket solved after the watermark counts the solve only", []step{
			{tk(-48*time.Hour, replied(10), solvedAt(time.Minute), at(time.Minute)), Events{Solves: 1, FirstSolve: true, FirstContact: 1, RepliesAtSolve: 1,
				ResolutionTime: Durations{Calendar: 2 * time.Hour, Business: time.Hour, CalendarKnown: true, BusinessKnown: true}}},
		}},
		{"first seen old ticket with a dated reply and rating after the watermark", []step{
			{tk(-2*time.Hour, status(StatusOpen), func(t *Ticket) {
				t.FirstReplyAt, t.AgentReplies = wm.Add(time.Minute), 1
				t.Satisfaction, t.SatisfactionAt = RatingBad, wm.Add(2*time.Minute)
			}), Events{FirstReply: true, FirstReplyTime: Durations{Calendar: 2*time.Hour + time.Minute, CalendarKnown: true}, Rating: RatingBad}},
		}},
		{"older version after a newer one is ignored", []step{
			{tk(time.Minute, status(StatusOpen), at(time.Hour)), Events{Created: true}},
			{tk(time.Minute, solvedAt(30*time.Minute), at(30*time.Minute)), Events{Stale: true}},
		}},
		{"repeated page is idempotent", []step{
			{tk(time.Minute, replied(5), solvedAt(time.Hour), at(time.Hour)), Events{Created: true, FirstReply: true,
				FirstReplyTime: Durations{Calendar: 5 * time.Minute, Business: 2 * time.Minute, CalendarKnown: true, BusinessKnown: true},
				Solves:         1, FirstSolve: true, FirstContact: 1, RepliesAtSolve: 1, ResolutionTime: Durations{Calendar: 2 * time.Hour, Business: time.Hour, CalendarKnown: true, BusinessKnown: true}}},
			{tk(time.Minute, replied(5), solvedAt(time.Hour), at(time.Hour)), Events{}},
		}},
		{"durations computed from timestamps when the vendor gives none", []step{
			{tk(time.Minute, status(StatusOpen), func(t *Ticket) {
				t.FirstReplyAt, t.AgentReplies = wm.Add(31*time.Minute), 1
			}), Events{Created: true, FirstReply: true, FirstReplyTime: Durations{Calendar: 30 * time.Minute, CalendarKnown: true}}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var prev *State
			for i, s := range c.steps {
				next, ev, err := Apply(prev, &s.t, r)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if ev != s.want {
					t.Errorf("step %d: events\n got %+v\nwant %+v", i, ev, s.want)
				}
				prev = &next
			}
		})
	}
}

func TestApplyRejects(t *testing.T) {
	cases := map[string]func(*Ticket){
		"unknown status":        status(StatusUnknown),
		"unknown priority":      func(t *Ticket) { t.Priority = "p1" },
		"missing created_at":    func(t *Ticket) { t.CreatedAt = time.Time{} },
		"negative resolution":   func(t *Ticket) { t.Resolution.Calendar = -time.Minute },
		"reply before creation": func(t *Ticket) { t.FirstReplyAt = t.CreatedAt.Add(-time.Second) },
		"missing id":            func(t *Ticket) { t.ID = "" },
	}
	for name, mut := range cases {
		ticket := tk(time.Minute, mut)
		if _, _, err := Apply(nil, &ticket, Rules{Watermark: wm}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	s := State{Status: StatusPending, Replied: true, Rating: RatingBad, AgentReplies: 3, Reopens: 2,
		CreatedAt: 1700000000, UpdatedAt: 1700000123456789, Labels: [numLabels]string{"urgent", "email", "42", "none", "ü", "Ada"}, Priority: "urgent"}
	b, _ := s.MarshalBinary()
	var got State
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got != s {
		t.Fatalf("got %+v want %+v", got, s)
	}
	if err := got.UnmarshalBinary(b[:len(b)-1]); err == nil {
		t.Fatal("truncated state decoded without error")
	}
}
