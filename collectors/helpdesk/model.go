// Package helpdesk is the vendor-neutral helpdesk engine: it turns successive
// versions of canonical tickets into events (created, first reply, solve,
// reopen, rating), keeps them as aggregates that survive restarts, and renders
// them as the helpdesk_* metrics. It never imports a vendor package and never
// reads a clock: callers pass time in.
package helpdesk

import (
	"fmt"
	"time"
)

// Status is a ticket's canonical status.
type Status uint8

// The canonical statuses. Unresolved tickets are new, open, pending or on hold.
const (
	StatusUnknown Status = iota
	StatusNew
	StatusOpen
	StatusPending
	StatusOnHold
	StatusSolved
	StatusClosed
	StatusDeleted
)

var statusNames = [...]string{"unknown", "new", "open", "pending", "on_hold", "solved", "closed", "deleted"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", s)
}

// Unresolved reports whether the ticket is part of the backlog.
func (s Status) Unresolved() bool { return s >= StatusNew && s <= StatusOnHold }

// Resolved reports whether the ticket is solved or closed.
func (s Status) Resolved() bool { return s == StatusSolved || s == StatusClosed }

// unresolvedStatuses lists the backlog statuses in exposition order.
var unresolvedStatuses = []Status{StatusNew, StatusOpen, StatusPending, StatusOnHold}

// Rating is a satisfaction rating.
type Rating uint8

// The canonical ratings; RatingNone means not rated (or only offered).
const (
	RatingNone Rating = iota
	RatingGood
	RatingNeutral
	RatingBad
)

var ratingNames = [...]string{"none", "good", "neutral", "bad"}

func (r Rating) String() string {
	if int(r) < len(ratingNames) {
		return ratingNames[r]
	}
	return fmt.Sprintf("rating(%d)", r)
}

// Canonical priority values; anything else is rejected by the vendor mapping.
const (
	PriorityUrgent = "urgent"
	PriorityHigh   = "high"
	PriorityNormal = "normal"
	PriorityLow    = "low"
	PriorityNone   = "none"
)

// Priorities lists the canonical priorities.
var Priorities = []string{PriorityUrgent, PriorityHigh, PriorityNormal, PriorityLow, PriorityNone}

// Channels lists the canonical channels.
var Channels = []string{"email", "web", "chat", "phone", "api", "social", "other"}

// TicketTypes lists the canonical ticket types.
var TicketTypes = []string{"question", "incident", "problem", "task", "none"}

// Durations is a vendor-computed duration in calendar and business time.
// A zero-value field with its Known flag false means the vendor gave none.
type Durations struct {
	Calendar, Business           time.Duration
	CalendarKnown, BusinessKnown bool
}

// Ticket is the canonical ticket that every helpdesk collector produces.
type Ticket struct {
	ID       string
	Status   Status
	Priority string // one of Priorities
	Channel  string // one of Channels
	Group    string // vendor group id or name; "" when none
	Type     string // one of TicketTypes
	Brand    string // vendor brand id or name; "" when none
	// Assignee is the agent the ticket is assigned to in this version (a
	// vendor id, or the display name the source kit resolved it to); ""
	// when unassigned. Events are counted under the assignee of the
	// version that carries them: the assignee at the time of the event.
	Assignee string

	CreatedAt time.Time
	UpdatedAt time.Time

	// FirstReplyAt is the first public agent reply, zero when none or when
	// the vendor only gives a duration (Replied then says whether one exists).
	FirstReplyAt time.Time
	Replied      bool
	FirstReply   Durations // vendor-computed created → first reply

	SolvedAt   time.Time // latest solve, zero when never solved or unknown
	Resolution Durations // vendor-computed created → latest solve

	// AgentReplies is the public agent replies so far, -1 when the vendor
	// does not count them (first-contact resolution is then not exported).
	AgentReplies int
	Reopens      int // times reopened so far, -1 when the vendor does not count them

	// RequesterWait, AgentWait and OnHold are the vendor's own totals at the
	// latest solve (Zendesk's requester_wait_time_in_minutes,
	// agent_wait_time_in_minutes, on_hold_time_in_minutes); unknown (and
	// their histograms absent) for vendors that do not give them.
	RequesterWait, AgentWait, OnHold Durations

	Satisfaction   Rating
	SatisfactionAt time.Time // zero when the vendor gives no time
}

// InvalidError says why a ticket was rejected. Reason is a short label
// value for cx_exporter_records_rejected_total.
type InvalidError struct {
	Reason string // missing_field, unknown_value, negative_duration, inconsistent_time
	Detail string
}

func (e *InvalidError) Error() string { return e.Detail }

// Is makes errors.Is(err, ErrInvalid) true for every InvalidError.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(reason, format string, args ...any) error {
	return &InvalidError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Validate reports the first thing that makes t unusable.
func (t *Ticket) Validate() error {
	switch {
	case t.ID == "":
		return invalid("missing_field", "missing id")
	case t.Status == StatusUnknown || t.Status > StatusDeleted:
		return invalid("unknown_value", "unknown status")
	case t.CreatedAt.IsZero():
		return invalid("missing_field", "missing created_at")
	case !oneOf(t.Priority, Priorities):
		return invalid("unknown_value", "unknown priority %q", t.Priority)
	case !oneOf(t.Channel, Channels):
		return invalid("unknown_value", "unknown channel %q", t.Channel)
	case !oneOf(t.Type, TicketTypes):
		return invalid("unknown_value", "unknown type %q", t.Type)
	case t.AgentReplies < -1:
		return invalid("negative_duration", "negative agent replies")
	case t.Satisfaction > RatingBad:
		return invalid("unknown_value", "unknown satisfaction rating")
	}
	for _, d := range []struct {
		name string
		d    Durations
	}{{"first reply time", t.FirstReply}, {"resolution time", t.Resolution},
		{"requester wait time", t.RequesterWait}, {"agent wait time", t.AgentWait}, {"on-hold time", t.OnHold}} {
		if d.d.Calendar < 0 || d.d.Business < 0 {
			return invalid("negative_duration", "negative %s", d.name)
		}
	}
	if !t.FirstReplyAt.IsZero() && t.FirstReplyAt.Before(t.CreatedAt) {
		return invalid("inconsistent_time", "first reply before creation")
	}
	if !t.SolvedAt.IsZero() && t.SolvedAt.Before(t.CreatedAt) {
		return invalid("inconsistent_time", "solved before creation")
	}
	return nil
}

// MaxClockSkew is how far past the exporter's clock a vendor's time may
// be: a version dated later than that (a ticket updated in 2100) would
// make every later real version look stale, and is rejected instead.
const MaxClockSkew = 5 * time.Minute

// checkNotFuture rejects a ticket created or updated (Zendesk's
// generated_timestamp) beyond now + MaxClockSkew as inconsistent_time. A
// zero now checks nothing. Reply, solve and rating times are not checked:
// they order nothing, and vendors' simulators date them ahead.
func (t *Ticket) checkNotFuture(now time.Time) error {
	if now.IsZero() {
		return nil
	}
	limit := now.Add(MaxClockSkew)
	for _, f := range []struct {
		name string
		at   time.Time
	}{{"created_at", t.CreatedAt}, {"updated_at", t.UpdatedAt}} {
		if f.at.After(limit) {
			return invalid("inconsistent_time", "%s %s is in the future", f.name, f.at.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}
