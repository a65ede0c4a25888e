package billing

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// SubState is the compact per-subscription memory the engine needs to
// detect transitions. It is persisted per subscription, in the same
// transaction as the aggregates it contributed to.
type SubState struct {
	Status            Status
	Paying            bool  // active or past_due with MRR > 0
	EverPaid          bool  // has been paying (a later paying version is no start)
	CancelAtPeriodEnd bool  // counts in billing_scheduled_churn_mrr while paying
	MRRMinor          int64 // 0 unless Paying
	Currency          string
	// Plan is the plan label value. Apply sets the subscription's plan
	// ("none" when empty); Batch replaces it with the capped value.
	Plan      string
	CreatedAt int64 // unix seconds
	UpdatedAt int64 // unix nanoseconds, for recency
}

// CustomerState is the per-customer memory: what its paying
// subscriptions add up to, per currency, whether it ever paid, and when
// its current paying spell began.
type CustomerState struct {
	// MRRMinor is the MRR of the customer's paying subscriptions per
	// currency, minor units; currencies at zero are absent.
	MRRMinor map[string]int64
	// EverPaid: the customer has been active, so coming back after
	// churning is a reactivation, not new business.
	EverPaid bool
	// Spell is the customer's current paying spell (zero while inactive).
	Spell Spell
}

// Spell is a stretch of time during which a customer stays active. The
// 30-day ratios use it to tell whether a customer was already active when
// a window began (the spell began on an earlier day): only then do its
// movements count towards the window's revenue retention, and its churn
// towards the window's customer churn ratio unless the spell is the one
// of a customer new in the window (who is in that ratio's denominator
// too).
type Spell struct {
	// StartDay is the UTC day (see Rules.Day) the spell began. A
	// backfilled customer's spell began before the day of the sync that
	// found it (it is in that day's start values); 0 means before any
	// window that can still hold its events.
	StartDay int64
	// New: the spell is the customer's first ever, begun after the
	// watermark (a new customer, not a reactivation or a backfill).
	New bool
}

// Active reports whether the customer has at least one paying subscription.
func (c *CustomerState) Active() bool { return c != nil && len(c.MRRMinor) > 0 }

func (c *CustomerState) clone() CustomerState {
	if c == nil {
		return CustomerState{}
	}
	return CustomerState{MRRMinor: maps.Clone(c.MRRMinor), EverPaid: c.EverPaid, Spell: c.Spell}
}

func (c *CustomerState) add(currency string, minor int64) {
	v := c.MRRMinor[currency] + minor
	if v <= 0 {
		delete(c.MRRMinor, currency)
		return
	}
	if c.MRRMinor == nil {
		c.MRRMinor = map[string]int64{}
	}
	c.MRRMinor[currency] = v
}

// MovementKind classifies an MRR movement.
type MovementKind string

// The MRR movement kinds, as Stripe and ChartMogul name them.
const (
	MovementNew          MovementKind = "new"
	MovementExpansion    MovementKind = "expansion"
	MovementContraction  MovementKind = "contraction"
	MovementChurn        MovementKind = "churn"
	MovementReactivation MovementKind = "reactivation"
)

// MovementKinds lists the kinds in exposition order.
var MovementKinds = []MovementKind{MovementNew, MovementExpansion, MovementContraction, MovementChurn, MovementReactivation}

func (k MovementKind) index() int { return slices.Index(MovementKinds, k) }

// Movement is one change of a customer's MRR in one currency.
type Movement struct {
	Currency    string
	Kind        MovementKind
	AmountMinor int64 // always positive
}

// Events are what one new version of a subscription produced, relative to
// the engine's memory of it and of its customer.
type Events struct {
	Stale bool // an older version than the one already applied: ignored
	// Backfill: first seen, created before the watermark. It populates the
	// gauges and its customer's state; it counts no event.
	Backfill bool

	Started     bool   // became paying for the first time
	Churned     bool   // a paying subscription was canceled, ended or became unpaid
	ChurnReason string // ReasonVoluntary or ReasonInvoluntary when Churned

	// TrialStarted: a subscription that never paid entered trialing.
	TrialStarted bool
	// TrialConverted: a trial (of a subscription that never paid) ended
	// with the subscription paying: its first paid period began.
	TrialConverted bool
	// TrialCanceled: such a trial ended without the subscription paying
	// (canceled, ended, paused, unpaid, or on a free price).
	TrialCanceled bool

	// CustomerNew: the customer became active for the first time ever
	// (a reactivation is not new).
	CustomerNew bool
	// CustomerChurned: the customer lost its last paying subscription.
	CustomerChurned bool
	// Spell is the customer's paying spell that the expansion,
	// contraction and churn movements (and CustomerChurned) belong to:
	// the one it was in before this version. Zero when it was inactive.
	Spell Spell
	// Movements of the customer's MRR, at most one per currency, sorted by
	// currency.
	Movements []Movement
}

// Rules are the inputs of Apply besides the versions.
type Rules struct {
	// Watermark is when the exporter first synced this source: a
	// subscription first seen that was created before it is backfill.
	Watermark time.Time
	// Day is the UTC day number (days since 1970-01-01) the version is
	// counted on; it dates the start of a customer's paying spell.
	Day int64
	// Now, when set, is the exporter's clock at the batch: a stored
	// version updated beyond Now + MaxClockSkew (a bad vendor clock) never
	// makes the later versions stale.
	Now time.Time
}

// Apply is the engine's pure core: given the stored state of a
// subscription (nil when never seen), the stored state of its customer
// (nil when never seen) and the subscription's new version, it returns
// the states to store and the events to count. It reads no clock and does
// no I/O. An invalid subscription returns an *InvalidError; a stale one
// returns the stored states unchanged with Events.Stale, and the caller
// stores nothing.
//
// Counting rules (SPEC "Counting rules", Stripe's billing analytics):
//   - a subscription starts when it becomes paying for the first time (a
//     converting trial starts then; a trial that ends unpaid never starts);
//   - it churns when, paying, it becomes canceled, ended or unpaid; the
//     reason is involuntary when it became unpaid or CancelReason says so,
//     voluntary otherwise. past_due stays paying. A paying subscription
//     that stops paying otherwise (paused, a free plan) is no subscription
//     churn, but its MRR does move;
//   - a trial starts when a subscription that never paid enters trialing,
//     and ends at the first version that is not trialing: converted when
//     that version is paying, canceled otherwise. A subscription that has
//     paid and goes back to trialing (a trial granted to a paying
//     customer) starts no trial;
//   - a customer is active while it has a paying subscription and churns
//     when it stops being active (its MRR goes from non-zero to zero, as
//     Stripe counts subscriber churn); it is new when it becomes active
//     for the first time, and starts a new paying spell (see Spell) each
//     time it becomes active;
//   - MRR movements are classified per customer from its MRR before and
//     after the change, and measured per currency: a currency whose MRR
//     rises is new (the customer was not active and never paid),
//     reactivation (not active, paid before) or expansion (already active,
//     including a customer adding a second currency); one whose MRR falls
//     is contraction while the customer stays active and churn when it
//     stops being active. Churn movements and customer churns therefore
//     always go together, and per currency the movements add up to the
//     change of MRR.
//
// A subscription's customer is assumed never to change (it cannot in
// Stripe): prevCus is the state of s.Customer.
func Apply(prevSub *SubState, prevCus *CustomerState, s *Subscription, r Rules) (SubState, CustomerState, Events, error) {
	if err := s.validateFields(); err != nil {
		return SubState{}, CustomerState{}, Events{}, err
	}
	list, err := s.listMRR()
	if err != nil {
		return SubState{}, CustomerState{}, Events{}, err
	}
	next := SubState{
		Status:            s.Status,
		Paying:            s.Status.countsMRR() && list > 0,
		CancelAtPeriodEnd: s.CancelAtPeriodEnd,
		Currency:          s.Currency,
		Plan:              planValue(s.Plan),
		CreatedAt:         s.CreatedAt.Unix(),
		UpdatedAt:         unixNano(s.UpdatedAt),
	}
	if next.Paying {
		next.MRRMinor = list
	}
	cus := prevCus.clone()
	if prevSub != nil && next.UpdatedAt < prevSub.UpdatedAt && !(!r.Now.IsZero() && prevSub.UpdatedAt > unixNano(r.Now.Add(MaxClockSkew))) {
		return *prevSub, cus, Events{Stale: true}, nil
	}

	// The customer's MRR: take out what the stored version contributed,
	// add what the new one does.
	before := maps.Clone(cus.MRRMinor)
	wasActive := cus.Active()
	if prevSub != nil && prevSub.Paying {
		cus.add(prevSub.Currency, -prevSub.MRRMinor)
	}
	if next.Paying {
		cus.add(next.Currency, next.MRRMinor)
	}
	isActive := cus.Active()

	var ev Events
	var base SubState // the version events are judged against
	switch {
	case prevSub != nil:
		base = *prevSub
	case !s.CreatedAt.Before(r.Watermark):
		// Created after the watermark: every transition it carries is new.
	default:
		// History: a subscription that is (or was, if now unpaid) paying
		// has paid; one that already ended before the watermark is not
		// assumed to have (it may have been a trial).
		ev.Backfill = true
		next.EverPaid = next.Paying || next.Status == StatusUnpaid
		cus.EverPaid = cus.EverPaid || next.EverPaid || isActive
		if !wasActive && isActive {
			cus.Spell = Spell{StartDay: r.Day - 1} // active before the day began
		}
		return next, cus, ev, nil
	}

	next.EverPaid = base.EverPaid || next.Paying
	ev.Started = !base.EverPaid && next.Paying
	if !base.EverPaid {
		wasTrial, isTrial := base.Status == StatusTrialing, next.Status == StatusTrialing
		ev.TrialStarted = isTrial && !wasTrial
		ev.TrialConverted = wasTrial && !isTrial && next.Paying
		ev.TrialCanceled = wasTrial && !isTrial && !next.Paying
	}
	if base.Paying && !next.Paying && next.Status.churns() {
		ev.Churned = true
		ev.ChurnReason = ReasonVoluntary
		if next.Status == StatusUnpaid || s.CancelReason == ReasonInvoluntary {
			ev.ChurnReason = ReasonInvoluntary
		}
	}
	ev.CustomerChurned = wasActive && !isActive
	ev.CustomerNew = !wasActive && isActive && !cus.EverPaid
	ev.Movements = movements(before, cus.MRRMinor, wasActive, isActive, cus.EverPaid)
	if wasActive {
		ev.Spell = cus.Spell
	}
	switch {
	case !wasActive && isActive:
		cus.Spell = Spell{StartDay: r.Day, New: !cus.EverPaid}
	case !isActive:
		cus.Spell = Spell{}
	}
	cus.EverPaid = cus.EverPaid || isActive
	return next, cus, ev, nil
}

// movements classifies the change of a customer's MRR from before to
// after, per currency (see Apply).
func movements(before, after map[string]int64, wasActive, isActive, everPaid bool) []Movement {
	var out []Movement
	seen := func(c string) bool { _, ok := before[c]; return ok }
	currencies := slices.Collect(maps.Keys(before))
	for c := range after {
		if !seen(c) {
			currencies = append(currencies, c)
		}
	}
	slices.Sort(currencies)
	for _, c := range currencies {
		x, y := before[c], after[c]
		var kind MovementKind
		switch {
		case y > x && wasActive:
			kind = MovementExpansion
		case y > x && everPaid:
			kind = MovementReactivation
		case y > x:
			kind = MovementNew
		case y < x && isActive:
			kind = MovementContraction
		case y < x:
			kind = MovementChurn
		default:
			continue
		}
		out = append(out, Movement{Currency: c, Kind: kind, AmountMinor: max(y-x, x-y)})
	}
	return out
}

// planValue is the label value of a plan: "none" when there is none,
// invalid UTF-8 replaced (label values must be UTF-8).
func planValue(p string) string {
	if p == "" {
		return "none"
	}
	return strings.ToValidUTF8(p, "\uFFFD")
}

// unixNano is t in unix nanoseconds, 0 for the zero time, clamped to the
// range int64 nanoseconds can hold.
func unixNano(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Unix() >= math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	case t.Unix() <= math.MinInt64/int64(time.Second):
		return math.MinInt64
	}
	return t.UnixNano()
}

// stateVersion is the first byte of an encoded SubState or CustomerState.
const (
	subStateVersion = 1
	// customerStateVersion 2 added the spell; version 1 (no spell) still
	// decodes, as a spell that began before the history.
	customerStateVersion = 2
)

const (
	flagPaying = 1 << iota
	flagEverPaid
	flagCancelAtPeriodEnd
	flagNewSpell // customer state: the spell is a new customer's
)

// MarshalBinary encodes s compactly (varints and length-prefixed strings).
func (s *SubState) MarshalBinary() ([]byte, error) {
	idx := s.Status.index()
	if idx < 0 {
		return nil, fmt.Errorf("subscription state: unknown status %q", s.Status)
	}
	var flags byte
	if s.Paying {
		flags |= flagPaying
	}
	if s.EverPaid {
		flags |= flagEverPaid
	}
	if s.CancelAtPeriodEnd {
		flags |= flagCancelAtPeriodEnd
	}
	b := make([]byte, 0, 32+len(s.Currency)+len(s.Plan))
	b = append(b, subStateVersion, byte(idx), flags)
	b = binary.AppendVarint(b, s.MRRMinor)
	b = binary.AppendVarint(b, s.CreatedAt)
	b = binary.AppendVarint(b, s.UpdatedAt)
	b = appendString(b, s.Currency)
	b = appendString(b, s.Plan)
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (s *SubState) UnmarshalBinary(b []byte) error {
	if len(b) < 3 || b[0] != subStateVersion || int(b[1]) >= len(statusOrder) {
		return fmt.Errorf("subscription state: unknown encoding")
	}
	*s = SubState{Status: statusOrder[b[1]], Paying: b[2]&flagPaying != 0, EverPaid: b[2]&flagEverPaid != 0,
		CancelAtPeriodEnd: b[2]&flagCancelAtPeriodEnd != 0}
	d := decoder{b: b[3:], what: "subscription state"}
	s.MRRMinor, s.CreatedAt, s.UpdatedAt = d.varint(), d.varint(), d.varint()
	s.Currency, s.Plan = d.string(), d.string()
	return d.err
}

// MarshalBinary encodes c compactly, currencies sorted.
func (c *CustomerState) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 8+len(c.MRRMinor)*12)
	var flags byte
	if c.EverPaid {
		flags |= flagEverPaid
	}
	if c.Spell.New {
		flags |= flagNewSpell
	}
	b = append(b, customerStateVersion, flags)
	b = binary.AppendVarint(b, c.Spell.StartDay)
	b = binary.AppendUvarint(b, uint64(len(c.MRRMinor)))
	for _, cur := range slices.Sorted(maps.Keys(c.MRRMinor)) {
		b = appendString(b, cur)
		b = binary.AppendVarint(b, c.MRRMinor[cur])
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote, and version 1.
func (c *CustomerState) UnmarshalBinary(b []byte) error {
	if len(b) < 2 || (b[0] != customerStateVersion && b[0] != 1) {
		return fmt.Errorf("customer state: unknown encoding")
	}
	*c = CustomerState{EverPaid: b[1]&flagEverPaid != 0}
	d := decoder{b: b[2:], what: "customer state"}
	if b[0] == customerStateVersion {
		c.Spell = Spell{StartDay: d.varint(), New: b[1]&flagNewSpell != 0}
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) { // every entry takes at least one byte
		return fmt.Errorf("customer state: truncated")
	}
	for range n {
		cur, v := d.string(), d.varint()
		if d.err != nil {
			break
		}
		if v > 0 {
			if c.MRRMinor == nil {
				c.MRRMinor = make(map[string]int64, n)
			}
			c.MRRMinor[cur] = v
		}
	}
	return d.err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads varints and strings, remembering the first error.
type decoder struct {
	b    []byte
	what string
	err  error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%s: truncated", d.what)
	}
	d.b = nil
}

func (d *decoder) varint() int64   { return readVarint(d, binary.Varint) }
func (d *decoder) uvarint() uint64 { return readVarint(d, binary.Uvarint) }

// readVarint reads one (u)varint with read, failing the decoder when the
// bytes end first.
func readVarint[T int64 | uint64](d *decoder, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	l := d.uvarint()
	if d.err != nil || l > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:l])
	d.b = d.b[l:]
	return s
}
