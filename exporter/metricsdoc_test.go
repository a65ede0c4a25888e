package exporter_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/cx-exporter/cx-exporter/collectors/all"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/exporter"
)

// metricsDocPath is the metrics reference checked by TestMetricsDoc.
const metricsDocPath = "../docs/metrics.md"

// docTicketLabels is what `<ticket labels>` in the doc stands for: the
// labels the test configures.
var docTicketLabels = []string{"priority", "channel"}

// family is what the doc and the code must agree on for one metric family.
type family struct {
	typ    string   // gauge, counter, histogram, …
	labels []string // sorted; without le
}

func (f family) String() string {
	return fmt.Sprintf("%s {%s}", f.typ, strings.Join(f.labels, ", "))
}

// TestMetricsDoc checks that the main table of docs/metrics.md lists
// exactly the metric families the code exports, with their types and label
// names.
func TestMetricsDoc(t *testing.T) {
	doc, err := parseMetricsDoc(metricsDocPath)
	if err != nil {
		t.Fatal(err)
	}
	code := map[string]family{}
	add := func(origin string, mfs map[string]*dto.MetricFamily) {
		for name, mf := range mfs {
			if ignoredFamily(name) {
				continue
			}
			f := familyOf(mf)
			if prev, ok := code[name]; ok && (prev.typ != f.typ || !slices.Equal(prev.labels, f.labels)) {
				t.Errorf("%s: %s exports %s, elsewhere the code exports %s", name, origin, f, prev)
				continue
			}
			code[name] = f
		}
	}
	add("the helpdesk collector", helpdeskFamilies(t))
	add("the exporter's /metrics", exporterFamilies(t))
	t.Logf("%d metric families exported, %d in the doc's table", len(code), len(doc))

	for _, name := range sortedKeys(code) {
		want := code[name]
		got, ok := doc[name]
		switch {
		case !ok:
			t.Errorf("%s (%s) is exported but missing from %s", name, want, metricsDocPath)
		case got.typ != want.typ:
			t.Errorf("%s: %s says type %s, the code exports %s", name, metricsDocPath, got.typ, want.typ)
		case !slices.Equal(got.labels, want.labels):
			t.Errorf("%s: %s lists labels {%s}, the code exports {%s}", name, metricsDocPath,
				strings.Join(got.labels, ", "), strings.Join(want.labels, ", "))
		}
	}
	for _, name := range sortedKeys(doc) {
		if _, ok := code[name]; !ok {
			t.Errorf("%s is in the main table of %s but the code does not export it (list it under \"Not yet exported\")", name, metricsDocPath)
		}
	}
}

func ignoredFamily(name string) bool {
	for _, p := range []string{"go_", "process_", "promhttp_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func familyOf(mf *dto.MetricFamily) family {
	seen := map[string]bool{}
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			if n := lp.GetName(); n != model.BucketLabel {
				seen[n] = true
			}
		}
	}
	return family{typ: strings.ToLower(mf.GetType().String()), labels: sortedKeys(seen)}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// memRecords is an in-memory helpdesk.Records.
type memRecords map[string][]byte

func (m memRecords) Get(id string) []byte { return m[id] }

func (m memRecords) Put(id string, v []byte) error {
	m[id] = v
	return nil
}

// helpdeskFamilies gathers a helpdesk collector fed with a few tickets, so
// that every helpdesk family has a sample.
func helpdeskFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	labels, err := helpdesk.ParseLabelSet(strings.Join(docTicketLabels, ","))
	if err != nil {
		t.Fatal(err)
	}
	watermark := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	tr := helpdesk.NewTracker(helpdesk.Config{
		Labels:            labels,
		MaxLabelValues:    50,
		Watermark:         watermark,
		FirstReplyTargets: map[string]time.Duration{helpdesk.PriorityNormal: 8 * time.Hour},
		ResolutionTargets: map[string]time.Duration{helpdesk.PriorityNormal: 24 * time.Hour},
	})
	wait := helpdesk.Durations{Calendar: time.Minute, CalendarKnown: true}
	created := watermark.Add(time.Hour)
	tickets := []helpdesk.Ticket{
		{ // solved with one reply and rated: every counter and histogram
			ID: "1", Status: helpdesk.StatusSolved, Priority: helpdesk.PriorityNormal, Channel: "email", Type: "question",
			CreatedAt: created, UpdatedAt: created.Add(3 * time.Hour),
			FirstReplyAt: created.Add(30 * time.Minute), Replied: true,
			SolvedAt: created.Add(2 * time.Hour), AgentReplies: 1, Reopens: 0,
			Satisfaction: helpdesk.RatingGood, SatisfactionAt: created.Add(3 * time.Hour),
			RequesterWait: wait, AgentWait: wait, OnHold: wait,
		},
		{ // open and awaiting a first reply: every backlog gauge
			ID: "2", Status: helpdesk.StatusOpen, Priority: helpdesk.PriorityNormal, Channel: "email", Type: "incident",
			CreatedAt: created, UpdatedAt: created, Reopens: -1,
		},
	}
	b := tr.Begin()
	rec := memRecords{}
	for i := range tickets {
		if _, err := b.Apply(rec, &tickets[i]); err != nil {
			t.Fatalf("ticket %s: %v", tickets[i].ID, err)
		}
	}
	tr.Publish(b)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(tr.Collector("zendesk", func() time.Time { return created.Add(10 * time.Hour) }))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// exporterFamilies runs the exporter in demo mode until its first sync
// succeeded, and parses its /metrics.
func exporterFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	for k, v := range map[string]string{
		"CX_STATE_DIR":         t.TempDir(),
		"CX_LISTEN_ADDRESS":    "127.0.0.1:0",
		"CX_TICKET_LABELS":     strings.Join(docTicketLabels, ","),
		"CX_POLL_INTERVAL":     "5s",
		"CX_WEB_CONFIG_FILE":   "",
		"CX_ZENDESK_URL":       "",
		"CX_ZENDESK_SUBDOMAIN": "",
	} {
		t.Setenv(k, v)
	}
	cfg, err := exporter.Load(true)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		t.Fatal(err)
	}
	if err := exporter.StartDemo(ctx, cfg, logger, l.Addr().String()); err != nil {
		t.Fatal(err)
	}
	e, err := exporter.New(cfg, logger, exporter.Build{Version: "t", Revision: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, l) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return within 30s of cancel")
		}
	}()

	url := "http://" + l.Addr().String() + "/metrics"
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Ready: every source (helpdesk and billing) has synced once.
		// Ready first, then the scrape: a scrape taken before the
		// readiness check may predate the sync that ended the backfill,
		// with the gauges still withheld.
		var err error
		if r, rerr := http.Get(strings.TrimSuffix(url, "/metrics") + "/-/ready"); rerr == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				var mfs map[string]*dto.MetricFamily
				if mfs, err = scrape(url); err == nil {
					return mfs
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful sync within 30s (last scrape error: %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func scrape(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("%s: %s: %s", url, resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

var (
	docHeader = regexp.MustCompile(`^\|\s*metric\s*\|\s*type\s*\|\s*labels\s*\|\s*meaning\s*\|\s*$`)
	backticks = regexp.MustCompile("`([^`]+)`")
)

// parseMetricsDoc reads the doc's main table: the first one whose header
// is `metric | type | labels | meaning`.
func parseMetricsDoc(path string) (map[string]family, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(b), "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return docHeader.MatchString(strings.TrimSpace(l)) })
	if start < 0 {
		return nil, fmt.Errorf("%s: no table with the header | metric | type | labels | meaning |", path)
	}
	out := map[string]family{}
	for i := start + 2; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 {
			return nil, fmt.Errorf("%s:%d: want 4 cells, got %d (a | inside a cell?)", path, i+1, len(cells))
		}
		names := backticks.FindAllStringSubmatch(cells[0], -1)
		if len(names) != 1 {
			return nil, fmt.Errorf("%s:%d: want one `metric_name` in the first cell", path, i+1)
		}
		name := names[0][1]
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s:%d: %s listed twice", path, i+1, name)
		}
		seen := map[string]bool{}
		for _, m := range backticks.FindAllStringSubmatch(cells[2], -1) {
			if m[1] == "<ticket labels>" {
				for _, l := range docTicketLabels {
					seen[l] = true
				}
				continue
			}
			seen[m[1]] = true
		}
		typ := strings.ToLower(strings.Trim(strings.TrimSpace(cells[1]), "`"))
		out[name] = family{typ: typ, labels: sortedKeys(seen)}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: the metrics table is empty", path)
	}
	return out, nil
}
