package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/dashboards"
	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// demoHelpdesks are the helpdesks demo mode can simulate (CX_DEMO_HELPDESK).
var demoHelpdesks = []string{"zendesk", "freshdesk", "helpscout", "intercom"}

// helpdeskNames returns every helpdesk_* metric the rules and dashboards
// read, as families.
func helpdeskNames(t *testing.T) map[string]bool {
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
			if strings.HasPrefix(m, "helpdesk_") && m != "helpdesk_nps_responses_total" {
				names[family(m)] = true
			}
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d helpdesk metrics in the rules and dashboards: %v", len(names), names)
	}
	return names
}

// TestEveryHelpdeskFeedsTheRulesAndDashboards runs the demo on each
// simulated helpdesk and requires every helpdesk metric the rules and
// dashboards read to be exported for that source, with a non-zero sample.
// (NPS comes from the survey source, whichever helpdesk is in use.)
func TestEveryHelpdeskFeedsTheRulesAndDashboards(t *testing.T) {
	t.Parallel()
	need := helpdeskNames(t)
	for _, vendor := range demoHelpdesks {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			exp := e2e.Start(t, []string{"CX_STATE_DIR=" + t.TempDir(), "CX_DEMO_HELPDESK=" + vendor}, "-demo")
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
					if v != 0 && strings.Contains(k, fmt.Sprintf("source=%q", vendor)) {
						nonZero[family(strings.SplitN(k, "{", 2)[0])] = true
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
					t.Fatalf("after 60s of %s demo, no non-zero sample of %v", vendor, missing)
				}
				time.Sleep(time.Second)
			}
		})
	}
}
