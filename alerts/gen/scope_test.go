package gen

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestScope: every selector of an exporter metric gets the selector, every
// aggregation and vector matching keeps the AggregateBy labels, recording
// rules' outputs are left alone.
func TestScope(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`sum by (source) (helpdesk_open_tickets)`,
			`sum by (namespace, job, source) (helpdesk_open_tickets{job="cx"})`},
		{`sum(increase(helpdesk_tickets_solved_total[30d]))`,
			`sum by (namespace, job) (increase(helpdesk_tickets_solved_total{job="cx"}[30d]))`},
		{`rate(helpdesk_x_bucket{le=~"1|1\\.0"}[7d])`,
			`rate(helpdesk_x_bucket{job="cx", le=~"1|1\\.0"}[7d])`},
		{`source:helpdesk_csat:ratio_rate7d < 0.8 and on (source) x`,
			`source:helpdesk_csat:ratio_rate7d < 0.8 and on (namespace, job, source) x`},
		{`a / on () group_left b`, `a / on (namespace, job) group_left b`},
		{`cx_exporter_source_up == 0 and ignoring (kind) cx_exporter_last_sync_duration_seconds`,
			`cx_exporter_source_up{job="cx"} == 0 and ignoring (kind) cx_exporter_last_sync_duration_seconds{job="cx"}`},
		{`histogram_count(rate(helpdesk_y[1h]))`, `histogram_count(rate(helpdesk_y{job="cx"}[1h]))`},
		{`sum by (job, source) (helpdesk_z{})`, `sum by (namespace, job, source) (helpdesk_z{job="cx"})`},
	} {
		if got := scope(tc.in, `job="cx"`, []string{"namespace", "job"}); got != tc.want {
			t.Errorf("scope(%s)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

var (
	exporterSelectorRE = regexp.MustCompile(`(?:^|[^:a-zA-Z0-9_"])((?:helpdesk|billing|cx_exporter)_[a-zA-Z0-9_]*)(\{[^{}]*\})?`)
	byClauseRE         = regexp.MustCompile(`\b(by|on) \(([^()]*)\)`)
	bareAggRE          = regexp.MustCompile(`\b(sum|min|max|avg|count)\s*\(`)
)

// TestThresholdsFileScopesEveryRule generates the rules with a selector,
// extra labels and a runbook base from a YAML thresholds file, as
// `cx-exporter rules -thresholds` does, and checks every rule.
func TestThresholdsFileScopesEveryRule(t *testing.T) {
	file := filepath.Join(t.TempDir(), "t.yaml")
	yml := "Selector: job=\"cx\", namespace=\"support\"\nAggregateBy: [cluster, namespace, job]\n" +
		"ExtraLabels: {team: support-sre}\nRunbookBaseURL: https://wiki.example/runbooks\nBacklogSpikeSeverity: critical\n"
	if err := os.WriteFile(file, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	rules := generated(t, "-thresholds", file)
	exprs := 0
	for _, block := range strings.Split(rules, "\n      - ")[1:] {
		expr := block
		if i := strings.Index(block, "\n        for:"); i >= 0 {
			expr = block[:i]
		}
		if i := strings.Index(expr, "\n        labels:"); i >= 0 {
			expr = expr[:i]
		}
		exprs++
		for _, m := range exporterSelectorRE.FindAllStringSubmatch(expr, -1) {
			if !strings.HasPrefix(m[2], `{job="cx", namespace="support"`) {
				t.Errorf("%s without the selector in:\n%s", m[1], block)
			}
		}
		for _, m := range byClauseRE.FindAllStringSubmatch(expr, -1) {
			if !strings.HasPrefix(m[2], "cluster, namespace, job") {
				t.Errorf("%s (%s) does not keep cluster, namespace, job in:\n%s", m[1], m[2], block)
			}
		}
		if bareAggRE.MatchString(expr) {
			t.Errorf("an aggregation without by in:\n%s", block)
		}
		if strings.HasPrefix(block, "alert:") {
			for _, want := range []string{"team: support-sre\n", "runbook_url: 'https://wiki.example/runbooks#", "category: "} {
				if !strings.Contains(block, want) {
					t.Errorf("alert lacks %q:\n%s", want, block)
				}
			}
		}
	}
	if exprs < 50 {
		t.Fatalf("only %d rules found", exprs)
	}
	if !strings.Contains(rules, "- alert: HelpdeskBacklogSpike\n") || !strings.Contains(rules, "severity: critical\n          category: support\n          team: support-sre") {
		t.Error("BacklogSpikeSeverity: critical not applied")
	}
}

// TestHelmTemplate: the chart's template has a Helm action for every
// threshold and escapes the rules' own templates.
func TestHelmTemplate(t *testing.T) {
	tpl := generated(t, "-helm-template")
	if strings.Contains(tpl, "cx_sentinel") || strings.Contains(tpl, "1000000") || strings.Contains(tpl, "100w") {
		t.Errorf("a sentinel is left in the template")
	}
	for _, want := range []string{
		`{{ $t.BacklogSpikeFloor }}`, `{{ $t.BacklogSpikeSeverity }}`, `{{ $t.OldestTicketFor }}`,
		`{{ include "cx-exporter.seconds" $t.OldestTicketMaxAge }}`, `{{ mulf $t.CSATMin 100 }}%`,
		`{{ $t.RunbookBaseURL }}#helpdeskbacklogspike`, `sum by ({{ $by }}, source) (helpdesk_open_tickets{ {{- $sel -}} })`,
		`{{ "{{" }} $labels.source {{ "}}" }}`, `{{- range $k, $v := $t.ExtraLabels }}`,
		`rate(helpdesk_replies_per_solved_ticket_bucket{ {{- $selc -}} le=~`,
	} {
		if !strings.Contains(tpl, want) {
			t.Errorf("template lacks %q", want)
		}
	}
	if strings.Contains(tpl, "rate(helpdesk_replies_per_solved_ticket_bucket{{") {
		t.Error("a selector's brace runs into a Helm action")
	}
}
