package helpdesk

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk/businesshours"
)

// slaTargets are the SLA tests' targets: normal tickets get a first reply
// within 1h and a first solve within 4h.
var slaTargets = SLA{
	FirstReply: map[string]time.Duration{"normal": time.Hour, "urgent": 4 * time.Hour},
	Resolution: map[string]time.Duration{"normal": 4 * time.Hour, "urgent": 4 * time.Hour},
}

func firstReplyAt(d time.Duration) func(*Ticket) {
	return func(t *Ticket) {
		t.FirstReplyAt, t.AgentReplies = wm.Add(d), max(t.AgentReplies, 1)
		if t.Status == StatusNew {
			t.Status = StatusOpen
		}
	}
}

func solvedAtOnly(d time.Duration) func(*Ticket) {
	return func(t *Ticket) { t.Status, t.SolvedAt = StatusSolved, wm.Add(d) }
}

// TestApplySLA covers the SLA results the engine counts when a ticket
// changes upstream: each ticket counts once per SLA.
func TestApplySLA(t *testing.T) {
	r := Rules{Watermark: wm, SLA: slaTargets}
	type step struct {
		t        Ticket
		fr, res  SLAResult
		firstSol bool
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"reply and solve within target are met", []step{
			{tk(time.Minute), SLANone, SLANone, false},
			{tk(time.Minute, firstReplyAt(61*time.Minute), at(61*time.Minute)), SLAMet, SLANone, false},
			{tk(time.Minute, firstReplyAt(61*time.Minute), solvedAtOnly(4*time.Hour), at(4*time.Hour)), SLANone, SLAMet, true},
		}},
		{"late reply and late solve are breached", []step{
			{tk(time.Minute), SLANone, SLANone, false},
			{tk(time.Minute, firstReplyAt(62*time.Minute), at(62*time.Minute)), SLABreached, SLANone, false},
			{tk(time.Minute, firstReplyAt(62*time.Minute), solvedAtOnly(5*time.Hour), at(5*time.Hour)), SLANone, SLABreached, true},
		}},
		{"vendor durations decide where given", []step{
			{tk(time.Minute, replied(59), solvedAt(time.Hour), at(time.Hour)), SLAMet, SLAMet, true},
		}},
		{"reopened ticket: the re-solve counts no second result", []step{
			{tk(time.Minute, firstReplyAt(10*time.Minute), solvedAtOnly(time.Hour), at(time.Hour)), SLAMet, SLAMet, true},
			{tk(time.Minute, firstReplyAt(10*time.Minute), status(StatusOpen), reopens(1), at(2*time.Hour)), SLANone, SLANone, false},
			{tk(time.Minute, firstReplyAt(10*time.Minute), solvedAtOnly(9*time.Hour), reopens(1), at(9*time.Hour)), SLANone, SLANone, false},
		}},
		{"old ticket answered after the watermark within target is met", []step{
			{tk(-30*time.Minute, firstReplyAt(20*time.Minute), at(20*time.Minute)), SLAMet, SLANone, false},
		}},
		{"old ticket whose target passed before the watermark counts nothing", []step{
			{tk(-2*time.Hour, firstReplyAt(time.Minute), at(time.Minute)), SLANone, SLANone, false},
			{tk(-2*time.Hour, firstReplyAt(time.Minute), solvedAtOnly(time.Hour), at(time.Hour)), SLANone, SLAMet, true},
		}},
		{"deleted ticket is judged no more", []step{
			{tk(time.Minute), SLANone, SLANone, false},
			{tk(time.Minute, status(StatusDeleted), at(time.Minute)), SLANone, SLANone, false},
		}},
		{"priority without a target counts nothing", []step{
			{tk(time.Minute, func(t *Ticket) { t.Priority = "low" }, firstReplyAt(time.Hour), solvedAtOnly(10*time.Hour), at(10*time.Hour)), SLANone, SLANone, true},
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
				if ev.FirstReplySLA != s.fr || ev.ResolutionSLA != s.res || ev.FirstSolve != s.firstSol {
					t.Errorf("step %d: first reply %v, resolution %v, first solve %v; want %v, %v, %v",
						i, ev.FirstReplySLA, ev.ResolutionSLA, ev.FirstSolve, s.fr, s.res, s.firstSol)
				}
				prev = &next
			}
		})
	}
}

// TestSweepBreachOnce: a ticket whose targets pass while nothing changes
// upstream breaches at the first sweep after each target, once, and never
// again after a restart; a later reply and solve count no second result.
func TestSweepBreachOnce(t *testing.T) {
	cfg := benchConfig("priority")
	cfg.FirstReplyTargets = slaTargets.FirstReply
	cfg.ResolutionTargets = slaTargets.Resolution
	tr := NewTracker(cfg)
	rec := memRecords{}
	var blob []byte
	commit := func(apply func(Records) ([]byte, error)) error {
		b, err := apply(rec)
		if err == nil {
			blob = b
		}
		return err
	}
	applyAll(t, tr, rec, tk(time.Minute, func(t *Ticket) { t.ID = "quiet" }))
	sweeps := []struct {
		at   time.Duration
		want int
	}{
		{30 * time.Minute, 0},
		{time.Hour, 0},                 // target passes at 1h01m
		{time.Hour + time.Minute, 1},   // first reply breached
		{2 * time.Hour, 0},             // not again
		{4*time.Hour + time.Minute, 1}, // resolution breached
		{5 * time.Hour, 0},
	}
	for _, s := range sweeps {
		n, err := tr.Sweep(wm.Add(s.at), commit)
		if err != nil {
			t.Fatal(err)
		}
		if n != s.want {
			t.Errorf("sweep at +%s: %d breaches, want %d", s.at, n, s.want)
		}
	}
	want := `
# HELP helpdesk_first_reply_sla_total Tickets by first-reply SLA result, each once: met at a first reply within target, breached when the target passed unanswered.
# TYPE helpdesk_first_reply_sla_total counter
helpdesk_first_reply_sla_total{priority="normal",result="breached",source="s"} 1
helpdesk_first_reply_sla_total{priority="normal",result="met",source="s"} 0
# HELP helpdesk_resolution_sla_total Tickets by resolution SLA result, each once: met at a first solve within target, breached when the target passed unsolved.
# TYPE helpdesk_resolution_sla_total counter
helpdesk_resolution_sla_total{priority="normal",result="breached",source="s"} 1
helpdesk_resolution_sla_total{priority="normal",result="met",source="s"} 0
# HELP helpdesk_resolution_sla_tickets Unresolved tickets never solved yet by resolution-SLA state (at_risk: under 25% of the target left).
# TYPE helpdesk_resolution_sla_tickets gauge
helpdesk_resolution_sla_tickets{priority="normal",source="s",state="at_risk"} 0
helpdesk_resolution_sla_tickets{priority="normal",source="s",state="breached"} 1
helpdesk_resolution_sla_tickets{priority="normal",source="s",state="within"} 0
`
	families := []string{"helpdesk_first_reply_sla_total", "helpdesk_resolution_sla_total", "helpdesk_resolution_sla_tickets"}
	now := func() time.Time { return wm.Add(5 * time.Hour) }
	if err := testutil.CollectAndCompare(tr.Collector("s", now), strings.NewReader(want), families...); err != nil {
		t.Error(err)
	}

	// Restart: the breaches are in the stored aggregates and the ticket's
	// stored state says they were counted.
	re := NewTracker(cfg)
	err := re.Load(blob, func(fn func(id string, v []byte) error) error {
		for id, v := range rec {
			if err := fn(id, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := re.Sweep(wm.Add(6*time.Hour), commit); err != nil || n != 0 {
		t.Fatalf("sweep after restart: %d breaches (%v), want 0", n, err)
	}
	// The late reply and solve count no second result.
	applyAll(t, re, rec, tk(time.Minute, func(t *Ticket) { t.ID = "quiet" }, firstReplyAt(7*time.Hour), solvedAtOnly(7*time.Hour), at(7*time.Hour)))
	if err := testutil.CollectAndCompare(re.Collector("s", now), strings.NewReader(strings.Replace(want,
		`helpdesk_resolution_sla_tickets{priority="normal",source="s",state="breached"} 1`,
		`helpdesk_resolution_sla_tickets{priority="normal",source="s",state="breached"} 0`, 1)), families...); err != nil {
		t.Error(err)
	}
}

// TestSweepBusinessHoursWeekend: a business-hours target counts no time
// over the weekend; a ticket created on Friday at 16:00 with a 4h target
// breaches on Monday at 12:00, not before.
func TestSweepBusinessHoursWeekend(t *testing.T) {
	cal, err := businesshours.Parse("Mon-Fri 09:00-17:00", "UTC", nil)
	if err != nil {
		t.Fatal(err)
	}
	friday := time.Date(2026, 11, 6, 16, 0, 0, 0, time.UTC)
	cfg := benchConfig("priority")
	cfg.Watermark = friday.Add(-time.Hour)
	cfg.BusinessHours, cfg.SLABusinessHours = cal, true
	cfg.FirstReplyTargets = map[string]time.Duration{"urgent": 4 * time.Hour}
	cfg.ResolutionTargets = map[string]time.Duration{"urgent": 8 * time.Hour}
	tr := NewTracker(cfg)
	rec := memRecords{}
	commit := func(apply func(Records) ([]byte, error)) error { _, err := apply(rec); return err }
	ticket := Ticket{ID: "w", Status: StatusNew, Priority: "urgent", Channel: "email", Type: "incident", CreatedAt: friday, UpdatedAt: friday}
	applyAll(t, tr, rec, ticket)
	for _, s := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2026, 11, 7, 12, 0, 0, 0, time.UTC), 0},  // Saturday: 1h of business time so far
		{time.Date(2026, 11, 9, 11, 59, 0, 0, time.UTC), 0}, // Monday 11:59
		{time.Date(2026, 11, 9, 12, 0, 0, 0, time.UTC), 1},  // Monday 12:00: first reply breached
		{time.Date(2026, 11, 9, 15, 59, 0, 0, time.UTC), 0}, // resolution: 1h on Friday + 7h on Monday
		{time.Date(2026, 11, 9, 16, 0, 0, 0, time.UTC), 1},  // Monday 16:00: resolution breached
		{time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC), 0},
	} {
		n, err := tr.Sweep(s.at, commit)
		if err != nil {
			t.Fatal(err)
		}
		if n != s.want {
			t.Errorf("sweep at %s: %d breaches, want %d", s.at.Format(time.RFC1123), n, s.want)
		}
	}
	// A reply within business time is met even when the calendar time is
	// far longer: Friday 16:30 to Monday 09:30 is 1h of business time.
	var prev *State
	ticket.ID = "x"
	r := Rules{Watermark: cfg.Watermark, BusinessHours: cal, SLA: tr.sla()}
	s0, _, _ := Apply(prev, &ticket, r)
	replied := ticket
	replied.Status, replied.FirstReplyAt, replied.AgentReplies = StatusOpen, time.Date(2026, 11, 9, 9, 30, 0, 0, time.UTC), 1
	replied.UpdatedAt = replied.FirstReplyAt
	if _, ev, _ := Apply(&s0, &replied, r); ev.FirstReplySLA != SLAMet {
		t.Errorf("reply after 1h30m of business time over a weekend: %v, want met", ev.FirstReplySLA)
	}
}

// TestSweepBackfill: an unanswered ticket found at the first sync counts a
// breach only if its target passes after the watermark.
func TestSweepBackfill(t *testing.T) {
	cfg := benchConfig("priority")
	cfg.FirstReplyTargets = slaTargets.FirstReply
	cfg.ResolutionTargets = map[string]time.Duration{}
	tr := NewTracker(cfg)
	rec := memRecords{}
	commit := func(apply func(Records) ([]byte, error)) error { _, err := apply(rec); return err }
	applyAll(t, tr, rec,
		tk(-2*time.Hour, func(t *Ticket) { t.ID = "history" }), // target passed an hour before the watermark
		tk(-30*time.Minute, func(t *Ticket) { t.ID = "live" }), // target passes 30 minutes after it
	)
	if n, _ := tr.Sweep(wm.Add(time.Hour), commit); n != 1 {
		t.Fatalf("breaches = %d, want 1 (the live ticket only)", n)
	}
}

// TestStateV1DecodesWithSLAsDone: tickets stored before the SLA counters
// existed count no SLA result after an upgrade.
func TestStateV1DecodesWithSLAsDone(t *testing.T) {
	s := State{Status: StatusOpen, Reopens: 1, CreatedAt: 1, UpdatedAt: 2, Priority: "normal"}
	b, _ := s.MarshalBinary()
	b[0], b[2] = stateVersionV1, 0
	var got State
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !got.FirstReplySLADone || !got.ResolutionSLADone || !got.Solved {
		t.Fatalf("v1 state decoded as %+v, want SLAs done and solved once (it was reopened)", got)
	}
}
