package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/dashboards"
	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// demoBillings are the billing systems demo mode can simulate
// (CX_DEMO_BILLING).
var demoBillings = []string{"stripe", "chargebee", "paddle"}

// billingFamilies are every billing_* family of docs/metrics.md.
var billingFamilies = []string{
	"billing_subscriptions", "billing_active_customers", "billing_mrr", "billing_scheduled_churn_mrr",
	"billing_subscriptions_started_total", "billing_subscriptions_churned_total", "billing_customers_churned_total",
	"billing_mrr_movements_total", "billing_trials_started_total", "billing_trials_converted_total",
	"billing_trials_canceled_total", "billing_customer_churn_ratio", "billing_mrr_churn_ratio",
	"billing_revenue_retention_ratio",
}

// billingNames returns every billing metric family: the documented ones
// and any the rules and dashboards read (so that a new one cannot be left
// out of the demo test).
func billingNames(t *testing.T) map[string]bool {
	names := map[string]bool{}
	for _, f := range billingFamilies {
		names[f] = true
	}
	rules, err := os.ReadFile(filepath.Join(e2e.Root(), rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	exprs := []string{recordedRe.ReplaceAllString(string(rules), "")}
	queries, err := dashboards.Queries(filepath.Join(e2e.Root(), "dashboards"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		exprs = append(exprs, recordedRe.ReplaceAllString(q.Expr, ""))
	}
	for _, e := range exprs {
		for _, m := range metricRe.FindAllString(e, -1) {
			if strings.HasPrefix(m, "billing_") {
				names[family(m)] = true
			}
		}
	}
	return names
}

// TestEveryBillingDemoFeedsEveryBillingMetric runs the demo with each
// simulated billing system and requires every billing metric to have a
// non-zero sample for that source within 60 seconds.
func TestEveryBillingDemoFeedsEveryBillingMetric(t *testing.T) {
	t.Parallel()
	need := billingNames(t)
	for _, vendor := range demoBillings {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			exp := e2e.Start(t, []string{"CX_STATE_DIR=" + t.TempDir(), "CX_DEMO_BILLING=" + vendor}, "-demo")
			deadline := time.Now().Add(60 * time.Second)
			var missing []string
			for {
				text, err := exp.Scrape()
				if err != nil {
					t.Fatal(err)
				}
				samples, err := e2e.Samples(text)
				if err != nil {
					t.Fatal(err)
				}
				nonZero := map[string]bool{}
				for k, v := range samples {
					if strings.Contains(k, fmt.Sprintf("source=%q", vendor)) {
						f := family(strings.SplitN(k, "{", 2)[0])
						nonZero[f] = nonZero[f] || v != 0
					}
				}
				missing = missing[:0]
				for n := range need {
					if !nonZero[n] {
						missing = append(missing, n)
					}
				}
				if len(missing) == 0 {
					return
				}
				if time.Now().After(deadline) {
					slices.Sort(missing)
					t.Fatalf("after 60s of the %s billing demo, no non-zero sample of %v\n%s", vendor, missing, e2e.Tail(exp.Logs(), 2000))
				}
				time.Sleep(time.Second)
			}
		})
	}
}
