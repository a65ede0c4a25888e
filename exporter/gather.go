package exporter

import (
	"compress/gzip"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gatherer is what /metrics serves: the registries (the exporter's own
// metrics, and the support cost from the configuration) and every source,
// each gathered on its own (see sourcePart), merged by family name and
// sorted by it.
//
// It is not a prometheus.Gatherers because that re-validates, hashes and
// re-sorts every series the parts already checked: the helpdesk engine's
// series are consistent by construction (fixed families, one series per
// label combination, a source label unique to the source), and at 10,000
// series that check alone costs about as much as the render.
type gatherer struct {
	regs    []prometheus.Gatherer
	sources []*sourcePart
}

// sourcePart is one source's part of a scrape: its collector's own
// Gather, or a registry holding its (recovering) collector.
type sourcePart struct {
	g      prometheus.Gatherer
	src    string
	st     *sourceStatus
	logger *slog.Logger
}

// Gather implements prometheus.Gatherer. A family several parts render
// (helpdesk_satisfaction_ratings_total from a helpdesk and a survey
// source) is one family holding all their series; a family rendered with
// two different types keeps the first and reports the second.
func (g *gatherer) Gather() ([]*dto.MetricFamily, error) {
	var errs prometheus.MultiError
	var out []*dto.MetricFamily
	byName := map[string]int{}
	add := func(mfs []*dto.MetricFamily) {
		for _, mf := range mfs {
			i, ok := byName[mf.GetName()]
			if !ok {
				byName[mf.GetName()] = len(out)
				out = append(out, mf)
				continue
			}
			have := out[i]
			if have.GetType() != mf.GetType() {
				errs = append(errs, fmt.Errorf("metric family %s rendered as both %s and %s; the %s series are left out", mf.GetName(), have.GetType(), mf.GetType(), mf.GetType()))
				continue
			}
			// A new family: the parts' own are left as they rendered them.
			out[i] = &dto.MetricFamily{Name: have.Name, Help: have.Help, Type: have.Type, Unit: have.Unit,
				Metric: slices.Concat(have.Metric, mf.Metric)}
		}
	}
	for _, r := range g.regs {
		mfs, err := r.Gather()
		errs.Append(err)
		add(mfs)
	}
	for _, d := range g.sources {
		mfs, err := d.gather()
		errs.Append(err)
		add(mfs)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, errs.MaybeUnwrap()
}

// gather renders the source's families. While its first backfill is in
// progress the gauge families (backlog, subscriptions, MRR…) are withheld:
// they would climb page by page and be recorded as a ramp; counters and
// histograms, which count only events after the watermark, are rendered as
// usual. A panic is logged and leaves out the source's families only.
func (d *sourcePart) gather() (mfs []*dto.MetricFamily, err error) {
	defer func() {
		if r := recover(); r != nil {
			d.logger.Error("collector panicked; the source's series are left out of this scrape", "src", d.src, "panic", r)
			mfs, err = nil, nil
		}
	}()
	backfilling := d.st.backfilling.Load()
	mfs, err = d.g.Gather()
	if backfilling {
		mfs = slices.DeleteFunc(slices.Clone(mfs), func(mf *dto.MetricFamily) bool { return mf.GetType() == dto.MetricType_GAUGE })
	}
	return mfs, err
}

// gzipped compresses /metrics for the clients that ask (Prometheus always
// does) with klauspost/compress's gzip at its fastest level instead of
// promhttp's standard-library gzip at the default level: at 10,000 series
// that took more CPU than rendering the page (about 9 ms of a 15 ms
// scrape; now under 1 ms), for a response about as small (45 KB of 1.26
// MB). zstd is not offered: Prometheus scrapes with gzip, and a zstd
// encoder holds megabytes per concurrent scrape.
func gzipped(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.CompressionLevel(gzip.BestSpeed), gzhttp.EnableZstd(false))
	if err != nil {
		panic(err) // constant options
	}
	return wrap(h)
}
