package source

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

// Dated is a record's version from a time on.
type Dated[T any] struct {
	At time.Time
	V  T
}

// Versions are the dated versions a vendor's records give, in any order.
type Versions struct {
	Tickets       []Dated[helpdesk.Ticket]
	Subscriptions []Dated[billing.Subscription]
}

// Timeline is the History of a vendor whose records keep no change
// history, only timestamps: Read lists the records (through the poller's
// own paths and decoders) and turns each into the versions its timestamps
// allow (TicketVersions, SubscriptionVersions); Timeline replays them in
// time order. Each vendor adds only Read.
type Timeline struct {
	// Vendor names the vendor in errors.
	Vendor string
	// Read lists the records that matter for [from, to) and returns
	// their versions; it counts its requests with *requests.
	Read func(ctx context.Context, from, to time.Time, requests *int) (Versions, error)
	// Dir lists the account's agent and group names (see
	// DirectoryHistory); zero when the vendor has none.
	Dir Directory

	requests int
	at       int64
}

// Directory implements DirectoryHistory.
func (h *Timeline) Directory() Directory { return h.Dir }

// Requests is how many requests the replay made (a resumed replay reads
// the records again).
func (h *Timeline) Requests() int { return h.requests }

// State is the time of the last Advance: a resumed replay reads the
// records again and goes on from there.
func (h *Timeline) State() ([]byte, error) { return json.Marshal(h.at) }

// Replay reads the versions and hands r those dated before to in time
// order; each record's versions before from are folded into its latest
// one, dated from.
func (h *Timeline) Replay(ctx context.Context, from, to time.Time, resume []byte, r Replayer) error {
	var resumeAt int64
	if resume != nil {
		if err := json.Unmarshal(resume, &resumeAt); err != nil {
			return fmt.Errorf("%s: history checkpoint: %w", h.Vendor, err)
		}
	}
	vs, err := h.Read(ctx, from, to, &h.requests)
	if err != nil {
		return err
	}
	if len(vs.Tickets) > 0 && len(vs.Subscriptions) > 0 {
		return fmt.Errorf("%s: a history replays tickets or subscriptions, not both", h.Vendor)
	}
	emit := func(at time.Time) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err // interrupted: the checkpoint of the last chunk stands
		}
		if at.Unix() < resumeAt {
			return false, nil // applied before the interruption
		}
		h.at = at.Unix()
		return true, r.Advance(at)
	}
	if err := replaySorted(vs.Tickets, from, to, func(t *helpdesk.Ticket) string { return t.ID }, emit, r.Ticket); err != nil {
		return err
	}
	return replaySorted(vs.Subscriptions, from, to, func(s *billing.Subscription) string { return s.ID }, emit, r.Subscription)
}

func replaySorted[T any](vs []Dated[T], from, to time.Time, id func(*T) string, advance func(time.Time) (bool, error), apply func(*T) error) error {
	slices.SortStableFunc(vs, func(a, b Dated[T]) int { return a.At.Compare(b.At) })
	// The state at from: each record's latest version before it.
	latest := map[string]int{}
	for i := range vs {
		if vs[i].At.Before(from) {
			latest[id(&vs[i].V)] = i
		}
	}
	step := func(at time.Time, v *T) error {
		ok, err := advance(at)
		if !ok || err != nil {
			return err
		}
		return apply(v)
	}
	for i := range vs {
		if vs[i].At.Before(from) && latest[id(&vs[i].V)] == i {
			if err := step(from, &vs[i].V); err != nil {
				return err
			}
		}
	}
	for i := range vs {
		if vs[i].At.Before(from) {
			continue
		}
		if !vs[i].At.Before(to) {
			break
		}
		if err := step(vs[i].At, &vs[i].V); err != nil {
			return err
		}
	}
	return nil
}

// TicketTimelines are the versions of tickets listed by a vendor, each
// from its latest listing (a ticket updated during a listing is listed
// again later; of two listings with the same updated time the later one
// wins).
// changes, when not nil, holds the dated status changes of tickets whose
// vendor keeps them (by ticket id; see TicketVersions).
func TicketTimelines(tickets []helpdesk.Ticket, changes map[string][]StatusChange) []Dated[helpdesk.Ticket] {
	latest := map[string]int{}
	for i := range tickets {
		if j, ok := latest[tickets[i].ID]; !ok || !tickets[i].UpdatedAt.Before(tickets[j].UpdatedAt) {
			latest[tickets[i].ID] = i
		}
	}
	var out []Dated[helpdesk.Ticket]
	for i := range tickets {
		if latest[tickets[i].ID] == i {
			out = append(out, TicketVersions(tickets[i], changes[tickets[i].ID]...)...)
		}
	}
	return out
}

// StatusChange is a ticket's status change, dated, where the vendor keeps
// them (eDesk's Status items).
type StatusChange struct {
	At     time.Time
	Status helpdesk.Status
}

// TicketVersions are a ticket's versions from its own timestamps, given
// its current version t (as the poller decodes it):
//
//   - at CreatedAt: open, unanswered, unsolved, unrated;
//   - at FirstReplyAt (when dated): answered;
//   - at SolvedAt (when dated): solved (closed when t is closed and was
//     not reopened since);
//   - at SatisfactionAt (when dated): rated;
//   - at UpdatedAt: t itself (its current status, reopens and replies).
//
// The statuses between these instants are unknown: the ticket is open
// from creation to its solve (pending or on hold spells are not seen),
// and a reopen shows only as t's unresolved status at UpdatedAt. Each
// version carries t's current priority, channel, group, type, brand and
// assignee. Versions of the same second are one version.
//
// With status changes, the ticket takes each changed status at its time
// instead (solved when resolved, dated then), and its solve time no
// longer makes a version of its own: pending spells, every solve and
// every reopen are replayed.
func TicketVersions(t helpdesk.Ticket, changes ...StatusChange) []Dated[helpdesk.Ticket] {
	type mark struct {
		at    time.Time
		apply func(v *helpdesk.Ticket)
	}
	solvedStatus := helpdesk.StatusSolved
	if t.Status.Resolved() {
		solvedStatus = t.Status
	}
	marks := []mark{{t.CreatedAt, func(*helpdesk.Ticket) {}}}
	if t.Replied && !t.FirstReplyAt.IsZero() {
		marks = append(marks, mark{t.FirstReplyAt, func(v *helpdesk.Ticket) {
			v.FirstReplyAt, v.Replied, v.FirstReply = t.FirstReplyAt, true, t.FirstReply
			if t.AgentReplies > 0 && v.AgentReplies < 1 {
				v.AgentReplies = 1
			}
		}})
	}
	for _, c := range changes {
		marks = append(marks, mark{c.At, func(v *helpdesk.Ticket) {
			v.Status = c.Status
			if c.Status.Resolved() {
				v.SolvedAt, v.AgentReplies = c.At, t.AgentReplies
			}
		}})
	}
	if !t.SolvedAt.IsZero() && len(changes) == 0 {
		marks = append(marks, mark{t.SolvedAt, func(v *helpdesk.Ticket) {
			v.Status, v.SolvedAt, v.Resolution = solvedStatus, t.SolvedAt, t.Resolution
			v.RequesterWait, v.AgentWait, v.OnHold = t.RequesterWait, t.AgentWait, t.OnHold
			v.AgentReplies = t.AgentReplies
		}})
	}
	if t.Satisfaction != helpdesk.RatingNone && !t.SatisfactionAt.IsZero() {
		marks = append(marks, mark{t.SatisfactionAt, func(v *helpdesk.Ticket) {
			v.Satisfaction, v.SatisfactionAt = t.Satisfaction, t.SatisfactionAt
		}})
	}
	if !t.UpdatedAt.IsZero() {
		marks = append(marks, mark{t.UpdatedAt, func(v *helpdesk.Ticket) {
			sat, satAt := v.Satisfaction, v.SatisfactionAt
			*v = t
			if t.SatisfactionAt.After(t.UpdatedAt) { // rated after its last update
				v.Satisfaction, v.SatisfactionAt = sat, satAt
			}
		}})
	}
	slices.SortStableFunc(marks, func(a, b mark) int { return a.at.Compare(b.at) })
	v := t
	v.Status, v.FirstReplyAt, v.Replied, v.SolvedAt = helpdesk.StatusOpen, time.Time{}, false, time.Time{}
	v.FirstReply, v.Resolution = helpdesk.Durations{}, helpdesk.Durations{}
	v.RequesterWait, v.AgentWait, v.OnHold = helpdesk.Durations{}, helpdesk.Durations{}, helpdesk.Durations{}
	v.Satisfaction, v.SatisfactionAt = helpdesk.RatingNone, time.Time{}
	v.AgentReplies = min(t.AgentReplies, 0)
	v.Reopens = min(t.Reopens, 0)
	var out []Dated[helpdesk.Ticket]
	for i, m := range marks {
		if m.at.Before(t.CreatedAt) {
			continue // inconsistent; the decoders reject most of these
		}
		m.apply(&v)
		v.UpdatedAt = m.at
		if i+1 < len(marks) && marks[i+1].at.Equal(m.at) {
			continue // one version a second
		}
		out = append(out, Dated[helpdesk.Ticket]{At: m.at, V: v})
	}
	return out
}

// SubscriptionVersions are a subscription's versions from its own
// timestamps, given its current version s (as the poller decodes it),
// the end of its trial (zero when it had none) and when its status last
// changed to s's (zero: unknown):
//
//   - at CreatedAt: trialing when it had a trial, else live (s's status
//     when it is active or past due, else active);
//   - at trialEnd, when it ended before any cancellation: live;
//   - at the earlier of CanceledAt and EndedAt, when s is canceled or
//     ended: s's status;
//   - at statusAt, when s is live but neither trialing nor active (past
//     due, paused, unpaid): s's status.
//
// Every version carries s's current plan, items, discounts and MRR: plan
// changes are not dated by timestamps.
func SubscriptionVersions(s billing.Subscription, trialEnd, statusAt time.Time) []Dated[billing.Subscription] {
	at := func(t time.Time, st billing.Status) Dated[billing.Subscription] {
		v := s
		v.Status, v.UpdatedAt = st, t
		if st.Live() {
			v.CanceledAt, v.EndedAt = time.Time{}, time.Time{}
		}
		return Dated[billing.Subscription]{At: t, V: v}
	}
	live := s.Status
	if live != billing.StatusActive && live != billing.StatusPastDue {
		live = billing.StatusActive
	}
	var ended time.Time
	if !s.Status.Live() {
		for _, t := range []time.Time{s.CanceledAt, s.EndedAt} {
			if !t.IsZero() && (ended.IsZero() || t.Before(ended)) {
				ended = t
			}
		}
	}
	var out []Dated[billing.Subscription]
	if trialEnd.After(s.CreatedAt) {
		out = append(out, at(s.CreatedAt, billing.StatusTrialing))
		if s.Status != billing.StatusTrialing && (ended.IsZero() || trialEnd.Before(ended)) {
			out = append(out, at(trialEnd, live))
		}
	} else {
		out = append(out, at(s.CreatedAt, live))
	}
	last := out[len(out)-1].At
	switch {
	case !ended.IsZero() && ended.After(last):
		out = append(out, at(ended, s.Status))
	case !ended.IsZero():
		out[len(out)-1].V.Status = s.Status
	case s.Status.Live() && s.Status != live && s.Status != billing.StatusTrialing && statusAt.After(last):
		out = append(out, at(statusAt, s.Status))
	}
	return out
}
