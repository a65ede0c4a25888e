package exporter

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

// BenchmarkMetricsHandler measures whole /metrics requests to the exporter's
// handler (its own metrics, Go and process collectors, promhttp
// instrumentation, content negotiation) with one helpdesk source exposing
// about 10,000 series (5 priorities x 5 channels x 4 groups, open and
// solved tickets): as text, protobuf and OpenMetrics (the formats
// Prometheus negotiates) and as text with gzip, which Prometheus also asks
// for (compression is promhttp's, at gzip's default level). It reports the
// response's series (sample lines of the text body) and bytes.
func BenchmarkMetricsHandler(b *testing.B) {
	tickets := benchTickets()
	src := trackerSource(b, "priority,channel,group", tickets)
	e := newTestExporter(b, b.TempDir(), map[string]*fakeSource{"zendesk": src})
	e.syncOnce(context.Background(), e.sources[0]) // first backfill done: gauges shown
	h := e.Handler()
	for _, f := range []struct{ name, accept, encoding string }{
		{"text", "text/plain", ""},
		{"protobuf", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", ""},
		{"openmetrics", "application/openmetrics-text;version=1.0.0", ""},
		{"text-gzip", "text/plain", "gzip"},
	} {
		b.Run(f.name, func(b *testing.B) {
			var bytes, series int
			for range b.N {
				req := httptest.NewRequest("GET", "/metrics", nil)
				req.Header.Set("Accept", f.accept)
				if f.encoding != "" {
					req.Header.Set("Accept-Encoding", f.encoding)
				}
				if series == 0 && f.name == "text" {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					series = sampleLines(rec.Body.String())
				}
				w := &countingWriter{header: http.Header{}}
				h.ServeHTTP(w, req)
				if w.code != 200 {
					b.Fatalf("/metrics = %d", w.code)
				}
				bytes = w.n
			}
			b.ReportMetric(float64(bytes), "bytes")
			if series > 0 {
				b.ReportMetric(float64(series), "series")
			}
		})
	}
}

// benchTickets are 2,000 tickets over 5 priorities x 5 channels x 4
// groups, a quarter open, the others replied to, solved and rated: about
// 10,000 series with the labels priority,channel,group.
func benchTickets() []helpdesk.Ticket {
	wm := benchWatermark
	channels := []string{"email", "web", "chat", "phone", "api"}
	tickets := make([]helpdesk.Ticket, 2000)
	for i := range tickets {
		created := wm.Add(time.Minute)
		t := helpdesk.Ticket{ID: strconv.Itoa(i), Status: helpdesk.StatusOpen, Priority: helpdesk.Priorities[i%5],
			Channel: channels[(i/5)%5], Type: "question", Group: strconv.Itoa((i / 25) % 4), CreatedAt: created, UpdatedAt: created}
		if i%4 != 0 {
			t.Status, t.Replied, t.AgentReplies, t.SolvedAt = helpdesk.StatusSolved, true, 1+i%3, created.Add(time.Hour)
			t.UpdatedAt = t.SolvedAt
			t.FirstReply = helpdesk.Durations{Calendar: 30 * time.Minute, Business: 20 * time.Minute, CalendarKnown: true, BusinessKnown: true}
			t.Resolution = helpdesk.Durations{Calendar: time.Hour, Business: 40 * time.Minute, CalendarKnown: true, BusinessKnown: true}
			t.Satisfaction = helpdesk.Rating(1 + i%3)
		}
		tickets[i] = t
	}
	return tickets
}

// countingWriter is a ResponseWriter that keeps only the status and the
// body's length, as a network connection would not grow a buffer.
type countingWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *countingWriter) Header() http.Header { return w.header }

func (w *countingWriter) WriteHeader(code int) { w.code = code }

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	w.n += len(p)
	return len(p), nil
}

// sampleLines counts the sample lines of a text exposition.
func sampleLines(body string) int {
	n := 0
	for _, line := range strings.Split(body, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}
