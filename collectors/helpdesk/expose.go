package helpdesk

import (
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// ValidLabelValues returns vals with every invalid UTF-8 sequence replaced
// by U+FFFD (a value read back from a damaged state file, say), so that one
// bad value cannot fail a scrape. vals itself is returned when all are valid.
func ValidLabelValues(vals []string) []string {
	for i, v := range vals {
		if !utf8.ValidString(v) {
			out := append([]string(nil), vals...)
			for j := i; j < len(out); j++ {
				out[j] = strings.ToValidUTF8(out[j], "\uFFFD")
			}
			return out
		}
	}
	return vals
}

// ConstMetric is prometheus.MustNewConstMetric without the panic: label
// values are made valid UTF-8, and any other error yields an invalid
// metric, which the registry reports and skips while the rest of the
// scrape is served.
func ConstMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, ValidLabelValues(labels)...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}
