package exporter

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// freshnessDesc is cx_exporter_newest_change_age_seconds.
var freshnessDesc = prometheus.NewDesc("cx_exporter_newest_change_age_seconds",
	"Seconds since the upstream change time of the newest record version the source applied (by poll or webhook) since the exporter started; absent before the first. Grows while nothing changes upstream; right after a change it is the change-to-metric delay.",
	[]string{"source"}, nil)

// freshness renders each source's newest change age at scrape time.
type freshness struct{ e *Exporter }

func (f freshness) Describe(ch chan<- *prometheus.Desc) { ch <- freshnessDesc }

func (f freshness) Collect(ch chan<- prometheus.Metric) {
	now := f.e.now()
	for _, s := range f.e.sources {
		fr, ok := s.Source.(source.Fresh)
		if !ok {
			continue
		}
		t := fr.NewestChange()
		if t.IsZero() {
			continue
		}
		ch <- prometheus.MustNewConstMetric(freshnessDesc, prometheus.GaugeValue, max(now.Sub(t).Seconds(), 0), s.name)
	}
}
