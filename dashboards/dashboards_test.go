package dashboards_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cx-exporter/cx-exporter/dashboards"
)

// wantUIDs is the committed dashboards and their UIDs. UIDs are part of the
// dashboards' URLs and of links people bookmark: they never change.
var wantUIDs = map[string]string{
	"support-operations.json":  "cx-support-ops",
	"subscriptions-churn.json": "cx-subscriptions",
	"exporter-health.json":     "cx-exporter-health",
	"agents-teams.json":        "cx-agents-teams",
}

// allowedWindows are the explicit ranges allowed in rate() and increase()
// besides $__rate_interval: the long windows of ratio panels.
var allowedWindows = []string{"1d", "7d", "30d"}

const (
	jobMatcher      = `job=~"$job"`
	instanceMatcher = `instance=~"$instance"`
	sourceMatcher   = `source=~"$source"`
	priorityMatcher = `priority=~"$priority"`
	channelMatcher  = `channel=~"$channel"`
	groupMatcher    = `group=~"$group"`
	typeMatcher     = `ticket_type=~"$ticket_type"`
	assigneeMatcher = `assignee=~"$assignee"`
	hoursMatcher    = `hours="$hours"`
	datasourceUID   = "${datasource}"
)

var (
	rangeRE    = regexp.MustCompile(`\[([^\]]*)\]`)
	variableRE = regexp.MustCompile(`\$\{?(\w+)`)
	// a counter selector and the text before it
	counterRE = regexp.MustCompile(`([\w(]*?)\b(\w+_total)\{`)
	// a selector of an exporter metric and its matchers
	metricSelectorRE = regexp.MustCompile(`(?:^|[^:\w])((?:helpdesk|billing|cx_exporter)_\w+)(\{[^{}]*\})?`)
	// a selector of a recording rule's output
	recordedSelectorRE = regexp.MustCompile(`\b(\w+:\w+:\w+)(\{[^{}]*\})?`)
)

func committedFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// TestGeneratedUpToDate fails when the committed JSON differs from what the
// generator writes.
func TestGeneratedUpToDate(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go toolchain not found: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command(goBin, "run", "../cmd/cx-exporter", "dashboards", "-dir", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cx-exporter dashboards: %v\n%s", err, out)
	}

	generated, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var genNames []string
	for _, f := range generated {
		genNames = append(genNames, filepath.Base(f))
	}
	sort.Strings(genNames)
	if committed := committedFiles(t); !slices.Equal(genNames, committed) {
		t.Errorf("generator writes %v, committed dashboards are %v; run go generate ./dashboards/... (make generate)", genNames, committed)
	}

	for _, name := range genNames {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v; run go generate ./dashboards/... (make generate)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output; run go generate ./dashboards/... (make generate)", name)
		}
	}
}

// Types for the parts of Grafana's dashboard JSON that the lint reads.

type dashboardJSON struct {
	UID        string      `json:"uid"`
	Title      string      `json:"title"`
	Editable   *bool       `json:"editable"`
	Tags       []string    `json:"tags"`
	Refresh    string      `json:"refresh"`
	Time       timeJSON    `json:"time"`
	Templating templating  `json:"templating"`
	Panels     []panelJSON `json:"panels"`
}

type timeJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type templating struct {
	List []variableJSON `json:"list"`
}

type variableJSON struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *datasourceRef  `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
}

func (v variableJSON) queryString() string {
	var s string
	_ = json.Unmarshal(v.Query, &s)
	return s
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panelJSON struct {
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Datasource  *datasourceRef `json:"datasource"`
	Panels      []panelJSON    `json:"panels"`
	Targets     []targetJSON   `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

type targetJSON struct {
	RefID      string         `json:"refId"`
	Expr       string         `json:"expr"`
	Datasource *datasourceRef `json:"datasource"`
}

func loadDashboard(t *testing.T, file string) dashboardJSON {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboardJSON
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

// panels returns the dashboard's panels, the panels inside rows included, and
// not the rows themselves.
func panels(list []panelJSON) []panelJSON {
	var out []panelJSON
	for _, p := range list {
		if p.Type != "row" {
			out = append(out, p)
		}
		out = append(out, panels(p.Panels)...)
	}
	return out
}

// TestDashboardsLint checks the committed JSON against grafana/dashboard-linter
// style rules and the project's conventions.
func TestDashboardsLint(t *testing.T) {
	files := committedFiles(t)
	for name := range wantUIDs {
		if !slices.Contains(files, name) {
			t.Errorf("dashboard %s is missing; run go generate ./dashboards/... (make generate)", name)
		}
	}

	seenUIDs := map[string]string{}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			d := loadDashboard(t, file)

			if d.UID == "" {
				t.Errorf("uid is empty")
			}
			if want, ok := wantUIDs[file]; !ok {
				t.Errorf("unexpected dashboard file; add it to wantUIDs with its UID")
			} else if d.UID != want {
				t.Errorf("uid = %q, want %q (UIDs are stable)", d.UID, want)
			}
			if other, dup := seenUIDs[d.UID]; dup {
				t.Errorf("uid %q is also used by %s", d.UID, other)
			}
			seenUIDs[d.UID] = file
			if d.Editable == nil || *d.Editable {
				t.Errorf("editable must be false")
			}
			if !slices.Contains(d.Tags, "cx-exporter") {
				t.Errorf("tags = %v, want cx-exporter among them", d.Tags)
			}
			if d.Refresh != "1m" {
				t.Errorf("refresh = %q, want 1m", d.Refresh)
			}
			if d.Time.From != "now-24h" || d.Time.To != "now" {
				t.Errorf("time = %+v, want now-24h to now", d.Time)
			}

			vars := lintVariables(t, d)

			ps := panels(d.Panels)
			if len(ps) == 0 {
				t.Fatalf("no panels")
			}
			titles := map[string]bool{}
			used := map[string]bool{}
			for _, p := range ps {
				lintPanel(t, p, vars, used)
				if titles[p.Title] {
					t.Errorf("panel title %q is used twice; titles identify panels in Queries", p.Title)
				}
				titles[p.Title] = true
			}
			for name := range vars {
				if name != "datasource" && !used[name] {
					t.Errorf("variable $%s is defined but no query uses it", name)
				}
			}
		})
	}
}

// lintVariables checks the templating variables and returns them by name.
func lintVariables(t *testing.T, d dashboardJSON) map[string]variableJSON {
	t.Helper()
	vars := map[string]variableJSON{}
	for _, v := range d.Templating.List {
		if _, dup := vars[v.Name]; dup {
			t.Errorf("variable %q is defined twice", v.Name)
		}
		vars[v.Name] = v
	}

	ds, ok := vars["datasource"]
	switch {
	case !ok:
		t.Errorf("no datasource variable")
	case ds.Type != "datasource" || ds.queryString() != "prometheus":
		t.Errorf("datasource variable: type %q query %q, want a datasource variable of type prometheus", ds.Type, ds.queryString())
	}
	var dsVars int
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			dsVars++
		}
		if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != datasourceUID) {
			t.Errorf("variable %q does not query the %s data source", v.Name, datasourceUID)
		}
	}
	if dsVars != 1 {
		t.Errorf("%d datasource variables, want exactly one", dsVars)
	}

	for i, name := range []string{"job", "instance"} {
		v, ok := vars[name]
		switch {
		case !ok:
			t.Errorf("no %s variable", name)
		case v.Type != "query" || !strings.HasPrefix(v.queryString(), "label_values(cx_exporter_build_info") || !v.Multi || !v.IncludeAll:
			t.Errorf("%s variable = %+v, want a multi-value query variable over cx_exporter_build_info with All", name, v)
		case len(d.Templating.List) < 3 || d.Templating.List[i+1].Name != name:
			t.Errorf("%s variable is not right after the datasource", name)
		}
	}
	src, ok := vars["source"]
	switch {
	case !ok:
		t.Errorf("no source variable")
	case src.Type != "query" || src.queryString() != `label_values(cx_exporter_source_up{job=~"$job", instance=~"$instance"}, source)` || !src.Multi || !src.IncludeAll:
		t.Errorf("source variable = %+v, want a multi-value query variable over cx_exporter_source_up's source in the selected jobs and instances, with All", src)
	}
	for _, name := range []string{"priority", "channel", "group", "ticket_type"} {
		v, ok := vars[name]
		if !ok {
			continue // only dashboards with ticket queries need them; see lintTarget
		}
		if v.Type != "query" || !strings.HasPrefix(v.queryString(), "label_values(helpdesk_tickets_created_total") || !v.Multi || !v.IncludeAll {
			t.Errorf("%s variable = %+v, want a multi-value label_values query on helpdesk_tickets_created_total with All", name, v)
		}
	}
	if v, ok := vars["hours"]; ok && v.Type != "custom" {
		t.Errorf("hours variable has type %q, want custom", v.Type)
	}
	return vars
}

func lintPanel(t *testing.T, p panelJSON, vars map[string]variableJSON, used map[string]bool) {
	t.Helper()
	if p.Title == "" {
		t.Errorf("a %s panel has no title", p.Type)
	}
	if p.Description == "" {
		t.Errorf("panel %q has no description", p.Title)
	}
	if p.Datasource == nil || p.Datasource.UID != datasourceUID {
		t.Errorf("panel %q datasource = %+v, want uid %s", p.Title, p.Datasource, datasourceUID)
	}
	if p.FieldConfig.Defaults.Unit == "" {
		t.Errorf("panel %q has no unit (fieldConfig.defaults.unit)", p.Title)
	}
	if len(p.Targets) == 0 {
		t.Errorf("panel %q has no queries", p.Title)
	}
	refIDs := map[string]bool{}
	for _, target := range p.Targets {
		if target.RefID == "" || refIDs[target.RefID] {
			t.Errorf("panel %q: refId %q is empty or repeated", p.Title, target.RefID)
		}
		refIDs[target.RefID] = true
		if target.Datasource == nil || target.Datasource.UID != datasourceUID {
			t.Errorf("panel %q query %s datasource = %+v, want uid %s", p.Title, target.RefID, target.Datasource, datasourceUID)
		}
		lintExpr(t, p.Title+" "+target.RefID, target.Expr, vars, used)
	}
	for _, m := range variableRE.FindAllStringSubmatch(p.Title+" "+p.Description, -1) {
		checkVariable(t, p.Title, m[1], vars)
	}
}

func checkVariable(t *testing.T, where, name string, vars map[string]variableJSON) {
	t.Helper()
	if strings.HasPrefix(name, "__") {
		return // Grafana's built-in variables
	}
	if _, ok := vars[name]; !ok {
		t.Errorf("%s: uses undefined variable $%s", where, name)
	}
}

func lintExpr(t *testing.T, where, expr string, vars map[string]variableJSON, used map[string]bool) {
	t.Helper()
	if strings.TrimSpace(expr) == "" {
		t.Errorf("%s: empty expr", where)
		return
	}
	if !strings.Contains(expr, sourceMatcher) {
		t.Errorf("%s: expr lacks %s: %s", where, sourceMatcher, expr)
	}
	for _, m := range metricSelectorRE.FindAllStringSubmatch(expr, -1) {
		if !strings.Contains(m[2], jobMatcher) || !strings.Contains(m[2], instanceMatcher) {
			t.Errorf("%s: %s%s lacks %s or %s", where, m[1], m[2], jobMatcher, instanceMatcher)
		}
	}
	for _, m := range recordedSelectorRE.FindAllStringSubmatch(expr, -1) {
		if !strings.Contains(m[2], jobMatcher) || strings.Contains(m[2], "instance") {
			t.Errorf("%s: recorded %s%s lacks %s, or matches instance, which the rules aggregate away", where, m[1], m[2], jobMatcher)
		}
	}
	if strings.Contains(expr, "rate(") || strings.Contains(expr, "increase(") {
		for _, m := range rangeRE.FindAllStringSubmatch(expr, -1) {
			if m[1] != "$__rate_interval" && !slices.Contains(allowedWindows, m[1]) {
				t.Errorf("%s: range [%s] is neither [$__rate_interval] nor one of %v: %s", where, m[1], allowedWindows, expr)
			}
		}
	}
	for _, m := range counterRE.FindAllStringSubmatch(expr, -1) {
		if !strings.HasSuffix(m[1], "rate(") && !strings.HasSuffix(m[1], "increase(") {
			t.Errorf("%s: counter %s is not wrapped in rate() or increase(): %s", where, m[2], expr)
		}
	}
	// Ticket metrics follow every ticket label filter the dashboard offers
	// (the support dashboard offers them all; the agents dashboard group
	// and assignee, which its recorded leaderboard series keep). NPS
	// answers come from surveys, not tickets, and carry no ticket labels;
	// the support cost is configuration and carries none either.
	rest := strings.NewReplacer("helpdesk_support_cost_monthly", "").Replace(expr)
	if strings.Contains(rest, "helpdesk_") && !strings.Contains(expr, "helpdesk_nps_responses_total") {
		offered := 0
		for _, m := range []struct{ variable, matcher string }{{"priority", priorityMatcher}, {"channel", channelMatcher},
			{"group", groupMatcher}, {"ticket_type", typeMatcher}, {"assignee", assigneeMatcher}} {
			if _, ok := vars[m.variable]; !ok {
				continue
			}
			offered++
			if !strings.Contains(expr, m.matcher) {
				t.Errorf("%s: ticket query lacks %s: %s", where, m.matcher, expr)
			}
		}
		if offered == 0 {
			t.Errorf("%s: ticket query on a dashboard without ticket label variables: %s", where, expr)
		}
	}
	if strings.Contains(expr, "histogram_quantile(") && strings.Contains(expr, "_seconds") && !strings.Contains(expr, hoursMatcher) {
		t.Errorf("%s: duration percentile lacks %s: %s", where, hoursMatcher, expr)
	}
	for _, m := range variableRE.FindAllStringSubmatch(expr, -1) {
		checkVariable(t, where, m[1], vars)
		used[m[1]] = true
	}
}

func TestQueries(t *testing.T) {
	queries, err := dashboards.Queries(".")
	if err != nil {
		t.Fatal(err)
	}

	var want int
	for _, file := range committedFiles(t) {
		for _, p := range panels(loadDashboard(t, file).Panels) {
			for _, target := range p.Targets {
				if target.Expr != "" {
					want++
				}
			}
		}
	}
	if len(queries) != want || want == 0 {
		t.Errorf("Queries returned %d queries, the dashboards have %d", len(queries), want)
	}

	perDashboard := map[string]int{}
	for _, q := range queries {
		if q.Dashboard == "" || q.Panel == "" || q.RefID == "" || q.Expr == "" {
			t.Errorf("incomplete query %+v", q)
		}
		perDashboard[q.Dashboard]++
	}
	for _, uid := range wantUIDs {
		if perDashboard[uid] == 0 {
			t.Errorf("no queries for dashboard %s", uid)
		}
	}

	if _, err := dashboards.Queries(filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Errorf("Queries on a directory without dashboards: %v, want no error", err)
	}
}
