package source

import (
	"fmt"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/internal/state"
)

// CommitTickets commits one page of canonical tickets through tr: Commit
// with the helpdesk engine. A ticket the engine finds invalid is rejected
// and the rest of the page counts.
func (d Deps) CommitTickets(tr *helpdesk.Tracker, tickets []helpdesk.Ticket, p Page) error {
	b := tr.Begin()
	return d.Commit(p, b, func(tx *state.Tx) error {
		return b.ApplyAll(tx.Records(), tickets, func(t *helpdesk.Ticket, e *helpdesk.InvalidError) {
			d.Reject(t.ID, e.Reason, e)
		})
	}, func() { tr.Publish(b) })
}

// CommitSubscriptions commits one page of canonical subscriptions through
// tr: Commit with the billing engine. extra, when set, stores the
// vendor's own lookups (coupons, prices) in the same transaction.
func (d Deps) CommitSubscriptions(tr *billing.Tracker, subs []billing.Subscription, p Page, extra func(rec state.Records) error) error {
	b := tr.Begin(d.Now())
	return d.Commit(p, b, func(tx *state.Tx) error {
		if extra != nil {
			if err := extra(tx.Records()); err != nil {
				return err
			}
		}
		return b.ApplyAll(tx.Records(), subs, func(s *billing.Subscription, e *billing.InvalidError) {
			d.Reject(s.ID, e.Reason, e)
		})
	}, func() { tr.Publish(b) })
}

// Env is what the process hands a vendor's Build: the source's Deps, and
// the engines' settings from the process's CX_* variables (their
// Watermark is set by HelpdeskTracker and BillingTracker).
type Env struct {
	Deps
	Helpdesk helpdesk.Config
	Billing  billing.Config
}

// Watermark reads the source's watermark, recording now on its very
// first start.
func (e Env) Watermark() (time.Time, error) {
	var wm time.Time
	err := e.State.Update(func(tx *state.Tx) error {
		if b := tx.Get(state.KeyWatermark); b != nil {
			return wm.UnmarshalText(b)
		}
		wm = e.Now().UTC().Truncate(time.Second)
		b, _ := wm.MarshalText()
		return tx.Put(state.KeyWatermark, b)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: watermark: %w", e.Name, err)
	}
	return wm, nil
}

// loader is an engine's Tracker.Load.
type loader func(aggregates []byte, each func(fn func(id string, state []byte) error) error) error

// load hands an engine its persisted aggregates and record states. A
// stored record the engine cannot decode is rejected (malformed_record,
// logged) and deleted, so that the record's next upstream version starts
// afresh as a record first seen; it never fails the source.
func (e Env) load(load loader) error {
	var bad []string
	err := e.State.View(func(tx *state.Tx) error {
		return load(tx.Get(state.KeyAggregates), func(fn func(id string, v []byte) error) error {
			return tx.Records().ForEach(func(id string, v []byte) error {
				if err := fn(id, v); err != nil {
					e.Reject(id, "malformed_record", fmt.Errorf("stored state: %w", err))
					bad = append(bad, id)
				}
				return nil
			})
		})
	})
	if err != nil {
		return fmt.Errorf("%s: loading state: %w", e.Name, err)
	}
	if len(bad) == 0 {
		return nil
	}
	e.Logger.Warn("undecodable stored records deleted; their next versions count as first seen", "records", len(bad))
	err = e.State.Update(func(tx *state.Tx) error {
		for _, id := range bad {
			if err := tx.Records().Delete(id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: deleting undecodable records: %w", e.Name, err)
	}
	return nil
}

// HelpdeskTracker restores (or starts) the source's helpdesk engine.
func (e Env) HelpdeskTracker() (*helpdesk.Tracker, error) {
	wm, err := e.Watermark()
	if err != nil {
		return nil, err
	}
	cfg := e.Helpdesk
	cfg.Watermark = wm
	cfg.Now = e.Now
	tr := helpdesk.NewTracker(cfg)
	if err := e.load(tr.Load); err != nil {
		return nil, err
	}
	e.Logger.Info("source state loaded", "watermark", wm, "open_tickets", tr.OpenTickets())
	return tr, nil
}

// BillingTracker restores (or starts) the source's billing engine.
func (e Env) BillingTracker() (*billing.Tracker, error) {
	wm, err := e.Watermark()
	if err != nil {
		return nil, err
	}
	cfg := e.Billing
	cfg.Watermark = wm
	tr := billing.NewTracker(cfg)
	if err := e.load(tr.Load); err != nil {
		return nil, err
	}
	e.Logger.Info("source state loaded", "watermark", wm, "active_customers", tr.ActiveCustomers())
	return tr, nil
}

// HelpdeskSource builds a helpdesk vendor's Source: it restores the
// engine and hands it to newSyncer.
func (e Env) HelpdeskSource(newSyncer func(tr *helpdesk.Tracker) (Syncer, error)) (Source, error) {
	tr, err := e.HelpdeskTracker()
	if err != nil {
		return nil, err
	}
	s, err := newSyncer(tr)
	if err != nil {
		return nil, err
	}
	return New(s, tr.Collector(e.Name, e.Now)), nil
}

// BillingSource builds a billing vendor's Source likewise.
func (e Env) BillingSource(newSyncer func(tr *billing.Tracker) (Syncer, error)) (Source, error) {
	tr, err := e.BillingTracker()
	if err != nil {
		return nil, err
	}
	s, err := newSyncer(tr)
	if err != nil {
		return nil, err
	}
	return New(s, tr.Collector(e.Name, e.Now)), nil
}
