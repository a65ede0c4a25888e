package e2e_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

// benchAccount scripts n tickets over days days before end on zd: each
// created at a random time, answered an hour later, solved four hours
// after that; 30% rated, 10% reopened the next day and solved again.
// Returns the number of audits.
func benchAccount(zd *fakezendesk.Server, n, days int, end time.Time) int {
	rng := rand.New(rand.NewPCG(1, 2))
	type action struct {
		at time.Time
		fn func()
	}
	var acts []action
	day0 := end.Add(-time.Duration(days) * 24 * time.Hour)
	priorities := []string{"urgent", "high", "normal", "normal", "low", ""}
	channels := []string{"web", "email", "chat", "api"}
	reply := fakezendesk.Comment{AuthorID: 361000000001, Public: true, Body: "ok"}
	status := func(s string) func(*fakezendesk.Ticket) { return func(t *fakezendesk.Ticket) { t.Status = s } }
	for i := 1; i <= n; i++ {
		id := int64(i)
		c := day0.Add(time.Duration(rng.Int64N(int64(days)*86400-2*86400)) * time.Second)
		tk := fakezendesk.Ticket{ID: id, Priority: priorities[rng.IntN(len(priorities))], Channel: channels[rng.IntN(len(channels))], Subject: "s"}
		acts = append(acts, action{c, func() { zd.CreateTicket(tk, c) }},
			action{c.Add(time.Hour), func() { zd.UpdateTicket(id, c.Add(time.Hour), status("open"), reply) }},
			action{c.Add(5 * time.Hour), func() { zd.UpdateTicket(id, c.Add(5*time.Hour), status("solved")) }})
		if rng.IntN(10) < 3 {
			acts = append(acts, action{c.Add(6 * time.Hour), func() {
				zd.UpdateTicket(id, c.Add(6*time.Hour), func(t *fakezendesk.Ticket) { t.Satisfaction = "good" })
			}})
		}
		if rng.IntN(10) == 0 {
			acts = append(acts, action{c.Add(30 * time.Hour), func() { zd.UpdateTicket(id, c.Add(30*time.Hour), status("open")) }},
				action{c.Add(32 * time.Hour), func() { zd.UpdateTicket(id, c.Add(32*time.Hour), status("solved"), reply) }})
		}
	}
	slices.SortStableFunc(acts, func(a, b action) int { return a.at.Compare(b.at) })
	for _, a := range acts {
		a.fn()
	}
	return len(acts)
}

// BenchmarkBackfillZendesk backfills a BENCH_TICKETS-ticket (default
// 100,000) account's 90 days from the fake Zendesk with the real binary,
// and reports the backfill process's peak RSS, its requests, its output
// and samples. The fake answers without a rate limit: the time is the
// backfill's own; at Zendesk's 10 requests/minute the reads take
// requests/10 minutes (docs/backfill.md).
//
//	go test -run '^$' -bench BackfillZendesk -benchtime 1x -timeout 60m ./internal/e2e/
func BenchmarkBackfillZendesk(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_TICKETS")); err == nil && v > 0 {
		n = v
	}
	labels := os.Getenv("BENCH_LABELS")
	if labels == "" {
		labels = "priority,channel"
	}
	end := time.Now().UTC().Truncate(time.Hour)
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: "b@example.invalid", APIToken: "bench-token-not-a-secret", NoRateLimit: true})
	defer zd.Close()
	audits := benchAccount(zd, n, 90, end)
	bin := e2e.Binary(b)
	b.ResetTimer()
	for range b.N {
		out := b.TempDir()
		cmd := exec.Command(bin, "backfill", "--since=90d", "--until="+end.Format(time.RFC3339), "--out="+out)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CX_ZENDESK_URL=" + zd.URL, "CX_ZENDESK_EMAIL=b@example.invalid",
			"CX_ZENDESK_API_TOKEN=bench-token-not-a-secret", "CX_ZENDESK_EXPORT_RATE=1000000", "CX_TICKET_LABELS=" + labels}
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// The child's rusage is no measure: os/exec starts it with vfork,
		// which charges it the test process's memory (the fake account)
		// until it execs. /proc's VmHWM belongs to the new program alone.
		hwm, done := 0, make(chan struct{})
		go func() {
			defer close(done)
			for {
				st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
				if err != nil {
					return
				}
				if m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(st); m != nil {
					v, _ := strconv.Atoi(string(m[1]))
					hwm = max(hwm, v)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		err := cmd.Wait()
		<-done
		res := stdout.Bytes()
		if err != nil {
			b.Fatalf("backfill: %v\n%s", err, res)
		}
		b.StopTimer()
		m := regexp.MustCompile(`(\d+) samples, (\d+) changes, (\d+) requests`).FindSubmatch(res)
		if m == nil {
			b.Fatalf("backfill output: %s", res)
		}
		samples, _ := strconv.ParseFloat(string(m[1]), 64)
		requests, _ := strconv.ParseFloat(string(m[3]), 64)
		var size int64
		files, _ := filepath.Glob(filepath.Join(out, "*.om"))
		for _, f := range files {
			if st, err := os.Stat(f); err == nil {
				size += st.Size()
			}
		}
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MB")
		b.ReportMetric(requests, "requests")
		b.ReportMetric(samples, "samples")
		b.ReportMetric(float64(size)/(1<<20), "output-MB")
		b.ReportMetric(float64(audits), "audits")
		fmt.Fprintf(os.Stderr, "%d tickets, %d audits: %s", n, audits, res)
		os.RemoveAll(out)
		b.StartTimer()
	}
}
