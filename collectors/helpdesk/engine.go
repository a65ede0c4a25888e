package helpdesk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// State is the compact per-ticket memory the engine needs to detect
// transitions. It is persisted per ticket, in the same transaction as the
// aggregates it contributed to.
type State struct {
	Status  Status
	Replied bool
	// Solved says the ticket has been solved at least once: its next solve
	// is no first solve.
	Solved bool
	// FirstReplySLADone and ResolutionSLADone say the ticket's SLA result
	// was counted (met or breached) or belongs to history: each ticket
	// counts once per SLA.
	FirstReplySLADone, ResolutionSLADone bool
	Rating                               Rating
	AgentReplies                         int32
	Reopens                              int32 // the vendor's count, or ours when it keeps none
	CreatedAt                            int64 // unix seconds
	UpdatedAt                            int64 // unix nanoseconds, for recency
	// Labels are the ticket's capped label values, in LabelNames order;
	// Apply leaves them to the caller, which owns the label limits.
	Labels [numLabels]string
	// Priority is kept apart from Labels: SLA targets need it even when
	// the priority label is not exported.
	Priority string
}

// Events are what one new version of a ticket produced, relative to the
// engine's memory of it.
type Events struct {
	Stale bool // an older version than the one already applied: ignored

	Created    bool
	FirstReply bool
	// FirstReplyTime and ResolutionTime hold the durations to observe;
	// a false Known flag means no observation for that kind of hours.
	FirstReplyTime Durations
	Solves         int
	FirstSolve     bool // the ticket was solved for the first time
	ResolutionTime Durations
	Reopens        int
	FirstContact   int // solves with exactly one agent reply and no reopen
	RepliesAtSolve int // agent replies at the solve, -1 when unknown
	// Waits are the vendor's requester wait, agent wait and on-hold times,
	// observed with each solve where known.
	RequesterWait, AgentWait, OnHold Durations
	Rating                           Rating // a rating received (RatingNone: none)

	// FirstReplySLA and ResolutionSLA are the ticket's SLA results, counted
	// once per ticket: met at a reply (first solve) within target, breached
	// at a late one or when the target passed unanswered (unsolved).
	FirstReplySLA, ResolutionSLA SLAResult
}

// SLAResult is the outcome of one SLA for one ticket.
type SLAResult uint8

// The SLA results; SLANone means nothing to count.
const (
	SLANone SLAResult = iota
	SLAMet
	SLABreached
)

var slaResultNames = [...]string{"none", "met", "breached"}

func (r SLAResult) String() string {
	if int(r) < len(slaResultNames) {
		return slaResultNames[r]
	}
	return fmt.Sprintf("sla(%d)", r)
}

// SLA are the per-priority targets tickets are judged against.
type SLA struct {
	FirstReply, Resolution map[string]time.Duration
	// Hours counts targets in business time; nil counts calendar time.
	Hours Hours
}

// business reports whether targets count business time.
func (s SLA) business() bool { return s.Hours != nil }

// Deadline is when a target counted from created passes.
func (s SLA) Deadline(created time.Time, target time.Duration) time.Time {
	if s.Hours != nil {
		if d := s.Hours.Add(created, target); !d.IsZero() {
			return d
		}
	}
	return created.Add(target)
}

// judge decides met or breached for an event that happened: by the
// duration in the SLA's hours where known, else by when it happened.
func (s SLA) judge(target time.Duration, took Durations, created, at time.Time) SLAResult {
	var d time.Duration
	var known bool
	if s.business() {
		d, known = took.Business, took.BusinessKnown
	} else {
		d, known = took.Calendar, took.CalendarKnown
	}
	if known {
		if d <= target {
			return SLAMet
		}
		return SLABreached
	}
	if at.After(s.Deadline(created, target)) {
		return SLABreached
	}
	return SLAMet
}

// Rules are the inputs of Apply besides the two versions of a ticket.
type Rules struct {
	// Watermark is when the exporter first synced this source: events
	// before it belong to history and are not counted.
	Watermark time.Time
	// BusinessHours computes business durations where the vendor gives
	// none. Nil means business durations are not observed.
	BusinessHours interface {
		Between(a, b time.Time) time.Duration
	}
	// Now, when set, is the exporter's clock at the batch: a version dated
	// beyond Now + MaxClockSkew is rejected (inconsistent_time), and a
	// stored version dated so (kept by an older exporter) no longer makes
	// the real versions stale.
	Now time.Time
	// SLA are the targets; a priority without one counts no SLA result.
	SLA SLA
}

// ErrInvalid wraps every reason Apply rejects a ticket for.
var ErrInvalid = errors.New("invalid ticket")

// Apply is the engine's pure core: given the stored state of a ticket (nil
// when never seen) and its new version, it returns the state to store and
// the events to count. It reads no clock and does no I/O.
func Apply(prev *State, t *Ticket, r Rules) (State, Events, error) {
	if err := t.Validate(); err != nil {
		return State{}, Events{}, err
	}
	if err := t.checkNotFuture(r.Now); err != nil {
		return State{}, Events{}, err
	}
	next := State{
		Status:       t.Status,
		Replied:      t.Replied || !t.FirstReplyAt.IsZero(),
		Rating:       t.Satisfaction,
		AgentReplies: int32(t.AgentReplies),
		Reopens:      int32(t.Reopens),
		CreatedAt:    t.CreatedAt.Unix(),
		UpdatedAt:    t.UpdatedAt.UnixNano(),
		Priority:     t.Priority,
	}
	if prev != nil && next.UpdatedAt < prev.UpdatedAt && !(!r.Now.IsZero() && prev.UpdatedAt > r.Now.Add(MaxClockSkew).UnixNano()) {
		return *prev, Events{Stale: true}, nil
	}
	var ev Events
	var base State
	switch {
	case prev != nil:
		base = *prev
	case !t.CreatedAt.Before(r.Watermark):
		// Created after the watermark: every event it carries is new.
		ev.Created = true
		base = State{Status: StatusNew}
	default:
		base = backfillBase(next, t, r)
	}
	next.Solved = base.Solved
	next.FirstReplySLADone, next.ResolutionSLADone = base.FirstReplySLADone, base.ResolutionSLADone
	// A first reply cannot be undone, nor a reopen: a version that lacks
	// them (the vendor left its metrics out) does not take them back.
	next.Replied = next.Replied || base.Replied
	if t.Reopens >= 0 {
		next.Reopens = max(next.Reopens, base.Reopens)
	}
	if !base.Replied && next.Replied {
		ev.FirstReply = true
		ev.FirstReplyTime = observed(t.FirstReply, t.CreatedAt, t.FirstReplyAt, r)
	}
	if t.Reopens >= 0 {
		ev.Reopens = int(max(next.Reopens-max(base.Reopens, 0), 0))
	} else {
		// The vendor does not count reopens: keep our own count.
		next.Reopens = max(base.Reopens, 0)
	}
	if ev.Reopens == 0 && base.Status.Resolved() && next.Status.Unresolved() {
		ev.Reopens = 1
		if t.Reopens < 0 {
			next.Reopens++
		}
	}
	ev.Solves = max(ev.Reopens+b2i(next.Status.Resolved())-b2i(base.Status.Resolved()), 0)
	if ev.Solves > 0 {
		ev.ResolutionTime = observed(t.Resolution, t.CreatedAt, t.SolvedAt, r)
		ev.RepliesAtSolve = t.AgentReplies
		if t.AgentReplies == 1 && next.Reopens == 0 {
			ev.FirstContact = ev.Solves
		}
		ev.FirstSolve = !base.Solved
		next.Solved = true
		ev.RequesterWait, ev.AgentWait, ev.OnHold = t.RequesterWait, t.AgentWait, t.OnHold
	}
	if next.Status.Resolved() {
		next.Solved = true
	}
	if next.Rating != RatingNone && next.Rating != base.Rating {
		ev.Rating = next.Rating
	}
	// judge an SLA once per ticket, at its event (the reply, the first
	// solve), dated by the vendor's time of it or else the version's.
	judge := func(happened bool, done *bool, targets map[string]time.Duration, d Durations, at time.Time) SLAResult {
		if !happened || *done {
			return SLANone
		}
		*done = true
		target, ok := targets[t.Priority]
		if !ok {
			return SLANone
		}
		if at.IsZero() {
			at = t.UpdatedAt
		}
		return r.SLA.judge(target, d, t.CreatedAt, at)
	}
	ev.FirstReplySLA = judge(ev.FirstReply, &next.FirstReplySLADone, r.SLA.FirstReply, ev.FirstReplyTime, t.FirstReplyAt)
	ev.ResolutionSLA = judge(ev.FirstSolve, &next.ResolutionSLADone, r.SLA.Resolution, ev.ResolutionTime, t.SolvedAt)
	// A ticket out of the backlog (solved without a reply, deleted) is
	// judged no more, even if it comes back.
	if !next.Status.Unresolved() {
		next.FirstReplySLADone, next.ResolutionSLADone = true, true
	}
	return next, ev, nil
}

// Sweep is the time-driven half of the SLAs: given the stored state of an
// unresolved ticket and the time of a sync, it returns the state to store
// and the breaches to count, for the targets that passed while the ticket
// waited for a first reply (a first solve). It reads no clock.
func Sweep(s State, now time.Time, sla SLA) (State, Events) {
	var ev Events
	if !s.Status.Unresolved() {
		return s, ev
	}
	created := time.Unix(s.CreatedAt, 0)
	if !s.FirstReplySLADone && !s.Replied {
		if target, ok := sla.FirstReply[s.Priority]; ok && !now.Before(sla.Deadline(created, target)) {
			s.FirstReplySLADone, ev.FirstReplySLA = true, SLABreached
		}
	}
	if !s.ResolutionSLADone && !s.Solved {
		if target, ok := sla.Resolution[s.Priority]; ok && !now.Before(sla.Deadline(created, target)) {
			s.ResolutionSLADone, ev.ResolutionSLA = true, SLABreached
		}
	}
	return s, ev
}

// backfillBase is the assumed earlier state of a ticket first seen that was
// created before the watermark: the ticket as it is now, minus the events
// whose vendor timestamp says they happened at or after the watermark.
// Events the vendor gives no time for are history.
//
// Its SLAs are history when met or missed before the watermark: a target
// that passed before it, or a reply (solve) the vendor gives no time for.
func backfillBase(next State, t *Ticket, r Rules) State {
	watermark := r.Watermark
	base := next
	base.Solved = next.Status.Resolved() || next.Reopens > 0
	if !t.FirstReplyAt.IsZero() && !t.FirstReplyAt.Before(watermark) {
		base.Replied = false
	}
	if next.Status.Resolved() && !t.SolvedAt.IsZero() && !t.SolvedAt.Before(watermark) {
		base.Status = StatusOpen
		base.Solved = next.Reopens > 0
	}
	if !t.SatisfactionAt.IsZero() && !t.SatisfactionAt.Before(watermark) {
		base.Rating = RatingNone
	}
	passed := func(targets map[string]time.Duration) bool {
		target, ok := targets[t.Priority]
		return !ok || r.SLA.Deadline(t.CreatedAt, target).Before(watermark)
	}
	base.FirstReplySLADone = base.Replied || passed(r.SLA.FirstReply)
	base.ResolutionSLADone = base.Solved || passed(r.SLA.Resolution)
	return base
}

// observed picks the vendor's durations where given, and otherwise derives
// them from the two timestamps.
func observed(vendor Durations, from, to time.Time, r Rules) Durations {
	d := vendor
	if to.IsZero() || to.Before(from) {
		return d
	}
	if !d.CalendarKnown {
		d.Calendar, d.CalendarKnown = to.Sub(from), true
	}
	if !d.BusinessKnown && r.BusinessHours != nil {
		d.Business, d.BusinessKnown = r.BusinessHours.Between(from, to), true
	}
	return d
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stateVersion is the first byte of an encoded State. Version 1 states
// (stored before the SLA counters existed) decode with their SLAs done, so
// an upgrade counts no SLA result for tickets it did not watch.
//
// Version 2 states (stored before the assignee label existed) hold five
// labels; they decode with the assignee "unknown", as relabelled
// aggregates count what came before a newly chosen label.
const (
	stateVersion   = 3
	stateVersionV2 = 2
	stateVersionV1 = 1
)

// v2Labels is how many labels a version 1 or 2 state holds.
const v2Labels = 5

// State flags, the third byte of an encoded State.
const (
	flagReplied = 1 << iota
	flagSolved
	flagFirstReplySLADone
	flagResolutionSLADone
)

// MarshalBinary encodes s compactly (varints and length-prefixed strings).
func (s *State) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 48)
	flags := byte(0)
	for _, f := range []struct {
		on   bool
		flag byte
	}{{s.Replied, flagReplied}, {s.Solved, flagSolved}, {s.FirstReplySLADone, flagFirstReplySLADone}, {s.ResolutionSLADone, flagResolutionSLADone}} {
		if f.on {
			flags |= f.flag
		}
	}
	b = append(b, stateVersion, byte(s.Status), flags, byte(s.Rating))
	b = binary.AppendVarint(b, int64(s.AgentReplies))
	b = binary.AppendVarint(b, int64(s.Reopens))
	b = binary.AppendVarint(b, s.CreatedAt)
	b = binary.AppendVarint(b, s.UpdatedAt)
	for _, l := range append(s.Labels[:], s.Priority) {
		b = binary.AppendUvarint(b, uint64(len(l)))
		b = append(b, l...)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (s *State) UnmarshalBinary(b []byte) error {
	if len(b) < 4 || (b[0] != stateVersion && b[0] != stateVersionV2 && b[0] != stateVersionV1) {
		return fmt.Errorf("ticket state: unknown encoding")
	}
	version, flags := b[0], b[2]
	*s = State{Status: Status(b[1]), Replied: flags&flagReplied != 0, Rating: Rating(b[3]),
		Solved: flags&flagSolved != 0, FirstReplySLADone: flags&flagFirstReplySLADone != 0,
		ResolutionSLADone: flags&flagResolutionSLADone != 0}
	b = b[4:]
	var ints [4]int64
	for i := range ints {
		v, n := binary.Varint(b)
		if n <= 0 {
			return fmt.Errorf("ticket state: truncated")
		}
		ints[i], b = v, b[n:]
	}
	s.AgentReplies, s.Reopens, s.CreatedAt, s.UpdatedAt = int32(ints[0]), int32(ints[1]), ints[2], ints[3]
	labels := numLabels
	if version != stateVersion {
		labels = v2Labels
	}
	strs := make([]string, labels+1)
	for i := range strs {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return fmt.Errorf("ticket state: truncated")
		}
		strs[i], b = string(b[n:n+int(l)]), b[n+int(l):]
	}
	copy(s.Labels[:], strs[:labels])
	s.Priority = strs[labels]
	if labels < numLabels {
		for i := labels; i < numLabels; i++ {
			s.Labels[i] = "unknown"
		}
	}
	if version == stateVersionV1 {
		s.Solved = s.Status.Resolved() || s.Reopens > 0
		s.FirstReplySLADone, s.ResolutionSLADone = true, true
	}
	return nil
}
