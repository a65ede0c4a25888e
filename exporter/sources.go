package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
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
// adds one row here.
type vendor struct {
	kind    string
	enabled func(*Config) bool
	build   func(name string, d deps) (*source, error)
}

var vendors = []vendor{
	{kind: "zendesk", enabled: func(c *Config) bool { return c.ZendeskSubdomain != "" || c.ZendeskURL != "" }, build: buildZendesk},
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

// helpdeskTracker restores (or starts) the helpdesk engine of a source,
// recording its watermark on the very first start.
func helpdeskTracker(name string, d deps) (*helpdesk.Tracker, error) {
	src := d.store.Source(name)
	var watermark time.Time
	err := src.Update(func(tx *state.Tx) error {
		if b := tx.Get(state.KeyWatermark); b != nil {
			return watermark.UnmarshalText(b)
		}
		watermark = d.now().UTC().Truncate(time.Second)
		b, _ := watermark.MarshalText()
		return tx.Put(state.KeyWatermark, b)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: watermark: %w", name, err)
	}
	tr := helpdesk.NewTracker(helpdesk.Config{
		Labels:            d.cfg.Labels,
		MaxLabelValues:    d.cfg.MaxLabelValues,
		Watermark:         watermark,
		BusinessHours:     d.cfg.Calendar,
		FirstReplyTargets: d.cfg.Targets,
		SLABusinessHours:  d.cfg.SLAHours == "business",
	})
	err = src.View(func(tx *state.Tx) error {
		return tr.Load(tx.Get(state.KeyAggregates), tx.Records().ForEach)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: loading state: %w", name, err)
	}
	d.logger.Info("source state loaded", "src", name, "watermark", watermark, "open_tickets", tr.OpenTickets())
	return tr, nil
}

func buildZendesk(name string, d deps) (*source, error) {
	tr, err := helpdeskTracker(name, d)
	if err != nil {
		return nil, err
	}
	base := d.cfg.ZendeskURL
	if base == "" {
		base = "https://" + d.cfg.ZendeskSubdomain + ".zendesk.com"
	}
	c, err := zendesk.New(zendesk.Options{
		Name:                    name,
		BaseURL:                 base,
		Email:                   d.cfg.ZendeskEmail,
		APIToken:                d.cfg.ZendeskAPIToken,
		OAuthToken:              d.cfg.ZendeskOAuthToken,
		PageSize:                d.cfg.ZendeskPageSize,
		ExportRequestsPerMinute: d.cfg.ZendeskExportRate,
		Client:                  d.client,
		State:                   d.store.Source(name),
		Tracker:                 tr,
		Reject:                  func(id, reason string, err error) { d.reject(name, id, reason, err) },
		Logger:                  d.logger.With("src", name),
		Now:                     d.now,
	})
	if err != nil {
		return nil, fmt.Errorf("CX_ZENDESK: %w", err)
	}
	return &source{name: name, kind: "zendesk", sync: c.Sync, collector: tr.Collector(name, d.now)}, nil
}
