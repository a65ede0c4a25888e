// Package metricstest reads a collector's samples in tests.
package metricstest

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// Samples lints c, gathers it through a pedantic registry and returns its
// gauge and counter samples as name{k="v",...} (labels in name order,
// without source) → value.
func Samples(t testing.TB, c prometheus.Collector) map[string]float64 {
	t.Helper()
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	out := map[string]float64{}
	for _, mf := range gather(t, c) {
		for _, m := range mf.Metric {
			var ls []string
			for _, l := range m.Label {
				if l.GetName() != "source" {
					ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
			}
			k := mf.GetName() + "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.Gauge != nil:
				out[k] = m.Gauge.GetValue()
			case m.Counter != nil:
				out[k] = m.Counter.GetValue()
			}
		}
	}
	return out
}

// Expect reports every series of want that got lacks or holds another
// value (beyond 1e-9).
func Expect(t testing.TB, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s missing", k)
		} else if math.Abs(g-v) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
}

// Totals gathers c and sums each family's samples over their labels,
// keeping rating apart (name{good}); business-hours histograms are left
// out and histograms give name_count and name_sum.
func Totals(t testing.TB, c prometheus.Collector) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, mf := range gather(t, c) {
	metrics:
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				switch {
				case l.GetName() == "rating":
					name += "{" + l.GetValue() + "}"
				case l.GetName() == "hours" && l.GetValue() == "business":
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				out[name] += m.Counter.GetValue()
			case m.Gauge != nil:
				out[name] += m.Gauge.GetValue()
			case m.Histogram != nil:
				out[name+"_count"] += float64(m.Histogram.GetSampleCount())
				out[name+"_sum"] += m.Histogram.GetSampleSum()
			}
		}
	}
	return out
}

// gather is c's families through a pedantic registry.
func gather(t testing.TB, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}
