// Package sourcetest runs a vendor's History through the live engines in
// tests, the way `cx-exporter backfill` does, and reads the metric values
// at chosen past instants.
package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// Samples are the values of one instant, by series: name{k="v",...}
// with the labels sorted (histograms as name_count and name_sum).
type Samples map[string]float64

// Sum adds the values of the series of name whose labels include kv
// (pairs of label name and value).
func (s Samples) Sum(name string, kv ...string) float64 {
	var n float64
	for k, v := range s {
		if !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if !strings.Contains(k, kv[i]+"=\""+kv[i+1]+"\"") {
				ok = false
			}
		}
		if ok {
			n += v
		}
	}
	return n
}

// Has reports whether a series of name exists.
func (s Samples) Has(name string) bool {
	for k := range s {
		if strings.HasPrefix(k, name+"{") {
			return true
		}
	}
	return false
}

type mem map[string][]byte

func (m mem) Get(id string) []byte { return m[id] }
func (m mem) Put(id string, v []byte) error {
	m[id] = v
	return nil
}

// engine is a Replayer feeding the engines, reading them at instants.
type engine struct {
	role    string
	hd      *helpdesk.Tracker
	hdB     *helpdesk.Batch
	bl      *billing.Tracker
	blB     *billing.Batch
	rec     mem
	reg     *prometheus.Registry
	clock   time.Time
	at      []time.Time // instants still to read, ascending
	out     []Samples
	last    time.Time
	Changes int
}

func (e *engine) Advance(at time.Time) error {
	if at.Before(e.last) {
		return fmt.Errorf("advance to %s after %s", at, e.last)
	}
	e.last = at
	return e.readUntil(at)
}

// readUntil reads the instants before t.
func (e *engine) readUntil(t time.Time) error {
	for len(e.at) > 0 && e.at[0].Before(t) {
		now := e.at[0]
		e.at = e.at[1:]
		if e.hdB != nil {
			e.hd.Publish(e.hdB)
			e.hdB = nil
		}
		if e.blB != nil {
			e.bl.Publish(e.blB)
			e.blB = nil
		}
		e.clock = now
		if e.role == source.RoleBilling {
			e.bl.Publish(e.bl.Begin(now))
		} else if _, err := e.hd.Sweep(now, func(apply func(rec helpdesk.Records) ([]byte, error)) error {
			_, err := apply(e.rec)
			return err
		}); err != nil {
			return err
		}
		mfs, err := e.reg.Gather()
		if err != nil {
			return err
		}
		e.out = append(e.out, flatten(mfs))
	}
	return nil
}

func (e *engine) Ticket(t *helpdesk.Ticket) error {
	e.Changes++
	if e.hdB == nil {
		e.hdB = e.hd.Begin()
	}
	_, err := e.hdB.Apply(e.rec, t)
	var inv *helpdesk.InvalidError
	if errors.As(err, &inv) {
		return nil
	}
	return err
}

func (e *engine) Subscription(s *billing.Subscription) error {
	e.Changes++
	if e.blB == nil {
		e.blB = e.bl.Begin(e.last)
	}
	_, err := e.blB.Apply(e.rec, s)
	var inv *billing.InvalidError
	if errors.As(err, &inv) {
		return nil
	}
	return err
}

// Replay runs h over [from, to) through the role's engine (with
// CX_TICKET_LABELS' default labels) and returns the samples at each of
// at (ascending, in [from, to)), as `cx-exporter backfill` renders them.
func Replay(ctx context.Context, h source.History, role string, from, to time.Time, at ...time.Time) ([]Samples, error) {
	if !slices.IsSortedFunc(at, func(a, b time.Time) int { return a.Compare(b) }) {
		return nil, errors.New("instants out of order")
	}
	ls, err := helpdesk.ParseLabelSet("priority,channel")
	if err != nil {
		return nil, err
	}
	e := &engine{role: role, rec: mem{}, reg: prometheus.NewRegistry(), at: at, last: from}
	e.hd = helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: from})
	e.bl = billing.NewTracker(billing.Config{Watermark: from})
	now := func() time.Time { return e.clock }
	if role == source.RoleBilling {
		e.reg.MustRegister(e.bl.Collector("test", now))
	} else {
		e.reg.MustRegister(e.hd.Collector("test", now))
	}
	if err := h.Replay(ctx, from, to, nil, e); err != nil {
		return nil, err
	}
	if err := e.readUntil(to); err != nil {
		return nil, err
	}
	return e.out, nil
}

func flatten(mfs []*dto.MetricFamily) Samples {
	out := Samples{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"=\""+l.GetValue()+"\"")
			}
			sort.Strings(ls)
			key := "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.Counter != nil:
				out[mf.GetName()+key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[mf.GetName()+key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[mf.GetName()+"_count"+key] = float64(m.GetHistogram().GetSampleCount())
				out[mf.GetName()+"_sum"+key] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}
