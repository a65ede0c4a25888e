package e2e_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakechargebee "github.com/cx-exporter/cx-exporter/internal/fake/chargebee"
	fakefreshdesk "github.com/cx-exporter/cx-exporter/internal/fake/freshdesk"
)

// TestBackfillTimelineVendors backfills a Freshdesk account and a
// Chargebee site (vendors whose records keep timestamps, not a change
// history: source.Timeline) over 20 scripted days through the real
// binary, imports the files with promtool into a real Prometheus and
// checks past days and instants against the hand-computed truth.
//
// Freshdesk, every day d from day0: A (normal/email) created 08:00, first
// response 09:00, resolved 11:00, rated happy at 12:00 on even days; on
// days d%5 == 0 A is open again at 15:00 (and stays open); on days
// d%3 == 0, B (high/portal) created 10:00, never answered.
//
// Chargebee: S1 $50 from day0-5d; S2 $30 with a trial from day 2 to day 9
// (12:00), then active; S3 $20 from day 5, cancelled day 12; S4 $100 from
// day 14.
func TestBackfillTimelineVendors(t *testing.T) {
	t.Parallel()
	const days = 20
	day0 := time.Now().UTC().Truncate(24 * time.Hour).Add(-days * 24 * time.Hour)
	at := func(d, hh, mm int) time.Time {
		return day0.Add(time.Duration(d)*24*time.Hour + time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
	}
	fd := fakefreshdesk.NewServer(fakefreshdesk.Options{APIKey: "e2e-key-not-a-secret", NoRateLimit: true, PageSize: 30})
	t.Cleanup(fd.Close)
	id := int64(0)
	for d := range days {
		id++
		a := fakefreshdesk.Ticket{ID: id, Status: 4, Priority: 2, Source: 1, CreatedAt: at(d, 8, 0), UpdatedAt: at(d, 11, 0),
			Stats: fakefreshdesk.Stats{FirstRespondedAt: at(d, 9, 0), ResolvedAt: at(d, 11, 0)}}
		if d%5 == 0 {
			a.Status, a.UpdatedAt, a.Stats.ReopenedAt = 2, at(d, 15, 0), at(d, 15, 0)
		}
		fd.Put(a)
		if d%2 == 0 {
			fd.RateAt(a.ID, 103, at(d, 12, 0))
		}
		if d%3 == 0 {
			id++
			fd.Put(fakefreshdesk.Ticket{ID: id, Status: 2, Priority: 3, Source: 2, CreatedAt: at(d, 10, 0), UpdatedAt: at(d, 10, 0)})
		}
	}
	cb := fakechargebee.NewServer(fakechargebee.Options{APIKey: "e2e-key-not-a-secret", Start: at(-5, 12, 0)})
	t.Cleanup(cb.Close)
	to := func(d int) { cb.Advance(at(d, 12, 0).Sub(cb.Now())) }
	sub := func(id, status string, mrr int64) fakechargebee.Subscription {
		return fakechargebee.Subscription{ID: id, CustomerID: "cus_" + id, Status: status, MRR: fakechargebee.Int64(mrr), PlanID: "plan",
			CreatedAt: cb.Now(), StartedAt: cb.Now()}
	}
	cb.Put(sub("S1", "active", 5000))
	to(2)
	s2 := sub("S2", "in_trial", 3000)
	s2.TrialStart, s2.TrialEnd = at(2, 12, 0), at(9, 12, 0)
	cb.Put(s2)
	to(5)
	s3 := sub("S3", "active", 2000)
	cb.Put(s3)
	to(9)
	s2.Status, s2.ActivatedAt = "active", at(9, 12, 0)
	cb.Put(s2)
	to(12)
	s3.Status, s3.CancelledAt = "cancelled", at(12, 12, 0)
	cb.Put(s3)
	to(14)
	cb.Put(sub("S4", "active", 10000))
	to(days)

	out := t.TempDir()
	env := []string{"CX_STATE_DIR=" + t.TempDir(), "CX_FRESHDESK_URL=" + fd.URL, "CX_FRESHDESK_API_KEY=e2e-key-not-a-secret",
		"CX_CHARGEBEE_URL=" + cb.URL, "CX_CHARGEBEE_API_KEY=e2e-key-not-a-secret"}
	// Neither source has run: the backfill ends at --until.
	until := at(days, 0, 0)
	res := run(t, env, e2e.Binary(t), "backfill", "--since="+strconv.Itoa(days)+"d", "--until="+until.Format(time.RFC3339),
		"--step=1h", "--chunk=30d", "--out="+out, "--label=job=cx-exporter")
	for _, src := range []string{"freshdesk", "chargebee"} {
		if !regexp.MustCompile(src + `: \S+ to \S+, 1 files`).MatchString(res) {
			t.Fatalf("backfill output lacks %s's file: %s", src, res)
		}
	}
	data := filepath.Join(t.TempDir(), "data")
	files, _ := filepath.Glob(filepath.Join(out, "*.om"))
	for _, f := range files {
		run(t, nil, e2e.Tool(t, "promtool"), "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=720h", f, data)
	}
	cfg := e2e.WriteFile(t, t.TempDir(), "prometheus.yml", "global:\n  scrape_interval: 1m\n")
	addr := e2e.FreeAddr(t)
	e2e.StartProcess(t, addr, e2e.Tool(t, "prometheus"), "--config.file="+cfg, "--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=400d", "--query.lookback-delta=1h", "--web.listen-address="+addr, "--log.level=warn")

	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	dayDiff := func(expr string, d int) float64 {
		got := promAt(t, addr, fmt.Sprintf("sum(%s) - sum(%s offset 1d)", expr, expr), at(d, 23, 0))
		if len(got) != 1 {
			t.Fatalf("%s on day %d: %v", expr, d, got)
		}
		return got[0]
	}
	for _, d := range []int{1, 3, 5, 10, 12, 18} {
		for expr, want := range map[string]float64{
			`helpdesk_tickets_created_total{source="freshdesk"}`:                    1 + b2f(d%3 == 0),
			`helpdesk_tickets_solved_total{source="freshdesk"}`:                     1,
			`helpdesk_tickets_reopened_total{source="freshdesk"}`:                   b2f(d%5 == 0),
			`helpdesk_satisfaction_ratings_total{source="freshdesk",rating="good"}`: b2f(d%2 == 0),
		} {
			if got := dayDiff(expr, d); got != want {
				t.Errorf("day %d: %s rose by %v, want %v", d, expr, got, want)
			}
		}
		// The backlog at 10:30: A, the B's so far, the A's reopened before.
		want := 1.0
		for k := 0; k <= d; k++ {
			want += b2f(k%3 == 0) + b2f(k < d && k%5 == 0)
		}
		if got := promAt(t, addr, `sum(helpdesk_open_tickets{source="freshdesk"})`, at(d, 10, 30)); len(got) != 1 || got[0] != want {
			t.Errorf("Freshdesk backlog at day %d 10:30 = %v, want %v", d, got, want)
		}
	}
	if got := promAt(t, addr, `sum(helpdesk_awaiting_first_reply_tickets{source="freshdesk",priority="high"})`, at(7, 12, 0)); len(got) != 1 || got[0] != 3 {
		t.Errorf("high-priority tickets awaiting a first reply at day 7 12:00 = %v, want 3 (days 0, 3, 6)", got)
	}
	for d, want := range map[int]float64{1: 50, 3: 50, 7: 70, 10: 100, 13: 80, 16: 180} {
		if got := promAt(t, addr, `sum(billing_mrr{source="chargebee"})`, at(d, 18, 0)); len(got) != 1 || got[0] != want {
			t.Errorf("Chargebee MRR at day %d 18:00 = %v, want %v", d, got, want)
		}
	}
	for _, c := range []struct {
		expr string
		d    int
		want float64
	}{
		{`billing_trials_started_total{source="chargebee"}`, 2, 1},
		{`billing_trials_converted_total{source="chargebee"}`, 9, 1},
		{`billing_subscriptions_churned_total{source="chargebee"}`, 12, 1},
		{`billing_subscriptions_started_total{source="chargebee"}`, 14, 1},
	} {
		if got := dayDiff(c.expr, c.d); got != c.want {
			t.Errorf("day %d: %s rose by %v, want %v", c.d, c.expr, got, c.want)
		}
	}
}
