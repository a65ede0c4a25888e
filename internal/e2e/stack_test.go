package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/dashboards"
	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

const rulesFile = "alerts/cx-exporter.rules.yml"

// promConfig is a Prometheus configuration scraping the exporter every
// second, with native histograms (and the classic ones too when classic),
// our rules and optionally an Alertmanager.
func promConfig(target, rules, alertmanager string, classic bool) string {
	c := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: cx-exporter
    scrape_native_histograms: true
    always_scrape_classic_histograms: %t
    static_configs: [{targets: [%q]}]
`, rules, classic, target)
	if alertmanager != "" {
		c += fmt.Sprintf("alerting:\n  alertmanagers: [{static_configs: [{targets: [%q]}]}]\n", alertmanager)
	}
	return c
}

func startPrometheus(t *testing.T, target, rules, alertmanager string, classic bool) *e2e.Process {
	dir := t.TempDir()
	cfg := e2e.WriteFile(t, dir, "prometheus.yml", promConfig(target, rules, alertmanager, classic))
	addr := e2e.FreeAddr(t)
	return e2e.StartProcess(t, addr, e2e.Tool(t, "prometheus"),
		"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
}

var (
	metricRe = regexp.MustCompile(`\b(helpdesk|billing|cx_exporter)_[a-z0-9_]+`)
	// recordedRe matches recording-rule names (level:metric:operations),
	// which name our rules' outputs, not exporter metrics.
	recordedRe = regexp.MustCompile(`[a-zA-Z_]*:[a-zA-Z0-9_:]*`)
)

// family strips the series suffixes of histograms.
func family(name string) string {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		if f, ok := strings.CutSuffix(name, s); ok && (strings.HasSuffix(f, "_seconds") || strings.HasSuffix(f, "_ticket") || strings.HasSuffix(f, "_score")) {
			return f
		}
	}
	return name
}

// plannedMetrics are the spec metrics docs/metrics.md lists as not yet
// exported: rules and panels may name them, and have no data until then.
func plannedMetrics(t *testing.T) map[string]bool {
	b, err := os.ReadFile(filepath.Join(e2e.Root(), "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "## Not yet exported")
	if !ok {
		t.Fatal(`docs/metrics.md has no "## Not yet exported" section`)
	}
	if i := strings.Index(after, "\n## "); i >= 0 {
		after = after[:i]
	}
	out := map[string]bool{}
	for _, m := range metricRe.FindAllString(after, -1) {
		out[m] = true
	}
	return out
}

// checkNames fails for every metric an expression names that the exporter
// does not expose (or that is not a documented planned metric); it reports
// whether the expression reads only exposed metrics.
// classicBucketRe finds a read of classic histogram buckets.
var classicBucketRe = regexp.MustCompile(`\(\w+_bucket\[`)

func checkNames(t *testing.T, where, expr string, exposed, planned map[string]bool) bool {
	t.Helper()
	// A rule comparing with the past has no data in a short test run.
	live := !strings.Contains(expr, " offset ")
	for _, m := range metricRe.FindAllString(recordedRe.ReplaceAllString(expr, ""), -1) {
		f := family(m)
		switch {
		case exposed[f]:
		case planned[f]:
			live = false
		default:
			t.Errorf("%s names %s, which the exporter does not expose", where, m)
		}
	}
	return live
}

func exposedFamilies(t *testing.T, exp *e2e.Exporter) map[string]bool {
	text, err := exp.Scrape()
	if err != nil {
		t.Fatal(err)
	}
	samples, err := e2e.Samples(text)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for k := range samples {
		out[family(strings.SplitN(k, "{", 2)[0])] = true
	}
	return out
}

type rulesAPI struct {
	Data struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name           string `json:"name"`
				Query          string `json:"query"`
				Type           string `json:"type"`
				Health         string `json:"health"`
				LastError      string `json:"lastError"`
				LastEvaluation string `json:"lastEvaluation"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"data"`
}

// TestStackRulesAndDashboards runs the demo, a real Prometheus with our
// rules, and checks that every rule group and every dashboard query finds
// data: once with native and classic histograms scraped
// (always_scrape_classic_histograms), once with native histograms only
// (Prometheus 3's default on protobuf scrapes).
func TestStackRulesAndDashboards(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name    string
		classic bool
	}{{"classic+native", true}, {"native-only", false}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			stackRulesAndDashboards(t, mode.classic)
		})
	}
}

func stackRulesAndDashboards(t *testing.T, classic bool) {
	exp := e2e.Start(t, []string{"CX_STATE_DIR=" + t.TempDir()}, "-demo")
	prom := startPrometheus(t, exp.Addr, filepath.Join(e2e.Root(), rulesFile), "", classic)
	// Let the demo move every metric and Prometheus gather 30 scrapes
	// (about 30 s; the deadline leaves room for a busy machine).
	deadline := time.Now().Add(180 * time.Second)
	for {
		q, err := e2e.Query(prom.Addr, `count(count_over_time(helpdesk_tickets_reopened_total[5m]) > 25) and count(increase(helpdesk_tickets_reopened_total[5m]) > 0)`)
		if err == nil && q.Status == "success" && len(q.Data.Result) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus has no demo data after 180s (%v)\n%s", err, prom.Logs())
		}
		time.Sleep(time.Second)
	}
	exposed, planned := exposedFamilies(t, exp), plannedMetrics(t)
	// What Prometheus stored: the native form of the duration histograms
	// always, their classic _bucket series only when asked to.
	for expr, want := range map[string]bool{
		`count(helpdesk_first_reply_seconds)`:        true,
		`count(helpdesk_first_reply_seconds_bucket)`: classic,
		`count(helpdesk_resolution_seconds_count)`:   classic,
	} {
		q, err := e2e.Query(prom.Addr, expr)
		if err != nil || q.Status != "success" {
			t.Fatalf("%s: %v %v", expr, err, q)
		}
		if got := len(q.Data.Result) > 0; got != want {
			t.Fatalf("%s has data: %v, want %v (always_scrape_classic_histograms: %v)", expr, got, want, classic)
		}
	}

	var rules rulesAPI
	if err := e2e.GetJSON("http://"+prom.Addr+"/api/v1/rules", &rules); err != nil {
		t.Fatal(err)
	}
	if len(rules.Data.Groups) == 0 {
		t.Fatal("Prometheus loaded no rule group")
	}
	records := 0
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			where := fmt.Sprintf("rule %s/%s", g.Name, r.Name)
			if r.Health != "ok" || r.LastError != "" {
				t.Errorf("%s: health %q, error %q", where, r.Health, r.LastError)
			}
			live := checkNames(t, where, r.Query, exposed, planned)
			if r.Type != "recording" {
				continue
			}
			records++
			q, err := e2e.Query(prom.Addr, r.Name)
			// A rule on classic buckets alone (the agents' first-reply
			// buckets) has a native twin that carries the data when only
			// native histograms are scraped.
			classicOnly := !strings.Contains(r.Query, " or ") && classicBucketRe.MatchString(r.Query)
			switch {
			case err != nil || q.Status != "success":
				t.Errorf("%s: query failed: %v %v", where, err, q)
			case live && classicOnly && !classic:
				if len(q.Data.Result) != 0 {
					t.Errorf("%s: %d series from classic buckets on a native-only scrape", where, len(q.Data.Result))
				}
			case live && len(q.Data.Result) == 0:
				t.Errorf("%s: no series", where)
			}
		}
	}
	t.Logf("%d rule groups, %d recording rules evaluated", len(rules.Data.Groups), records)

	queries, err := dashboards.Queries(filepath.Join(e2e.Root(), "dashboards"))
	if err != nil {
		t.Fatal(err)
	}
	if len(queries) == 0 {
		t.Fatal("no dashboard query found")
	}
	vars := strings.NewReplacer("$__rate_interval", "1m", "${__rate_interval}", "1m", "$__range", "5m", "$__interval", "15s",
		"$job", ".+", "${job}", ".+", "$instance", ".+", "${instance}", ".+",
		"$source", ".+", "${source}", ".+", "$priority", ".*", "${priority}", ".*",
		"$channel", ".*", "${channel}", ".*", "$group", ".*", "${group}", ".*", "$ticket_type", ".*", "${ticket_type}", ".*", "$assignee", ".*", "${assignee}", ".*", "${__range_s}", "300", "$hours", "calendar", "${hours}", "calendar", "$currency", ".*", "${currency}", ".*")
	for _, q := range queries {
		where := fmt.Sprintf("dashboard %s panel %q %s", q.Dashboard, q.Panel, q.RefID)
		expr := vars.Replace(q.Expr)
		if strings.Contains(expr, "$") {
			t.Errorf("%s: unsubstituted variable in %s", where, expr)
			continue
		}
		live := checkNames(t, where, expr, exposed, planned)
		res, err := e2e.Query(prom.Addr, expr)
		switch {
		case err != nil || res.Status != "success":
			t.Errorf("%s: %v %s %s\n%s", where, err, res.ErrorType, res.Error, expr)
		case live && len(res.Data.Result) == 0:
			t.Errorf("%s: no data\n%s", where, expr)
		}
	}
	t.Logf("%d dashboard queries ran", len(queries))
}

// TestStackBacklogSpikeAlert drives a backlog spike through the fake
// Zendesk and waits for a real Alertmanager to deliver HelpdeskBacklogSpike
// to a webhook, with a copy of the rules whose for: is shortened.
func TestStackBacklogSpikeAlert(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	short := filepath.Join(dir, "short.rules.yml")
	gen := exec.Command(e2e.Binary(t), "rules", "-short-for", "-o", short)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("cx-exporter rules -short-for: %v\n%s", err, out)
	}

	var mu sync.Mutex
	var delivered []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []struct {
				Status string            `json:"status"`
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err == nil {
			mu.Lock()
			for _, a := range msg.Alerts {
				delivered = append(delivered, a.Status+" "+a.Labels["alertname"]+" "+a.Labels["severity"])
			}
			mu.Unlock()
		}
	}))
	defer hook.Close()
	amAddr := e2e.FreeAddr(t)
	// Routed by the category label, as a support team's route would be.
	amCfg := e2e.WriteFile(t, dir, "alertmanager.yml", fmt.Sprintf(`route:
  receiver: nobody
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['category="support"']
      receiver: hook
receivers:
  - name: nobody
  - name: hook
    webhook_configs: [{url: %q, send_resolved: false}]
`, hook.URL))
	e2e.StartProcess(t, amAddr, e2e.Tool(t, "alertmanager"), "--config.file="+amCfg,
		"--storage.path="+filepath.Join(dir, "am"), "--web.listen-address="+amAddr, "--cluster.listen-address=")

	zd := fakezendesk.NewServer(fakezendesk.Options{Email: "spike@example.invalid", APIToken: "spike-fixture-token", NoRateLimit: true})
	defer zd.Close()
	exp := e2e.Start(t, []string{"CX_STATE_DIR=" + dir + "/state", "CX_ZENDESK_URL=" + zd.URL, "CX_ZENDESK_EMAIL=spike@example.invalid",
		"CX_ZENDESK_API_TOKEN=spike-fixture-token", "CX_POLL_INTERVAL=1s", "CX_ZENDESK_EXPORT_RATE=600"})
	prom := startPrometheus(t, exp.Addr, short, amAddr, true)

	firing := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, d := range delivered {
			if strings.HasPrefix(d, "firing HelpdeskBacklogSpike") {
				out = append(out, d)
			}
		}
		return out
	}
	// A quiet account: 3 open tickets, no page.
	for i := range 3 {
		zd.Put(fakezendesk.Ticket{ID: int64(i + 1), Status: "open", Priority: "normal", Channel: "email", CreatedAt: time.Now().UTC()})
	}
	time.Sleep(20 * time.Second)
	if f := firing(); len(f) > 0 {
		t.Fatalf("HelpdeskBacklogSpike fired on a quiet backlog: %v", f)
	}
	// The spike: 200 tickets arrive.
	for i := range 200 {
		zd.Put(fakezendesk.Ticket{ID: int64(100 + i), Status: "new", Priority: "high", Channel: "web", CreatedAt: time.Now().UTC()})
	}
	deadline := time.Now().Add(2 * time.Minute)
	for len(firing()) == 0 {
		if time.Now().After(deadline) {
			q, _ := e2e.Query(prom.Addr, `ALERTS`)
			t.Fatalf("no HelpdeskBacklogSpike delivered within 2 minutes; delivered %v; ALERTS %v", delivered, q)
		}
		time.Sleep(500 * time.Millisecond)
	}
	got := firing()
	// A business alert: a ticket (warning) by default, not a page.
	if !slices.ContainsFunc(got, func(s string) bool { return strings.HasSuffix(s, " warning") }) {
		t.Errorf("HelpdeskBacklogSpike delivered without severity warning: %v", got)
	}
}
