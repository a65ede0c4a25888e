package gen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

const committed = "../cx-exporter.rules.yml"

func generated(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(args, &out, &errOut); err != nil {
		t.Fatalf("gen %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

func TestGeneratedRulesUpToDate(t *testing.T) {
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatalf("%v: run `go generate ./alerts/...` (make generate)", err)
	}
	got := generated(t)
	if got == string(want) {
		return
	}
	gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gotLines) || i < len(wantLines); i++ {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Fatalf("alerts/cx-exporter.rules.yml differs from the generator's output at line %d:\n  committed: %q\n  generated: %q\nrun `go generate ./alerts/...` (make generate) and commit the result", i+1, w, g)
		}
	}
}

var forLine = regexp.MustCompile(`(?m)^(\s+for: ).*$`)

func TestShortForChangesOnlyFor(t *testing.T) {
	def := generated(t)
	short := generated(t, "-short-for")
	if n := len(forLine.FindAllString(def, -1)); n < 10 {
		t.Fatalf("only %d for: lines in the default rules", n)
	}
	for _, m := range forLine.FindAllString(short, -1) {
		if strings.TrimSpace(m) != "for: 10s" {
			t.Errorf("-short-for left %q", strings.TrimSpace(m))
		}
	}
	// Everything but the for: lines and the warning header is unchanged, so
	// every range window and threshold is the same.
	want := forLine.ReplaceAllString(def, "${1}10s")
	got := strings.Replace(short, "# -short-for: every alert's for is 10s. For tests only; do not deploy.\n", "", 1)
	if got != want {
		t.Error("-short-for changed more than the for: lines")
	}
	if !strings.Contains(short, "do not deploy") {
		t.Error("-short-for output lacks its warning header")
	}
}

func TestThresholdsFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "t.json")
	overrides := `{
  "CSATMin": 0.85,
  "OldestTicketMaxAge": "3d",
  "BacklogSpikeFor": "30m",
  "FirstReplySLO": 0.99,
  "ResolutionSLO": 0.98,
  "SyncStaleAfter": "1h"
}`
	if err := os.WriteFile(file, []byte(overrides), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "rules.yml")
	if s := generated(t, "-thresholds", file, "-o", out); s != "" {
		t.Errorf("-o also wrote to stdout: %q", s)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rules := string(b)
	for _, want := range []string{
		"source:helpdesk_csat:ratio_rate7d < 0.85\n",
		"(helpdesk_open_ticket_oldest_age_seconds) > 259200'",
		"alert above 3d",
		"for: 30m\n",
		"/ (1 - 0.99) > 14.4",
		"of the 99% SLO",
		"/ (1 - 0.98) > 14.4",
		"time() - cx_exporter_last_sync_success_timestamp_seconds > 3600'",
		// Untouched fields keep their defaults.
		"source:helpdesk_reopen:ratio_rate7d > 0.1\n",
	} {
		if !strings.Contains(rules, want) {
			t.Errorf("rules with %s lack %q", overrides, want)
		}
	}
}

func TestThresholdsRejected(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"CSATMinimum": 0.9}`, `unknown field "CSATMinimum"`},
		{`{"CSATMin": 80}`, "CSATMin: 80 is not a ratio"},
		{`{"FirstReplySLO": 0.9}`, "FirstReplySLO: 0.9 leaves an error budget so large that a burn rate of 14.4 can never happen (want above 0.9306)"},
		{`{"BacklogSpikeRatio": 0.5}`, "BacklogSpikeRatio: 0.5 is not above 1"},
		{`{"ResolutionSLO": 0.9}`, "ResolutionSLO: 0.9 leaves an error budget so large"},
		{`{"ResolutionSLO": 1}`, "ResolutionSLO: 1 is not a ratio"},
		{`{"FirstReplySLOTarget": "1h"}`, `unknown field "FirstReplySLOTarget"`},
		{`{"OldestTicketMaxAge": "7 days"}`, `invalid duration "7 days"`},
		{`{"OldestTicketMaxAge": 604800}`, "duration must be a string"},
		{`{"SyncStaleAfter": "0s"}`, "SyncStaleAfter: 0s is not a positive duration"},
		{`{} {}`, "trailing data"},
	} {
		file := filepath.Join(t.TempDir(), "t.json")
		if err := os.WriteFile(file, []byte(tc.json), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		err := run([]string{"-thresholds", file}, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.json, err, tc.want)
		}
		if out.Len() > 0 {
			t.Errorf("%s: wrote rules despite the error", tc.json)
		}
	}
}

func TestPrintDefaults(t *testing.T) {
	out := generated(t, "-print-defaults")
	got, err := loadThresholds([]byte(out))
	if err != nil {
		t.Fatalf("-print-defaults output does not load back: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(got, DefaultThresholds()) {
		t.Errorf("-print-defaults round trip: got %+v, want %+v", got, DefaultThresholds())
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(out), &fields); err != nil {
		t.Fatal(err)
	}
	if fields["OldestTicketMaxAge"] != "7d" || fields["BacklogSpikeRatio"] != 1.5 {
		t.Errorf("-print-defaults: %s", out)
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"10s", 10 * time.Second, "10s"},
		{"90s", 90 * time.Second, "1m30s"},
		{"15m", 15 * time.Minute, "15m"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"7d", 7 * 24 * time.Hour, "7d"},
		{"1w", 7 * 24 * time.Hour, "7d"},
		{"1d12h", 36 * time.Hour, "1d12h"},
		{"0s", 0, "0s"},
	} {
		d, err := ParseDuration(tc.in)
		if err != nil || time.Duration(d) != tc.want || d.String() != tc.out {
			t.Errorf("ParseDuration(%q) = %v (%s), %v; want %v (%s)", tc.in, time.Duration(d), d, err, tc.want, tc.out)
		}
	}
	for _, in := range []string{"", "15", "1.5h", "15m1h", "-1m", "1 h", "99999999999999w"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func TestScalar(t *testing.T) {
	for in, want := range map[string]string{
		"critical":                         "critical",
		"15m":                              "15m",
		"source:helpdesk_open_tickets:sum": "source:helpdesk_open_tickets:sum",
		"1.5":                              "'1.5'",
		"no":                               "'no'",
		"it's":                             "'it''s'",
		"{{ $value }}":                     "'{{ $value }}'",
		"a: b":                             "'a: b'",
	} {
		if got := scalar(in); got != want {
			t.Errorf("scalar(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestLeMatcher(t *testing.T) {
	for in, want := range map[float64]string{
		1:       `le=~"1|1\\.0"`,
		3600:    `le=~"3600|3600\\.0"`,
		1209600: `le=~"1209600|1\\.2096e\\+06"`,
	} {
		if got := leMatcher(in); got != want {
			t.Errorf("leMatcher(%v) = %s, want %s", in, got, want)
		}
	}
}

// TestBillingAlertThresholds: the billing alerts' floors and severities
// come from the thresholds, and bad values are refused.
func TestBillingAlertThresholds(t *testing.T) {
	def := generated(t)
	for _, want := range []string{
		"sum by (namespace, job, source) (billing_active_customers) >= 20\n",
		"(sum by (namespace, job, source, currency) (billing_mrr offset 1d) >= 1000)\n",
	} {
		if !strings.Contains(def, want) {
			t.Errorf("default rules lack %q", want)
		}
	}
	file := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(file, []byte(`{"MRRDropSeverity": "critical", "MRRDropMinMRR": 5000, "ChurnMinCustomers": 100, "ChurnSpikeSeverity": "info"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	rules := generated(t, "-thresholds", file)
	for alert, want := range map[string][]string{
		"BillingMRRDrop":    {"billing_mrr offset 1d) >= 5000)\n", "severity: critical\n", "at least 5000 a day earlier"},
		"BillingChurnSpike": {"(billing_active_customers) >= 100\n", "severity: info\n", "at least 100 active customers"},
	} {
		_, block, ok := strings.Cut(rules, "alert: "+alert+"\n")
		if !ok {
			t.Fatalf("no %s in the rules", alert)
		}
		block, _, _ = strings.Cut(block, "- alert: ")
		for _, w := range want {
			if !strings.Contains(block, w) {
				t.Errorf("%s lacks %q:\n%s", alert, w, block)
			}
		}
	}
	for _, tc := range []struct{ json, want string }{
		{`{"MRRDropSeverity": "page"}`, `MRRDropSeverity: "page" is not critical, warning or info`},
		{`{"ChurnSpikeSeverity": ""}`, `ChurnSpikeSeverity: "" is not critical, warning or info`},
		{`{"MRRDropMinMRR": -1}`, "MRRDropMinMRR: -1 is negative"},
		{`{"ChurnMinCustomers": -5}`, "ChurnMinCustomers: -5 is negative"},
	} {
		if err := os.WriteFile(file, []byte(tc.json), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if err := run([]string{"-thresholds", file}, &out, &errOut); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.json, err, tc.want)
		}
	}
}
