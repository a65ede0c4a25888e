package helpdesk

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

func assignee(a string) func(*Ticket) { return func(t *Ticket) { t.Assignee = a } }
func id(s string) func(*Ticket)       { return func(t *Ticket) { t.ID = s } }

// TestEventsCountUnderAssigneeOfTheirTime: a ticket replied to by Alice,
// reassigned to Bob and solved by him counts its first reply under Alice
// and its solve, rating and resolution under Bob; an unassigned ticket
// counts under assignee="none".
func TestEventsCountUnderAssigneeOfTheirTime(t *testing.T) {
	tr := NewTracker(benchConfig("group,assignee"))
	rec := memRecords{}
	applyAll(t, tr, rec, tk(time.Hour, status(StatusOpen), replied(20), assignee("Alice"), func(t *Ticket) { t.Group = "Billing" }))
	applyAll(t, tr, rec, tk(time.Hour, replied(20), assignee("Bob"), at(3*time.Hour), solvedAt(3*time.Hour), rated(RatingBad),
		func(t *Ticket) { t.Group = "Billing" }))
	applyAll(t, tr, rec, tk(2*time.Hour, id("2"), status(StatusNew)))
	c := tr.Collector("s", func() time.Time { return wm.Add(4 * time.Hour) })
	err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP helpdesk_tickets_created_total Tickets created.
# TYPE helpdesk_tickets_created_total counter
helpdesk_tickets_created_total{assignee="Alice",group="Billing",source="s"} 1
helpdesk_tickets_created_total{assignee="Bob",group="Billing",source="s"} 0
helpdesk_tickets_created_total{assignee="none",group="none",source="s"} 1
# HELP helpdesk_tickets_solved_total Transitions into solved; a ticket solved again after a reopen counts again.
# TYPE helpdesk_tickets_solved_total counter
helpdesk_tickets_solved_total{assignee="Alice",group="Billing",source="s"} 0
helpdesk_tickets_solved_total{assignee="Bob",group="Billing",source="s"} 1
helpdesk_tickets_solved_total{assignee="none",group="none",source="s"} 0
# HELP helpdesk_satisfaction_ratings_total Satisfaction ratings received.
# TYPE helpdesk_satisfaction_ratings_total counter
helpdesk_satisfaction_ratings_total{assignee="Alice",group="Billing",rating="bad",source="s"} 0
helpdesk_satisfaction_ratings_total{assignee="Alice",group="Billing",rating="good",source="s"} 0
helpdesk_satisfaction_ratings_total{assignee="Alice",group="Billing",rating="neutral",source="s"} 0
helpdesk_satisfaction_ratings_total{assignee="Bob",group="Billing",rating="bad",source="s"} 1
helpdesk_satisfaction_ratings_total{assignee="Bob",group="Billing",rating="good",source="s"} 0
helpdesk_satisfaction_ratings_total{assignee="Bob",group="Billing",rating="neutral",source="s"} 0
helpdesk_satisfaction_ratings_total{assignee="none",group="none",rating="bad",source="s"} 0
helpdesk_satisfaction_ratings_total{assignee="none",group="none",rating="good",source="s"} 0
helpdesk_satisfaction_ratings_total{assignee="none",group="none",rating="neutral",source="s"} 0
# HELP helpdesk_awaiting_first_reply_tickets Unresolved tickets with no agent reply yet.
# TYPE helpdesk_awaiting_first_reply_tickets gauge
helpdesk_awaiting_first_reply_tickets{assignee="Alice",group="Billing",source="s"} 0
helpdesk_awaiting_first_reply_tickets{assignee="Bob",group="Billing",source="s"} 0
helpdesk_awaiting_first_reply_tickets{assignee="none",group="none",source="s"} 1
`), "helpdesk_tickets_created_total", "helpdesk_tickets_solved_total", "helpdesk_satisfaction_ratings_total", "helpdesk_awaiting_first_reply_tickets")
	if err != nil {
		t.Error(err)
	}
	// The first reply was observed under Alice, the resolution under Bob.
	for _, want := range []struct{ family, assignee string }{{"helpdesk_first_reply_seconds", "Alice"}, {"helpdesk_resolution_seconds", "Bob"}} {
		out, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, want.family)
		if err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf(`%s_count{assignee=%q,group="Billing",hours="calendar",source="s"} 1`, want.family, want.assignee)
		if !strings.Contains(string(out), line) {
			t.Errorf("%s: no line %s in\n%s", want.family, line, out)
		}
	}
}

// capWorld drives a tracker whose clock the test moves.
type capWorld struct {
	t   *testing.T
	tr  *Tracker
	rec memRecords
	now time.Time
	n   int
}

func newCapWorld(t *testing.T, max int) *capWorld {
	w := &capWorld{t: t, rec: memRecords{}, now: wm.Add(time.Hour)}
	cfg := benchConfig("assignee")
	cfg.MaxLabelValues = max
	cfg.Now = func() time.Time { return w.now }
	w.tr = NewTracker(cfg)
	return w
}

// solve creates and solves n tickets assigned to a (n events each: created, first reply, solve).
func (w *capWorld) solve(a string, n int) {
	for range n {
		w.n++
		applyAll(w.t, w.tr, w.rec, tk(w.now.Sub(wm), id(fmt.Sprint("t", w.n)), assignee(a), replied(5), solvedAt(w.now.Sub(wm))))
	}
}

func (w *capWorld) assignees() map[string]uint64 {
	got := map[string]uint64{}
	w.tr.mu.RLock()
	defer w.tr.mu.RUnlock()
	for _, s := range w.tr.agg.Series {
		got[s.Labels[0]] += s.Solved
	}
	return got
}

// TestAssigneeCapKeepsTheMostActive: with more agents than
// CX_MAX_LABEL_VALUES, the first day admits agents as they come; from the
// next day on the most active agents of the last 30 days keep their own
// series, the rest are "other", unassigned tickets keep "none" outside the
// cap, and the choice holds all day (no flapping) and across a restart.
func TestAssigneeCapKeepsTheMostActive(t *testing.T) {
	w := newCapWorld(t, 2)
	w.solve("a1", 1)
	w.solve("a2", 1)
	w.solve("a3", 5)
	w.solve("a4", 4)
	w.solve("", 1)
	if got, want := w.assignees(), map[string]uint64{"a1": 1, "a2": 1, "other": 9, "none": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("day 1: solved by assignee %v, want %v", got, want)
	}
	// Next day (01:00): a3 and a4 were the most active; a1 and a2 fold into other.
	w.now = time.Date(2026, 11, 3, 1, 0, 0, 0, time.UTC)
	w.solve("a1", 1)
	w.solve("a3", 1)
	w.solve("a4", 1)
	w.solve("a5", 1)
	if got, want := w.assignees(), map[string]uint64{"a1": 1, "a2": 1, "a3": 1, "a4": 1, "other": 11, "none": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("day 2: solved by assignee %v, want %v", got, want)
	}
	// The same day (21:00), however busy a1 gets, the choice does not change.
	w.now = w.now.Add(20 * time.Hour)
	w.solve("a1", 20)
	w.solve("a3", 1)
	if got := w.assignees(); got["a3"] != 2 || got["a1"] != 1 || got["other"] != 31 {
		t.Fatalf("same day: solved by assignee %v, want a3 2, a1 still 1, other 31", got)
	}
	// A restart keeps the choice: it is persisted with the aggregates.
	b := w.tr.Begin()
	blob, err := b.Aggregates()
	if err != nil {
		t.Fatal(err)
	}
	re := NewTracker(w.tr.cfg)
	if err := re.Load(blob, func(func(string, []byte) error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	w.tr = re
	w.solve("a4", 1)
	if got := w.assignees(); got["a4"] != 2 {
		t.Fatalf("after reload: a4 solved %d under its own name, want 2 (%v)", got["a4"], got)
	}
	// Next day a1 (20 solves) takes a4's place; a3 (7) stays.
	w.now = w.now.Add(5 * time.Hour)
	w.solve("a1", 1)
	w.solve("a4", 1)
	if got := w.assignees(); got["a1"] != 2 || got["a4"] != 2 || got["a3"] != 2 {
		t.Fatalf("day 3: %v, want a1 counting again (2), a4 folded (still 2), a3 kept", got)
	}
	// 30 days without activity forget an agent's ranking.
	w.now = w.now.Add(31 * 24 * time.Hour)
	w.solve("a5", 1)
	w.solve("a2", 1)
	if got := w.assignees(); got["a5"] != 1 || got["a2"] != 2 {
		t.Fatalf("after 31 quiet days: %v, want a5 and a2 admitted as they come", got)
	}
}

// TestStateV2DecodesAssigneeUnknown: ticket states stored before the
// assignee label existed decode with assignee "unknown".
func TestStateV2DecodesAssigneeUnknown(t *testing.T) {
	// A version 2 state as PR-era exporters wrote it: five labels and the priority.
	s := State{Status: StatusOpen, CreatedAt: 1, UpdatedAt: 2, Labels: [numLabels]string{"high", "email", "g", "question", "b", "normal"}}
	b, _ := s.MarshalBinary()
	b[0] = stateVersionV2
	var got State
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.Labels != [numLabels]string{"high", "email", "g", "question", "b", "unknown"} || got.Priority != "normal" {
		t.Fatalf("v2 state decoded as labels %q priority %q", got.Labels, got.Priority)
	}
}
