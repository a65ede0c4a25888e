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

// demoHelpdesks are the helpdesks demo mode can simulate (CX_DEMO_HELPDESK).
var demoHelpdesks = []string{"zendesk", "freshdesk", "helpscout", "intercom", "edesk", "udesk"}

// notFromHelpdesks are the families the rules and dashboards read that come
// from the survey source or the configuration, whichever helpdesk runs.
var notFromHelpdesks = []string{"helpdesk_nps_responses_total", "helpdesk_customer_effort_score", "helpdesk_support_cost_monthly"}

// waitFamilies are the wait and hold histograms, which only Zendesk gives.
var waitFamilies = []string{"helpdesk_requester_wait_seconds", "helpdesk_agent_wait_seconds", "helpdesk_on_hold_seconds"}

// vendorGaps are the families a vendor cannot feed (docs/metrics.md): they
// must be absent for it, never a constant.
var vendorGaps = map[string][]string{
	"freshdesk": append([]string{"helpdesk_tickets_solved_first_contact_total", "helpdesk_replies_per_solved_ticket"}, waitFamilies...),
	"helpscout": waitFamilies,
	"intercom":  waitFamilies,
	"edesk":     waitFamilies,
	"udesk":     append([]string{"helpdesk_tickets_solved_first_contact_total", "helpdesk_replies_per_solved_ticket"}, waitFamilies...),
}

// helpdeskNames returns every helpdesk_* metric the rules and dashboards
// read, as families.
func helpdeskNames(t *testing.T) map[string]bool {
	names := readFamilies(t, "helpdesk_", func(m string) bool {
		return slices.ContainsFunc(notFromHelpdesks, func(f string) bool { return strings.HasPrefix(m, f) })
	})
	if len(names) < 10 {
		t.Fatalf("found only %d helpdesk metrics in the rules and dashboards: %v", len(names), names)
	}
	return names
}

// readFamilies returns the families of the metrics with prefix that the
// rules and dashboards read, but those skip names.
func readFamilies(t *testing.T, prefix string, skip func(metric string) bool) map[string]bool {
	t.Helper()
	names := map[string]bool{}
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
			if strings.HasPrefix(m, prefix) && (skip == nil || !skip(m)) {
				names[family(m)] = true
			}
		}
	}
	return names
}

// demoFeeds runs the demo with the extra environment and waits up to 60 s
// for every family of need to have a non-zero sample for source; each of
// gaps must be absent for it at every scrape, never a constant.
func demoFeeds(t *testing.T, source, what string, need map[string]bool, gaps []string, env ...string) {
	t.Helper()
	exp := e2e.Start(t, append([]string{"CX_STATE_DIR=" + t.TempDir()}, env...), "-demo")
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
		nonZero, present := map[string]bool{}, map[string]bool{}
		for k, v := range samples {
			if strings.Contains(k, fmt.Sprintf("source=%q", source)) {
				f := family(strings.SplitN(k, "{", 2)[0])
				present[f] = true
				nonZero[f] = nonZero[f] || v != 0
			}
		}
		missing = missing[:0]
		for n := range need {
			if !nonZero[n] && !slices.Contains(gaps, n) {
				missing = append(missing, n)
			}
		}
		for _, gap := range gaps {
			if present[gap] {
				t.Fatalf("%s is exported for %s, which cannot feed it: it must be absent, not a constant", gap, source)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			slices.Sort(missing)
			t.Fatalf("after 60s of the %s %s demo, no non-zero sample of %v\n%s", source, what, missing, e2e.Tail(exp.Logs(), 2000))
		}
		time.Sleep(time.Second)
	}
}

// TestEveryHelpdeskFeedsTheRulesAndDashboards runs the demo on each
// simulated helpdesk and requires every helpdesk metric the rules and
// dashboards read to be exported for that source, with a non-zero sample,
// except the vendor's documented gaps, which must be absent. (NPS and CES
// come from the survey source and the support cost from the configuration,
// whichever helpdesk is in use.)
func TestEveryHelpdeskFeedsTheRulesAndDashboards(t *testing.T) {
	t.Parallel()
	need := helpdeskNames(t)
	for _, vendor := range demoHelpdesks {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			demoFeeds(t, vendor, "helpdesk", need, vendorGaps[vendor], "CX_DEMO_HELPDESK="+vendor)
		})
	}
}
