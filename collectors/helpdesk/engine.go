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
	Status       Status
	Replied      bool
	Rating       Rating
	AgentReplies int32
	Reopens      int32 // the vendor's count, or ours when it keeps none
	CreatedAt    int64 // unix seconds
	UpdatedAt    int64 // unix nanoseconds, for recency
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
	ResolutionTime Durations
	Reopens        int
	FirstContact   int // solves with exactly one agent reply and no reopen
	RepliesAtSolve int
	Rating         Rating // a rating received (RatingNone: none)
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
		base = backfillBase(next, t, r.Watermark)
	}
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
	}
	if next.Rating != RatingNone && next.Rating != base.Rating {
		ev.Rating = next.Rating
	}
	return next, ev, nil
}

// backfillBase is the assumed earlier state of a ticket first seen that was
// created before the watermark: the ticket as it is now, minus the events
// whose vendor timestamp says they happened at or after the watermark.
// Events the vendor gives no time for are history.
func backfillBase(next State, t *Ticket, watermark time.Time) State {
	base := next
	if !t.FirstReplyAt.IsZero() && !t.FirstReplyAt.Before(watermark) {
		base.Replied = false
	}
	if next.Status.Resolved() && !t.SolvedAt.IsZero() && !t.SolvedAt.Before(watermark) {
		base.Status = StatusOpen
	}
	if !t.SatisfactionAt.IsZero() && !t.SatisfactionAt.Before(watermark) {
		base.Rating = RatingNone
	}
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

// stateVersion is the first byte of an encoded State.
const stateVersion = 1

// MarshalBinary encodes s compactly (varints and length-prefixed strings).
func (s *State) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 48)
	flags := byte(0)
	if s.Replied {
		flags = 1
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
	if len(b) < 4 || b[0] != stateVersion {
		return fmt.Errorf("ticket state: unknown encoding")
	}
	*s = State{Status: Status(b[1]), Replied: b[2]&1 == 1, Rating: Rating(b[3])}
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
	strs := make([]string, numLabels+1)
	for i := range strs {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return fmt.Errorf("ticket state: truncated")
		}
		strs[i], b = string(b[n:n+int(l)]), b[n+int(l):]
	}
	copy(s.Labels[:], strs)
	s.Priority = strs[numLabels]
	return nil
}
