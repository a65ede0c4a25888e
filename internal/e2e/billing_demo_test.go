package e2e_test

import (
	"testing"
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
	names := readFamilies(t, "billing_", nil)
	for _, f := range billingFamilies {
		names[f] = true
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
			demoFeeds(t, vendor, "billing", need, nil, "CX_DEMO_BILLING="+vendor)
		})
	}
}
