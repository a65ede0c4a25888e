package billing

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"
)

// Config is how a Tracker counts and labels one source's subscriptions.
type Config struct {
	// Watermark is when the exporter first synced this source: a
	// subscription first seen that was created before it is backfill.
	Watermark time.Time
	// MaxLabelValues caps the distinct plan label values (default 50);
	// further plans are exported as "other".
	MaxLabelValues int
}

// Records is the per-record state storage of one transaction: reads see
// the writes made earlier in the same transaction. The engine keys
// subscription states "sub/<id>" and customer states "cus/<id>".
type Records interface {
	Get(id string) []byte
	Put(id string, v []byte) error
}

// Record key prefixes.
const (
	subPrefix = "sub/"
	cusPrefix = "cus/"
)

// series is the live gauges of one plan and currency.
type series struct {
	Plan, Currency string
	Subs           [len(statusOrder)]int64 // per status, indexed like statusOrder
	MRRMinor       int64
}

// gauges are the live values, rebuilt from the stored states by Load and
// kept up to date by each batch.
type gauges struct {
	series    map[string]series // by plan and currency
	scheduled map[string]int64  // per currency: paying and cancelling at period end
	active    int64             // active customers
	// activeIn are the active customers per currency they pay in: a
	// customer paying in two currencies counts in each.
	activeIn map[string]int64
}

func newGauges() *gauges {
	return &gauges{series: map[string]series{}, scheduled: map[string]int64{}, activeIn: map[string]int64{}}
}

func (g *gauges) clone() *gauges {
	return &gauges{series: maps.Clone(g.series), scheduled: maps.Clone(g.scheduled), active: g.active, activeIn: maps.Clone(g.activeIn)}
}

// addCustomer adds (sign 1) or removes (sign -1) a customer's
// contribution to the active customers.
func (g *gauges) addCustomer(c *CustomerState, sign int64) {
	if c == nil || !c.Active() {
		return
	}
	g.active += sign
	for cur := range c.MRRMinor {
		g.activeIn[cur] += sign
	}
}

// addSub adds (sign 1) or removes (sign -1) a subscription's contribution.
// A subscription's series exists from then on, at zero if need be.
func (g *gauges) addSub(s *SubState, sign int64) {
	k := s.Plan + "\x00" + s.Currency
	e, ok := g.series[k]
	if !ok {
		e = series{Plan: s.Plan, Currency: s.Currency}
	}
	if i := s.Status.index(); i >= 0 {
		e.Subs[i] += sign
	}
	if s.Paying {
		e.MRRMinor += sign * s.MRRMinor
		if s.CancelAtPeriodEnd {
			g.scheduled[s.Currency] += sign * s.MRRMinor
		}
	}
	g.series[k] = e
}

// mrrByCurrency is the total MRR per currency, minor units.
func (g *gauges) mrrByCurrency() map[string]int64 {
	m := map[string]int64{}
	for _, e := range g.series {
		if e.MRRMinor != 0 {
			m[e.Currency] += e.MRRMinor
		}
	}
	return m
}

// Tracker is the stateful engine of one source: the published aggregates
// and gauges, and the batches that change them one page at a time.
type Tracker struct {
	cfg Config

	mu     sync.RWMutex
	agg    *Aggregates
	g      *gauges
	newest time.Time // UpdatedAt of the newest version applied
}

// NewTracker returns an empty tracker; Load restores a persisted one.
func NewTracker(cfg Config) *Tracker {
	if cfg.MaxLabelValues <= 0 {
		cfg.MaxLabelValues = 50
	}
	return &Tracker{cfg: cfg, agg: newAggregates(cfg.MaxLabelValues), g: newGauges()}
}

// Load restores the aggregates blob (nil: none yet) and rebuilds the
// gauges from every stored subscription and customer state that each
// yields. Records under other keys are skipped.
func (tr *Tracker) Load(aggregates []byte, each func(fn func(id string, state []byte) error) error) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	agg := tr.agg
	if len(aggregates) > 0 {
		agg = newAggregates(tr.cfg.MaxLabelValues)
		if err := json.Unmarshal(aggregates, agg); err != nil {
			return fmt.Errorf("billing aggregates: %w", err)
		}
		agg.sanitize()
		agg.Limits.Max = tr.cfg.MaxLabelValues
	}
	g := newGauges()
	err := each(func(id string, v []byte) error {
		switch {
		case strings.HasPrefix(id, subPrefix):
			var s SubState
			if err := s.UnmarshalBinary(v); err != nil {
				return fmt.Errorf("subscription %s: %w", strings.TrimPrefix(id, subPrefix), err)
			}
			g.addSub(&s, 1)
			agg.plan(s.Plan)
			agg.currency(s.Currency)
		case strings.HasPrefix(id, cusPrefix):
			var c CustomerState
			if err := c.UnmarshalBinary(v); err != nil {
				return fmt.Errorf("customer %s: %w", strings.TrimPrefix(id, cusPrefix), err)
			}
			g.addCustomer(&c, 1)
		}
		return nil
	})
	if err != nil {
		return err
	}
	tr.agg, tr.g = agg, g
	return nil
}

// ActiveCustomers returns the number of customers with a paying subscription.
func (tr *Tracker) ActiveCustomers() int64 {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	return tr.g.active
}

// Batch accumulates one page of changes. Nothing it does is visible until
// Publish, which the caller runs after the page's transaction committed.
// One batch at a time: a batch begun before another is published would
// overwrite it.
type Batch struct {
	tr  *Tracker
	agg *Aggregates
	g   *gauges
	now time.Time // Begin's now: versions dated in the future are rejected against it
	// newest is the UpdatedAt of the newest version the batch applied.
	newest time.Time
}

// Begin starts a batch on a copy of the published aggregates and gauges.
// now dates the batch's events for the 30-day ratios: when it falls on a
// new UTC day, the day's history entry starts with the published values.
func (tr *Tracker) Begin(now time.Time) *Batch {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	b := &Batch{tr: tr, agg: tr.agg.clone(), g: tr.g.clone(), now: now}
	b.agg.rollover(dayOf(now), b.g.active, b.g.mrrByCurrency())
	return b
}

// Apply folds one new subscription version into the batch, reading and
// writing its stored state and its customer's through rec. An invalid
// subscription returns an error wrapping ErrInvalid (an *InvalidError)
// and changes nothing; so does a stale one, with Events.Stale.
func (b *Batch) Apply(rec Records, s *Subscription) (Events, error) {
	var prevSub *SubState
	if v := rec.Get(subPrefix + s.ID); v != nil {
		prevSub = new(SubState)
		if err := prevSub.UnmarshalBinary(v); err != nil {
			return Events{}, fmt.Errorf("subscription %s: %w", s.ID, err)
		}
	}
	var prevCus *CustomerState
	cusKey := cusPrefix + s.Customer
	cusRaw := rec.Get(cusKey)
	if cusRaw != nil {
		prevCus = new(CustomerState)
		if err := prevCus.UnmarshalBinary(cusRaw); err != nil {
			return Events{}, fmt.Errorf("customer %s: %w", s.Customer, err)
		}
	}
	next, cus, ev, err := Apply(prevSub, prevCus, s, Rules{Watermark: b.tr.cfg.Watermark, Day: b.agg.today().Day, Now: b.now})
	if err != nil || ev.Stale {
		return ev, err
	}
	next.Plan = b.agg.Limits.admit(planLabel, next.Plan)
	if s.UpdatedAt.After(b.newest) {
		b.newest = s.UpdatedAt
	}
	v, err := next.MarshalBinary()
	if err != nil {
		return ev, err
	}
	if err := rec.Put(subPrefix+s.ID, v); err != nil {
		return ev, err
	}
	if cv, _ := cus.MarshalBinary(); string(cv) != string(cusRaw) && (cusRaw != nil || cus.EverPaid || cus.Active()) {
		if err := rec.Put(cusKey, cv); err != nil {
			return ev, err
		}
	}
	if prevSub != nil {
		b.g.addSub(prevSub, -1)
	}
	b.g.addSub(&next, 1)
	activated := b2i(cus.Active()) - b2i(prevCus.Active())
	b.g.addCustomer(prevCus, -1)
	b.g.addCustomer(&cus, 1)
	if ev.Backfill {
		b.agg.backfill(&next, activated > 0)
	}
	// Every tracked plan and currency has its counters, at zero if need
	// be, so that rate() sees their first increment.
	b.agg.currency(next.Currency)
	b.agg.count(next.Plan, &ev)
	return ev, nil
}

// ApplyAll applies a page of subscriptions in order. Invalid ones are
// handed to reject and skipped; the rest of the page still counts. Any
// other error (storage) aborts the page.
func (b *Batch) ApplyAll(rec Records, subs []Subscription, reject func(s *Subscription, err *InvalidError)) error {
	for i := range subs {
		_, err := b.Apply(rec, &subs[i])
		var inv *InvalidError
		switch {
		case errors.As(err, &inv):
			reject(&subs[i], inv)
		case err != nil:
			return err
		}
	}
	return nil
}

// Aggregates encodes the batch's aggregates for the page's transaction.
func (b *Batch) Aggregates() ([]byte, error) { return json.Marshal(b.agg) }

// Publish makes a committed batch visible to scrapes.
func (tr *Tracker) Publish(b *Batch) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.agg, tr.g = b.agg, b.g
	if b.newest.After(tr.newest) {
		tr.newest = b.newest
	}
}

// NewestChange is the upstream time of the newest subscription version
// applied since the process started; zero before any.
func (tr *Tracker) NewestChange() time.Time {
	tr.mu.RLock()
	defer tr.mu.RUnlock()
	return tr.newest
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
