package alerts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v2"
)

const (
	rulesFile   = "cx-exporter.rules.yml"
	testsGlob   = "tests/*.test.yml"
	runbooksDoc = "../docs/runbooks.md"
	runbookBase = "https://github.com/cx-exporter/cx-exporter/blob/main/docs/runbooks.md#"
)

// promtool returns the promtool that make tools installs in the repository's
// bin directory, or else the one on PATH.
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := filepath.Abs(filepath.Join("..", "bin", "promtool")); err == nil {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is neither in bin/ nor on PATH: run make tools")
	}
	return p
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil || strings.Contains(out.String(), "FAILED") {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}

func TestPromtoolCheckRules(t *testing.T) {
	runPromtool(t, "check", "rules", rulesFile)
}

// TestPromtoolTestRules runs each test file on its own, in parallel: the
// long windows make some of them take seconds.
func TestPromtoolTestRules(t *testing.T) {
	for _, file := range testFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			runPromtool(t, "test", "rules", file)
		})
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type testFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			EvalTime  string `yaml:"eval_time"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `yaml:"exp_labels"`
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
		PromQLExprTest []struct {
			Expr       string `yaml:"expr"`
			EvalTime   string `yaml:"eval_time"`
			ExpSamples []struct {
				Labels string  `yaml:"labels"`
				Value  float64 `yaml:"value"`
			} `yaml:"exp_samples"`
		} `yaml:"promql_expr_test"`
	} `yaml:"tests"`
}

func loadRules(t *testing.T) (records []string, alerts []rule) {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				records = append(records, r.Record)
			} else {
				alerts = append(alerts, r)
			}
		}
	}
	if len(records) == 0 || len(alerts) == 0 {
		t.Fatalf("%s: %d recording rules and %d alerts", rulesFile, len(records), len(alerts))
	}
	return records, alerts
}

func testFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(testsGlob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool test files match %s (%v)", testsGlob, err)
	}
	return files
}

func loadTests(t *testing.T) map[string]testFile {
	t.Helper()
	out := map[string]testFile{}
	for _, name := range testFiles(t) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var f testFile
		// Not strict: promtool's format has fields this test ignores.
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(f.RuleFiles, []string{"../" + rulesFile}) {
			t.Errorf("%s: rule_files is %q, want [../%s]", name, f.RuleFiles, rulesFile)
		}
		out[name] = f
	}
	return out
}

// anchors are the GitHub anchors of the headings of a Markdown page.
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	drop := regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	out := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		heading := strings.TrimSpace(strings.TrimLeft(line, "#"))
		a := strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(heading), ""), " ", "-")
		out[a] = true
	}
	return out
}

var severities = []string{"critical", "warning", "info"}

func TestAlertsAreDocumented(t *testing.T) {
	_, alerts := loadRules(t)
	headings := anchors(t, runbooksDoc)
	for _, a := range alerts {
		if !regexp.MustCompile(`^(Helpdesk|Billing|CxExporter)[A-Z][A-Za-z0-9]*$`).MatchString(a.Alert) {
			t.Errorf("%s: want a CamelCase name with the prefix Helpdesk, Billing or CxExporter", a.Alert)
		}
		if !slices.Contains(severities, a.Labels["severity"]) {
			t.Errorf("%s: severity %q, want one of %q", a.Alert, a.Labels["severity"], severities)
		}
		for _, k := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(a.Annotations[k]) == "" {
				t.Errorf("%s: no %s annotation", a.Alert, k)
			}
		}
		if d := a.Annotations["description"]; !strings.Contains(d, "$value") {
			t.Errorf("%s: the description does not show the value: %q", a.Alert, d)
		}
		url := a.Annotations["runbook_url"]
		anchor, ok := strings.CutPrefix(url, runbookBase)
		if !ok || anchor != strings.ToLower(a.Alert) {
			t.Errorf("%s: runbook_url %q, want %s%s", a.Alert, url, runbookBase, strings.ToLower(a.Alert))
		}
		if !headings[anchor] {
			t.Errorf("%s: docs/runbooks.md has no heading with the anchor #%s", a.Alert, anchor)
		}
	}
}

// alertKey writes an expected alert as its name and sorted labels, so that
// a rule's static labels can be looked up in it.
func alertKey(name string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteString("," + k + "=" + labels[k])
	}
	return b.String()
}

func TestEveryRuleIsTested(t *testing.T) {
	records, alerts := loadRules(t)
	tests := loadTests(t)

	firing := map[string][]string{} // alert name -> label sets of expected firing alerts
	notFiring := map[string]bool{}
	var exprs []string
	for _, f := range tests {
		for _, tg := range f.Tests {
			for _, at := range tg.AlertRuleTest {
				if len(at.ExpAlerts) == 0 {
					notFiring[at.Alertname] = true
				}
				for _, e := range at.ExpAlerts {
					if len(e.ExpAnnotations) == 0 {
						continue // promtool compares annotations too; this is checked there
					}
					firing[at.Alertname] = append(firing[at.Alertname], alertKey(at.Alertname, e.ExpLabels))
				}
			}
			for _, pt := range tg.PromQLExprTest {
				if len(pt.ExpSamples) > 0 {
					exprs = append(exprs, pt.Expr)
				}
			}
		}
	}

	for _, a := range alerts {
		if !notFiring[a.Alert] {
			t.Errorf("%s: no test expects it not to fire (exp_alerts: [])", a.Alert)
		}
		// A firing case for this rule: an expected alert that carries all of
		// the rule's static labels (severity, window, …).
		found := false
		for _, key := range firing[a.Alert] {
			ok := true
			for k, v := range a.Labels {
				if !strings.Contains(key+",", ","+k+"="+v+",") {
					ok = false
				}
			}
			found = found || ok
		}
		if !found {
			t.Errorf("%s %v: no test expects it to fire (with its labels and annotations)", a.Alert, a.Labels)
		}
	}

	for _, r := range records {
		used := regexp.MustCompile(`(^|[^A-Za-z0-9_:])` + regexp.QuoteMeta(r) + `($|[^A-Za-z0-9_:])`)
		if !slices.ContainsFunc(exprs, used.MatchString) {
			t.Errorf("recording rule %s: no promql_expr_test checks its value", r)
		}
	}
}

// TestHistogramRulesTestedThreeWays: every recording rule that reads a
// histogram is evaluated in each of the three tests of
// tests/histograms.test.yml (classic only, native only, both).
func TestHistogramRulesTestedThreeWays(t *testing.T) {
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatal(err)
	}
	var histogramRules []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record != "" && regexp.MustCompile(`histogram_(quantile|sum|count|fraction)\(`).MatchString(r.Expr) {
				histogramRules = append(histogramRules, r.Record)
			}
		}
	}
	if len(histogramRules) < 10 {
		t.Fatalf("only %d recording rules read a histogram", len(histogramRules))
	}
	tests := loadTests(t)["tests/histograms.test.yml"]
	if len(tests.Tests) != 3 {
		t.Fatalf("tests/histograms.test.yml has %d tests, want classic only, native only and both", len(tests.Tests))
	}
	for _, tc := range tests.Tests {
		tested := map[string]bool{}
		for _, e := range tc.PromQLExprTest {
			if len(e.ExpSamples) > 0 {
				tested[e.Expr] = true
			}
		}
		for _, r := range histogramRules {
			if !tested[r] {
				t.Errorf("%s: %s reads a histogram and is not tested", tc.Name, r)
			}
		}
	}
}
