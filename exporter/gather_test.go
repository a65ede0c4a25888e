package exporter

import (
	"compress/gzip"
	"context"
	"io"
	"maps"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

// benchWatermark is the watermark of the test trackers below.
var benchWatermark = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// trackerSource is a fake source named zendesk whose collector is a
// helpdesk engine's (gathered directly) holding tickets, its clock three
// hours past the watermark.
func trackerSource(tb testing.TB, labels string, tickets []helpdesk.Ticket) *fakeSource {
	tb.Helper()
	ls, err := helpdesk.ParseLabelSet(labels)
	if err != nil {
		tb.Fatal(err)
	}
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls, Watermark: benchWatermark})
	b := tr.Begin()
	if err := b.ApplyAll(memRecords{}, tickets, func(tk *helpdesk.Ticket, err *helpdesk.InvalidError) { tb.Fatalf("%s: %v", tk.ID, err) }); err != nil {
		tb.Fatal(err)
	}
	tr.Publish(b)
	c := tr.Collector("zendesk", func() time.Time { return benchWatermark.Add(3 * time.Hour) })
	if _, ok := any(c).(prometheus.Gatherer); !ok {
		tb.Fatal("the helpdesk collector is no longer a Gatherer: this test no longer covers the direct path")
	}
	return &fakeSource{c: c, sync: func(context.Context) error { return nil }}
}

// helpdeskSource is a trackerSource with one open and one solved, rated
// ticket.
func helpdeskSource(t *testing.T) *fakeSource {
	wm := benchWatermark
	return trackerSource(t, "priority", []helpdesk.Ticket{
		{ID: "1", Status: helpdesk.StatusOpen, Priority: "high", Channel: "email", Type: "question", CreatedAt: wm.Add(time.Hour), UpdatedAt: wm.Add(time.Hour)},
		{ID: "2", Status: helpdesk.StatusSolved, Priority: "high", Channel: "email", Type: "question", CreatedAt: wm.Add(time.Hour), UpdatedAt: wm.Add(2 * time.Hour),
			SolvedAt: wm.Add(2 * time.Hour), Satisfaction: helpdesk.RatingGood},
	})
}

var surveyRatings = prometheus.NewDesc("helpdesk_satisfaction_ratings_total", "Satisfaction ratings received.",
	[]string{"priority", "rating"}, prometheus.Labels{"source": "survey"})

// TestGatherMergesDirectSources: a helpdesk source (rendered directly) and a
// registry-collected source rendering the same family give one family with
// both sources' series; families come sorted; the helpdesk's gauges are
// withheld during its first backfill as every source's are.
func TestGatherMergesDirectSources(t *testing.T) {
	survey := &fakeSource{sync: func(context.Context) error { return nil }, c: &fixedCollector{
		descs: []*prometheus.Desc{surveyRatings},
		metrics: func() []prometheus.Metric {
			return []prometheus.Metric{prometheus.MustNewConstMetric(surveyRatings, prometheus.CounterValue, 4, "none", "good")}
		},
	}}
	e := newTestExporter(t, t.TempDir(), map[string]*fakeSource{"zendesk": helpdeskSource(t), "survey": survey})

	code, body := scrape(t, e)
	if code != 200 {
		t.Fatalf("/metrics = %d:\n%s", code, body)
	}
	if strings.Contains(body, "helpdesk_open_tickets{") {
		t.Error("backlog gauges shown during the first backfill")
	}
	if !strings.Contains(body, `helpdesk_tickets_solved_total{priority="high",source="zendesk"} 1`) {
		t.Errorf("counters withheld during the first backfill:\n%s", body)
	}

	for _, s := range e.sources {
		e.syncOnce(context.Background(), s)
	}
	code, body = scrape(t, e)
	if code != 200 {
		t.Fatalf("/metrics = %d:\n%s", code, body)
	}
	for _, want := range []string{
		`helpdesk_open_tickets{priority="high",source="zendesk",status="open"} 1`,
		`helpdesk_satisfaction_ratings_total{priority="high",rating="good",source="zendesk"} 1`,
		`helpdesk_satisfaction_ratings_total{priority="none",rating="good",source="survey"} 4`,
		`cx_exporter_source_up{kind="fake",source="zendesk"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "# TYPE helpdesk_satisfaction_ratings_total "); n != 1 {
		t.Errorf("helpdesk_satisfaction_ratings_total declared %d times", n)
	}
	mfs, err := e.gather.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(mfs); i++ {
		if mfs[i-1].GetName() >= mfs[i].GetName() {
			t.Errorf("families out of order: %s before %s", mfs[i-1].GetName(), mfs[i].GetName())
		}
	}
}

// panickyGatherer is a direct source that panics while rendering.
type panickyGatherer struct{ panicky }

func (panickyGatherer) Gather() ([]*dto.MetricFamily, error) { panic("render failed") }

var conflicting = prometheus.NewDesc("helpdesk_tickets_reopened_total", "Wrong type.", nil, prometheus.Labels{"source": "other"})

// TestGatherSurvivesBadDirectSources: a direct source that panics loses
// its own series only, and a family rendered with two types keeps the
// first source's ("other" is added before "zendesk") and reports the
// second; /metrics still answers 200.
func TestGatherSurvivesBadDirectSources(t *testing.T) {
	ok := func(context.Context) error { return nil }
	e := newTestExporter(t, t.TempDir(), map[string]*fakeSource{
		"zendesk": helpdeskSource(t),
		"broken":  {c: panickyGatherer{}, sync: ok},
		"other": {c: &fixedCollector{descs: []*prometheus.Desc{conflicting}, metrics: func() []prometheus.Metric {
			return []prometheus.Metric{prometheus.MustNewConstMetric(conflicting, prometheus.GaugeValue, 1)}
		}}, sync: ok},
	})
	for _, s := range e.sources {
		e.syncOnce(context.Background(), s)
	}
	code, body := scrape(t, e)
	if code != 200 {
		t.Fatalf("/metrics = %d:\n%s", code, body)
	}
	if !strings.Contains(body, `helpdesk_tickets_solved_total{priority="high",source="zendesk"} 1`) {
		t.Errorf("the good source's series are missing:\n%s", body)
	}
	if strings.Contains(body, "render failed") {
		t.Errorf("the panic shows:\n%s", body)
	}
	if n := strings.Count(body, "# TYPE helpdesk_tickets_reopened_total "); n != 1 || strings.Contains(body, `helpdesk_tickets_reopened_total{priority="high"`) {
		t.Errorf("helpdesk_tickets_reopened_total declared %d times, or with both types' series:\n%s", n, body)
	}
	if _, err := e.gather.Gather(); err == nil || !strings.Contains(err.Error(), "helpdesk_tickets_reopened_total") {
		t.Errorf("the type conflict is not reported: %v", err)
	}
}

// TestMetricsGzip: /metrics is gzipped for a client that asks, as
// Prometheus does, and the page inside is the uncompressed one; a client
// that does not ask, or refuses gzip, gets it uncompressed.
func TestMetricsGzip(t *testing.T) {
	e := newTestExporter(t, t.TempDir(), map[string]*fakeSource{"zendesk": helpdeskSource(t)})
	e.syncOnce(context.Background(), e.sources[0])
	get := func(acceptEncoding string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		rec := httptest.NewRecorder()
		e.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("/metrics (Accept-Encoding %q) = %d", acceptEncoding, rec.Code)
		}
		return rec
	}
	families := func(body io.Reader) map[string]int {
		p := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := p.TextToMetricFamilies(body)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for name, mf := range mfs {
			if !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") && !strings.HasPrefix(name, "promhttp_") {
				out[name] = len(mf.Metric)
			}
		}
		return out
	}
	plain := get("")
	if enc := plain.Header().Get("Content-Encoding"); enc != "" {
		t.Fatalf("uncompressed request answered with Content-Encoding %q", enc)
	}
	plainLen := plain.Body.Len()
	want := families(plain.Body)
	if want["helpdesk_tickets_solved_total"] == 0 {
		t.Fatalf("the page lacks the helpdesk families: %v", want)
	}
	zipped := get("gzip")
	if enc := zipped.Header().Get("Content-Encoding"); enc != "gzip" {
		t.Fatalf("Accept-Encoding gzip answered with Content-Encoding %q", enc)
	}
	if zipped.Body.Len() >= plainLen {
		t.Errorf("gzipped page %d bytes, uncompressed %d", zipped.Body.Len(), plainLen)
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := families(zr); !maps.Equal(got, want) {
		t.Errorf("gzipped page's families %v, want %v", got, want)
	}
	if enc := get("gzip;q=0").Header().Get("Content-Encoding"); enc == "gzip" {
		t.Error("gzip sent to a client that refuses it")
	}
}
