package source_test

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// BenchmarkTicketTimelines builds the versions source.Timeline holds for
// 100,000 tickets (created, answered, solved, rated, updated: 5 versions
// each, the most TicketVersions makes without status changes) and reports
// the heap they keep.
func BenchmarkTicketTimelines(b *testing.B) {
	const n = 100_000
	tickets := make([]helpdesk.Ticket, n)
	for i := range tickets {
		c := t0.Add(time.Duration(i) * time.Minute)
		tickets[i] = helpdesk.Ticket{ID: strconv.Itoa(1_000_000 + i), Status: helpdesk.StatusClosed, Priority: "normal", Channel: "email",
			Type: "question", Group: "4200001", Assignee: "Agent Name", CreatedAt: c, UpdatedAt: c.Add(5 * time.Hour),
			FirstReplyAt: c.Add(time.Hour), Replied: true, SolvedAt: c.Add(3 * time.Hour), Satisfaction: helpdesk.RatingGood,
			SatisfactionAt: c.Add(4 * time.Hour), AgentReplies: -1, Reopens: -1}
	}
	var ms0, ms1 runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		vs := source.TicketTimelines(tickets, nil)
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/float64(len(vs)), "heapB/version")
		b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/1e6, "heapMB/100k-tickets")
		runtime.KeepAlive(vs)
	}
}
