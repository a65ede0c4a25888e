package billing

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// constMetric is prometheus.MustNewConstMetric without the panic: label
// values are made valid UTF-8 (a plan read back from a damaged state file,
// say), and any other error yields an invalid metric, which the registry
// reports and skips while the rest of the scrape is served.
func constMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	for i, l := range labels {
		labels[i] = strings.ToValidUTF8(l, "\uFFFD")
	}
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}
