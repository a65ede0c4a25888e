package helpdesk

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Hours is a business-hours calendar (see package businesshours).
type Hours interface {
	Between(a, b time.Time) time.Duration
	Add(t time.Time, d time.Duration) time.Time
}

// Config is how a Tracker counts and labels one source's tickets.
type Config struct {
	Labels         LabelSet
	MaxLabelValues int
	Watermark      time.Time
	BusinessHours  Hours // nil: business durations only where the vendor gives them
	// FirstReplyTargets maps a priority to its first-reply SLA target.
	FirstReplyTargets map[string]time.Duration
	// ResolutionTargets maps a priority to its resolution SLA target.
	ResolutionTargets map[string]time.Duration
	// SLABusinessHours counts SLA targets in business time (else calendar).
	SLABusinessHours bool
	// Now, when set, is read once per batch: versions dated in the future
	// are rejected against it (see Rules.Now).
	Now func() time.Time
}

// Records is the per-ticket state storage of one transaction: reads see
// the writes made earlier in the same transaction.
type Records interface {
	Get(id string) []byte
	Put(id string, v []byte) error
}

// openTicket is what the live backlog gauges need of an unresolved ticket.
type openTicket struct {
	key      string // series key of its exported labels
	status   Status
	created  int64 // unix seconds
	awaiting bool  // no agent reply yet
	riskAt   int64 // unix seconds when under 25% of the SLA target is left; 0: no target
	breachAt int64 // unix seconds when the SLA target is missed
	// resRiskAt and resBreachAt are the same for the resolution target of
	// a ticket never solved yet (0: none).
	resRiskAt, resBreachAt int64
	// due is the earliest time a Sweep has a breach to count for the
	// ticket; 0: none.
	due int64
}

// Tracker is the stateful engine of one source: the published aggregates
// and backlog, and the batches that change them one page at a time.
type Tracker struct {
	cfg Config

	mu     sync.RWMutex
	agg    *Aggregates
	open   map[string]openTicket
	labels map[string][]string // series key → label values (interned)
	newest time.Time           // UpdatedAt of the newest version applied
}

// NewTracker returns an empty tracker; Load restores a persisted one.
func NewTracker(cfg Config) *Tracker {
	if cfg.MaxLabelValues <= 0 {
		cfg.MaxLabelValues = 50
	}
	return &Tracker{
		cfg:    cfg,
		agg:    newAggregates(cfg.Labels, cfg.MaxLabelValues),
		open:   map[string]openTicket{},
		labels: map[string][]string{},
	}
}

// Load restores the aggregates blob (nil: none yet) and rebuilds the
// backlog from every stored ticket state that each yields.
func (tr *Tracker) Load(aggregates []byte, each func(fn func(id string, state []byte) error) error) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(aggregates) > 0 {
		a := newAggregates(tr.cfg.Labels, tr.cfg.MaxLabelValues)
		if err := json.Unmarshal(aggregates, a); err != nil {
			return fmt.Errorf("helpdesk aggregates: %w", err)
		}
		a.rekey()
		a.relabel(tr.cfg.Labels)
		a.Limits.Max = tr.cfg.MaxLabelValues
		a.trackActivity(tr.cfg.Labels)
		tr.agg = a
	}
	return each(func(id string, v []byte) error {
		var s State
		if err := s.UnmarshalBinary(v); err != nil {
			return fmt.Errorf("ticket %s: %w", id, err)
		}
		if s.Status.Unresolved() {
			tr.open[id] = tr.openTicket(&s)
		}
		return nil
	})
}

// Batch accumulates one page of changes. Nothing it does is visible until
// Publish, which the caller runs after the page's transaction committed.
type Batch struct {
	tr      *Tracker
	agg     *Aggregates
	changes map[string]*State // tickets whose backlog entry changes
	now     time.Time         // Config.Now at Begin; zero when unset
	newest  time.Time         // UpdatedAt of the newest version applied
}

// Begin starts a batch on a copy of the published aggregates.
func (tr *Tracker) Begin() *Batch {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	b := &Batch{tr: tr, agg: tr.agg.clone(), changes: map[string]*State{}}
	if tr.cfg.Now != nil {
		b.now = tr.cfg.Now()
		b.agg.Limits.rankAssignees(unixDay(b.now))
	}
	return b
}

// Apply folds one new ticket version into the batch, reading and writing
// its stored state through rec. An invalid ticket returns an error
// wrapping ErrInvalid and changes nothing.
func (b *Batch) Apply(rec Records, t *Ticket) (Events, error) {
	var prev *State
	if v := rec.Get(t.ID); v != nil {
		prev = new(State)
		if err := prev.UnmarshalBinary(v); err != nil {
			return Events{}, fmt.Errorf("ticket %s: %w", t.ID, err)
		}
	}
	next, ev, err := Apply(prev, t, Rules{Watermark: b.tr.cfg.Watermark, BusinessHours: b.tr.cfg.BusinessHours, Now: b.now, SLA: b.tr.sla()})
	if err != nil || ev.Stale {
		return ev, err
	}
	b.agg.note(t)
	if a := b.agg.Limits.Activity; a != nil {
		day := b.now
		if day.IsZero() {
			day = t.UpdatedAt
		}
		a.tally(rawValues(t)[labelAssignee], ev.events(), unixDay(day))
	}
	if t.UpdatedAt.After(b.newest) {
		b.newest = t.UpdatedAt
	}
	next.Labels = b.agg.Limits.capValues(t)
	v, _ := next.MarshalBinary()
	if err := rec.Put(t.ID, v); err != nil {
		return ev, err
	}
	// Every tracked ticket's series exists, at zero if need be, so that
	// counters start at 0 and rate() sees their first increment.
	vals := b.tr.cfg.Labels.values(&next.Labels)
	b.agg.series(vals)
	b.agg.add(vals, &ev)
	b.changes[t.ID] = &next
	return ev, nil
}

// Aggregates encodes the batch's aggregates for the page's transaction.
func (b *Batch) Aggregates() ([]byte, error) { return json.Marshal(b.agg) }

// Publish makes a committed batch visible to scrapes.
func (tr *Tracker) Publish(b *Batch) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.agg = b.agg
	if b.newest.After(tr.newest) {
		tr.newest = b.newest
	}
	for id, s := range b.changes {
		if s.Status.Unresolved() {
			tr.open[id] = tr.openTicket(s)
		} else {
			delete(tr.open, id)
		}
	}
}

// NewestChange is the upstream time of the newest ticket version applied
// since the process started; zero before any.
func (tr *Tracker) NewestChange() time.Time {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	return tr.newest
}

// sla is the tracker's SLA targets and clock.
func (tr *Tracker) sla() SLA {
	s := SLA{FirstReply: tr.cfg.FirstReplyTargets, Resolution: tr.cfg.ResolutionTargets}
	if tr.cfg.SLABusinessHours && tr.cfg.BusinessHours != nil {
		s.Hours = tr.cfg.BusinessHours
	}
	return s
}

// openTicket builds a backlog entry; the caller holds tr.mu.
func (tr *Tracker) openTicket(s *State) openTicket {
	vals := tr.cfg.Labels.values(&s.Labels)
	k := seriesKey(vals)
	if _, ok := tr.labels[k]; !ok {
		tr.labels[k] = vals
	}
	o := openTicket{key: k, status: s.Status, created: s.CreatedAt, awaiting: !s.Replied}
	sla := tr.sla()
	created := time.Unix(s.CreatedAt, 0)
	due := func(at int64) {
		if o.due == 0 || at < o.due {
			o.due = at
		}
	}
	if target, ok := sla.FirstReply[s.Priority]; ok && o.awaiting && target > 0 {
		o.riskAt = sla.Deadline(created, target*3/4).Unix()
		o.breachAt = sla.Deadline(created, target).Unix()
		if !s.FirstReplySLADone {
			due(o.breachAt)
		}
	}
	if target, ok := sla.Resolution[s.Priority]; ok && !s.Solved && target > 0 {
		o.resRiskAt = sla.Deadline(created, target*3/4).Unix()
		o.resBreachAt = sla.Deadline(created, target).Unix()
		if !s.ResolutionSLADone {
			due(o.resBreachAt)
		}
	}
	return o
}

// Sweep counts the SLA breaches that time alone produced: unresolved
// tickets whose first-reply (resolution) target passed by now while they
// waited, with no upstream change needed. commit runs apply in one
// transaction of the state store and stores the aggregates it returns
// with the ticket states it wrote, so each breach counts once, ever. It
// returns how many tickets breached; nothing is written when none did.
func (tr *Tracker) Sweep(now time.Time, commit func(apply func(rec Records) (aggregates []byte, err error)) error) (int, error) {
	tr.mu.RLock()
	var ids []string
	for id, o := range tr.open {
		if o.due != 0 && o.due <= now.Unix() {
			ids = append(ids, id)
		}
	}
	tr.mu.RUnlock()
	if len(ids) == 0 {
		return 0, nil
	}
	var n int
	var b *Batch
	err := commit(func(rec Records) ([]byte, error) {
		b, n = tr.Begin(), 0
		sla := tr.sla()
		for _, id := range ids {
			v := rec.Get(id)
			if v == nil {
				continue
			}
			var s State
			if err := s.UnmarshalBinary(v); err != nil {
				return nil, fmt.Errorf("ticket %s: %w", id, err)
			}
			next, ev := Sweep(s, now, sla)
			if ev.FirstReplySLA == SLANone && ev.ResolutionSLA == SLANone {
				continue
			}
			v, _ = next.MarshalBinary()
			if err := rec.Put(id, v); err != nil {
				return nil, err
			}
			b.agg.add(b.tr.cfg.Labels.values(&next.Labels), &ev)
			b.changes[id] = &next
			n++
		}
		return b.Aggregates()
	})
	if err != nil {
		return 0, err
	}
	tr.Publish(b)
	return n, nil
}

// OpenTickets returns the size of the backlog.
func (tr *Tracker) OpenTickets() int {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	return len(tr.open)
}

// ApplyAll applies a page of tickets in order. Invalid tickets are handed
// to reject and skipped; the rest of the page still counts. Any other
// error (storage) aborts the page.
func (b *Batch) ApplyAll(rec Records, tickets []Ticket, reject func(t *Ticket, err *InvalidError)) error {
	for i := range tickets {
		_, err := b.Apply(rec, &tickets[i])
		var inv *InvalidError
		switch {
		case errors.As(err, &inv):
			reject(&tickets[i], inv)
		case err != nil:
			return err
		}
	}
	return nil
}
