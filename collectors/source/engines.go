package source

import (
	"context"
	"fmt"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/prometheus/client_golang/prometheus"
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
	}, func() {
		tr.Publish(b)
		for i := range tickets {
			d.NoteApplied(tickets[i].ID)
		}
	})
}

// NoteApplied tells Recent, when set, of records a commit applied (for
// SyncFetch); CommitTickets and CommitSubscriptions do it themselves.
func (d Deps) NoteApplied(ids ...string) {
	if d.Recent != nil {
		d.Recent.Add(ids...)
	}
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
	}, func() {
		tr.Publish(b)
		for i := range subs {
			d.NoteApplied(subs[i].ID)
		}
	})
}

// Env is what the process hands a vendor's Build: the source's Deps, and
// the engines' settings from the process's CX_* variables (their
// Watermark is set by HelpdeskTracker and BillingTracker).
type Env struct {
	Deps
	Helpdesk helpdesk.Config
	Billing  billing.Config
	// AgentLabel is CX_AGENT_LABEL: AgentLabelName or AgentLabelID.
	AgentLabel string
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

// engine is what the process needs of an engine's tracker.
type engine interface {
	Load(aggregates []byte, each func(fn func(id string, state []byte) error) error) error
}

// restore starts an engine with the source's watermark and hands it the
// persisted aggregates and record states; summary names what the log
// line of a restored source shows. A stored record the engine cannot
// decode is rejected (malformed_record, logged) and deleted, so that the
// record's next upstream version starts afresh as a record first seen; it
// never fails the source.
func restore[T engine](e Env, start func(wm time.Time) T, summary func(T) (string, any)) (T, error) {
	var zero T
	wm, err := e.Watermark()
	if err != nil {
		return zero, err
	}
	tr := start(wm)
	var bad []string
	err = e.State.View(func(tx *state.Tx) error {
		return tr.Load(tx.Get(state.KeyAggregates), func(fn func(id string, v []byte) error) error {
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
		return zero, fmt.Errorf("%s: loading state: %w", e.Name, err)
	}
	if len(bad) > 0 {
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
			return zero, fmt.Errorf("%s: deleting undecodable records: %w", e.Name, err)
		}
	}
	k, v := summary(tr)
	e.Logger.Info("source state loaded", "watermark", wm, k, v)
	return tr, nil
}

// HelpdeskTracker restores (or starts) the source's helpdesk engine.
func (e Env) HelpdeskTracker() (*helpdesk.Tracker, error) {
	return restore(e, func(wm time.Time) *helpdesk.Tracker {
		cfg := e.Helpdesk
		cfg.Watermark = wm
		cfg.Now = e.Now
		return helpdesk.NewTracker(cfg)
	}, func(tr *helpdesk.Tracker) (string, any) { return "open_tickets", tr.OpenTickets() })
}

// BillingTracker restores (or starts) the source's billing engine.
func (e Env) BillingTracker() (*billing.Tracker, error) {
	return restore(e, func(wm time.Time) *billing.Tracker {
		cfg := e.Billing
		cfg.Watermark = wm
		return billing.NewTracker(cfg)
	}, func(tr *billing.Tracker) (string, any) { return "active_customers", tr.ActiveCustomers() })
}

// pullSource builds a pull vendor's Source from its restored engine.
func pullSource[T interface{ NewestChange() time.Time }](tr T, err error, newSyncer func(T) (Syncer, error), collector func(T) prometheus.Collector) (Source, error) {
	if err != nil {
		return nil, err
	}
	s, err := newSyncer(tr)
	if err != nil {
		return nil, err
	}
	return &pull{Syncer: s, c: collector(tr), newest: tr.NewestChange}, nil
}

// HelpdeskSource builds a helpdesk vendor's Source: it restores the
// engine and hands it to newSyncer.
// After each successful sync it runs the engine's time-driven sweep (the
// SLA targets that passed while nothing changed upstream).
func (e Env) HelpdeskSource(newSyncer func(tr *helpdesk.Tracker) (Syncer, error)) (Source, error) {
	tr, err := e.HelpdeskTracker()
	swept := func(tr *helpdesk.Tracker) (Syncer, error) {
		s, err := newSyncer(tr)
		if err != nil {
			return nil, err
		}
		return sweepAfter{Syncer: s, tr: tr, d: e.Deps}, nil
	}
	return pullSource(tr, err, swept, func(tr *helpdesk.Tracker) prometheus.Collector { return tr.Collector(e.Name, e.Now) })
}

// sweepAfter runs the helpdesk engine's sweep after each successful sync,
// in one transaction that stores the records it changed with the
// aggregates. Only after a success: while upstream is unreachable nobody
// knows whether a waiting ticket was answered in time.
type sweepAfter struct {
	Syncer
	tr *helpdesk.Tracker
	d  Deps
}

func (s sweepAfter) Sync(ctx context.Context) error {
	if err := s.Syncer.Sync(ctx); err != nil {
		return err
	}
	_, err := s.tr.Sweep(s.d.Now(), func(apply func(rec helpdesk.Records) ([]byte, error)) error {
		return s.d.State.Update(func(tx *state.Tx) error {
			agg, err := apply(tx.Records())
			if err != nil {
				return err
			}
			return tx.Put(state.KeyAggregates, agg)
		})
	})
	if err != nil {
		return fmt.Errorf("%s: SLA sweep: %w", s.d.Name, err)
	}
	return nil
}

// BillingSource builds a billing vendor's Source likewise.
func (e Env) BillingSource(newSyncer func(tr *billing.Tracker) (Syncer, error)) (Source, error) {
	tr, err := e.BillingTracker()
	return pullSource(tr, err, newSyncer, func(tr *billing.Tracker) prometheus.Collector { return tr.Collector(e.Name, e.Now) })
}
