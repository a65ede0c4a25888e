package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/chargebee"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/stripe"
	"github.com/cx-exporter/cx-exporter/collectors/zendesk"
	"github.com/cx-exporter/cx-exporter/exporter/state"
	"github.com/cx-exporter/cx-exporter/exporter/upstream"
)

// source is one configured collector as the scheduler sees it.
type source struct {
	name, kind string
	sync       func(ctx context.Context) error
	collector  prometheus.Collector
}

// deps are what every vendor constructor gets from the exporter.
type deps struct {
	cfg    *Config
	logger *slog.Logger
	store  *state.Store
	client upstream.Options
	reject func(source, id, reason string, err error)
	now    func() time.Time
}

// vendor wires one vendor package to its configuration. Adding a vendor
// adds one row here, or registers one from its own exporter/sources_<kind>.go
// with an init function.
type vendor struct {
	kind    string
	enabled func(*Config) bool
	build   func(name string, d deps) (*source, error)
	// validate, when set, checks the vendor's variables at start-up;
	// bad names the variable (without the CX_ prefix).
	validate func(c *Config, bad func(name, format string, args ...any))
}

var vendors = []vendor{
	{kind: "zendesk", enabled: func(c *Config) bool { return c.ZendeskSubdomain != "" || c.ZendeskURL != "" }, build: buildZendesk},
	{kind: "stripe", enabled: func(c *Config) bool { return c.StripeAPIKey != "" }, build: buildStripe},
	{kind: "chargebee", enabled: func(c *Config) bool { return c.ChargebeeSite != "" || c.ChargebeeURL != "" }, build: buildChargebee},
}

func enabledVendors(c *Config) []vendor {
	var out []vendor
	for _, v := range vendors {
		if v.enabled(c) {
			out = append(out, v)
		}
	}
	return out
}

// syncer is a vendor's collector as the scheduler runs it.
type syncer interface {
	Sync(ctx context.Context) error
}

// tracker is a source's engine, exposed at scrapes by its collector.
type tracker[C prometheus.Collector] interface {
	Collector(source string, now func() time.Time) C
}

// wiring is what the exporter hands every vendor's collector: the fields
// of the same names in each vendor package's Options.
type wiring struct {
	Client upstream.Options
	State  *state.Source
	Reject func(id, reason string, err error)
	Logger *slog.Logger
	Now    func() time.Time
}

// buildSource restores the tracker of source name, then creates the
// vendor's collector with it and the exporter's wiring; a collector's
// error is prefixed with the vendor's variables (CX_<KIND>).
func buildSource[C prometheus.Collector, T tracker[C]](name, kind string, d deps,
	restore func(name string, d deps) (T, error),
	newCollector func(tr T, w wiring) (syncer, error),
) (*source, error) {
	tr, err := restore(name, d)
	if err != nil {
		return nil, err
	}
	c, err := newCollector(tr, wiring{
		Client: d.client,
		State:  d.store.Source(name),
		Reject: func(id, reason string, err error) { d.reject(name, id, reason, err) },
		Logger: d.logger.With("src", name),
		Now:    d.now,
	})
	if err != nil {
		return nil, fmt.Errorf("CX_%s: %w", strings.ToUpper(kind), err)
	}
	sync := c.Sync
	if sw, ok := any(tr).(sweeper); ok {
		sync = sweepAfter(c.Sync, sw, d.store.Source(name), d.now)
	}
	return &source{name: name, kind: kind, sync: sync, collector: tr.Collector(name, d.now)}, nil
}

// sweeper is an engine with time-driven events (the helpdesk SLAs).
type sweeper interface {
	Sweep(now time.Time, commit func(apply func(rec helpdesk.Records) ([]byte, error)) error) (int, error)
}

// sweepAfter runs the engine's sweep after each successful sync, in one
// transaction that stores the records it changed with the aggregates. Only
// after a success: while upstream is unreachable nobody knows whether a
// waiting ticket was answered in time.
func sweepAfter(sync func(context.Context) error, sw sweeper, st *state.Source, now func() time.Time) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := sync(ctx); err != nil {
			return err
		}
		_, err := sw.Sweep(now(), func(apply func(rec helpdesk.Records) ([]byte, error)) error {
			return st.Update(func(tx *state.Tx) error {
				agg, err := apply(tx.Records())
				if err != nil {
					return err
				}
				return tx.Put(state.KeyAggregates, agg)
			})
		})
		return err
	}
}

// watermark reads a source's watermark, recording now on the very first
// start.
func watermark(name string, d deps) (time.Time, error) {
	var wm time.Time
	err := d.store.Source(name).Update(func(tx *state.Tx) error {
		if b := tx.Get(state.KeyWatermark); b != nil {
			return wm.UnmarshalText(b)
		}
		wm = d.now().UTC().Truncate(time.Second)
		b, _ := wm.MarshalText()
		return tx.Put(state.KeyWatermark, b)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: watermark: %w", name, err)
	}
	return wm, nil
}

// loadState hands an engine its persisted aggregates and record states.
func loadState(name string, d deps, load func(aggregates []byte, each func(fn func(id string, state []byte) error) error) error) error {
	err := d.store.Source(name).View(func(tx *state.Tx) error {
		return load(tx.Get(state.KeyAggregates), tx.Records().ForEach)
	})
	if err != nil {
		return fmt.Errorf("%s: loading state: %w", name, err)
	}
	return nil
}

// billingTracker restores (or starts) the billing engine of a source,
// recording its watermark on the very first start.
func billingTracker(name string, d deps) (*billing.Tracker, error) {
	wm, err := watermark(name, d)
	if err != nil {
		return nil, err
	}
	tr := billing.NewTracker(billing.Config{Watermark: wm, MaxLabelValues: d.cfg.MaxLabelValues})
	if err := loadState(name, d, tr.Load); err != nil {
		return nil, err
	}
	d.logger.Info("source state loaded", "src", name, "watermark", wm, "active_customers", tr.ActiveCustomers())
	return tr, nil
}

func buildStripe(name string, d deps) (*source, error) {
	return buildSource(name, "stripe", d, billingTracker, func(tr *billing.Tracker, w wiring) (syncer, error) {
		return stripe.New(stripe.Options{
			Name:     name,
			BaseURL:  d.cfg.StripeURL,
			APIKey:   d.cfg.StripeAPIKey,
			PageSize: d.cfg.StripePageSize,
			Client:   w.Client,
			State:    w.State,
			Tracker:  tr,
			Reject:   w.Reject,
			Logger:   w.Logger,
			Now:      w.Now,
		})
	})
}

func buildChargebee(name string, d deps) (*source, error) {
	return buildSource(name, "chargebee", d, billingTracker, func(tr *billing.Tracker, w wiring) (syncer, error) {
		return chargebee.New(chargebee.Options{
			Name:    name,
			Site:    d.cfg.ChargebeeSite,
			BaseURL: d.cfg.ChargebeeURL,
			APIKey:  d.cfg.ChargebeeAPIKey,
			Client:  w.Client,
			State:   w.State,
			Tracker: tr,
			Reject:  w.Reject,
			Logger:  w.Logger,
			Now:     w.Now,
		})
	})
}

// helpdeskTracker restores (or starts) the helpdesk engine of a source,
// recording its watermark on the very first start.
func helpdeskTracker(name string, d deps) (*helpdesk.Tracker, error) {
	wm, err := watermark(name, d)
	if err != nil {
		return nil, err
	}
	tr := helpdesk.NewTracker(helpdesk.Config{
		Labels:            d.cfg.Labels,
		MaxLabelValues:    d.cfg.MaxLabelValues,
		Watermark:         wm,
		BusinessHours:     d.cfg.Calendar,
		FirstReplyTargets: d.cfg.Targets,
		ResolutionTargets: d.cfg.ResTargets,
		SLABusinessHours:  d.cfg.SLAHours == "business",
	})
	if err := loadState(name, d, tr.Load); err != nil {
		return nil, err
	}
	d.logger.Info("source state loaded", "src", name, "watermark", wm, "open_tickets", tr.OpenTickets())
	return tr, nil
}

func buildZendesk(name string, d deps) (*source, error) {
	base := d.cfg.ZendeskURL
	if base == "" {
		base = "https://" + d.cfg.ZendeskSubdomain + ".zendesk.com"
	}
	return buildSource(name, "zendesk", d, helpdeskTracker, func(tr *helpdesk.Tracker, w wiring) (syncer, error) {
		return zendesk.New(zendesk.Options{
			Name:                    name,
			BaseURL:                 base,
			Email:                   d.cfg.ZendeskEmail,
			APIToken:                d.cfg.ZendeskAPIToken,
			OAuthToken:              d.cfg.ZendeskOAuthToken,
			PageSize:                d.cfg.ZendeskPageSize,
			ExportRequestsPerMinute: d.cfg.ZendeskExportRate,
			Client:                  w.Client,
			State:                   w.State,
			Tracker:                 tr,
			Reject:                  w.Reject,
			Logger:                  w.Logger,
			Now:                     w.Now,
		})
	})
}
