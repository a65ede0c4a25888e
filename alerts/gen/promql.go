package gen

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The histogram helpers read a histogram whichever way Prometheus stored
// it: the classic series (_bucket, _sum, _count) when it scraped them, the
// native histogram when it did not (Prometheus 3 keeps only the native form
// of a histogram that has one on a protobuf scrape, unless
// always_scrape_classic_histograms is set), and with both the classic one
// first (`or` adds the native result only for label sets the classic one
// lacks). Every rule and panel that reads a histogram goes through them.

// histogramQuantile is the q-quantile per by over window.
func histogramQuantile(q, metric, by, window string) string {
	return fmt.Sprintf("histogram_quantile(%[1]s, sum by (%[3]s, le) (rate(%[2]s_bucket[%[4]s])))\nor\nhistogram_quantile(%[1]s, sum by (%[3]s) (rate(%[2]s[%[4]s])))",
		q, metric, by, window)
}

// histogramSum is the per-second rate of the observations' sum per by.
func histogramSum(metric, by, window string) string {
	return fmt.Sprintf("(\n    sum by (%[2]s) (rate(%[1]s_sum[%[3]s]))\n  or\n    sum by (%[2]s) (histogram_sum(rate(%[1]s[%[3]s])))\n)", metric, by, window)
}

// histogramCount is the per-second rate of observations per by.
func histogramCount(metric, by, window string) string {
	return fmt.Sprintf("(\n    sum by (%[2]s) (rate(%[1]s_count[%[3]s]))\n  or\n    sum by (%[2]s) (histogram_count(rate(%[1]s[%[3]s])))\n)", metric, by, window)
}

// histogramFractionBelow is the share of observations at or below upper
// per by: the le=upper bucket over the count, or histogram_fraction from
// below zero (the observations are never negative, so the zero bucket
// counts whole) to upper, a bucket boundary of every exponential schema
// when upper is a power of two.
func histogramFractionBelow(metric string, upper float64, by, window string) string {
	return fmt.Sprintf("(\n    sum by (%[2]s) (rate(%[1]s_bucket{%[4]s}[%[3]s]))\n  /\n    sum by (%[2]s) (rate(%[1]s_count[%[3]s]))\n)\nor\nhistogram_fraction(-1, %[5]s, sum by (%[2]s) (rate(%[1]s[%[3]s])))",
		metric, by, window, leMatcher(upper), num(upper))
}

var (
	// exporterMetricRE matches a selector of one of the exporter's metrics
	// (not a recording rule's output, whose name has colons): the character
	// before it, its name and its braces.
	exporterMetricRE = regexp.MustCompile(`(^|[^:a-zA-Z0-9_"])((?:helpdesk|billing|cx_exporter)_[a-zA-Z0-9_]*)(\{[^{}]*\})?`)
	// groupingRE matches the label lists of by (…) and on (…).
	groupingRE = regexp.MustCompile(`\b(by|on) \(([^()]*)\)`)
	// bareAggregationRE matches an aggregation without by (…).
	bareAggregationRE = regexp.MustCompile(`\b(sum|min|max|avg|count)\s*\(`)
)

// scope confines an expression to one deployment: every selector of an
// exporter metric gets the matchers of selector, and every aggregation and
// vector matching keeps the labels of keep (by (source) becomes
// by (namespace, job, source); sum (…) becomes sum by (namespace, job) (…);
// on (source) becomes on (namespace, job, source)). The rules are written
// without either; scope is applied to every rule when the file is written,
// so rules added anywhere in the generator get it too.
func scope(expr, selector string, keep []string) string {
	if selector != "" {
		expr = exporterMetricRE.ReplaceAllStringFunc(expr, func(m string) string {
			sub := exporterMetricRE.FindStringSubmatch(m)
			inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(sub[3], "{"), "}"))
			if inner == "" {
				return sub[1] + sub[2] + "{" + selector + "}"
			}
			return sub[1] + sub[2] + "{" + selector + ", " + inner + "}"
		})
	}
	k := strings.Join(keep, ", ")
	expr = groupingRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := groupingRE.FindStringSubmatch(m)
		var labels []string
		for _, l := range strings.Split(sub[2], ",") {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(keep, l) {
				labels = append(labels, l)
			}
		}
		if len(labels) == 0 {
			return sub[1] + " (" + k + ")"
		}
		return sub[1] + " (" + k + ", " + strings.Join(labels, ", ") + ")"
	})
	return bareAggregationRE.ReplaceAllString(expr, "$1 by ("+k+") (")
}
