package e2e_test

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/cx-exporter/cx-exporter/dashboards"
	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakestripe "github.com/cx-exporter/cx-exporter/internal/fake/stripe"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

// helpdeskHistory is the 90-day Zendesk account of the backfill test, and
// its hand-computed truth. Every day d (from day0):
//   - ticket A: normal/web, created 08:00, agent reply 09:00, solved 11:00;
//     on days d%5 == 0 the requester reopens it at 15:00 and it is solved
//     again at 16:00; rated good at 12:00 on even days, bad on d%4 == 1;
//   - on days d%3 == 0, ticket B: high/email, created 10:00, unanswered,
//     solved two days later at 10:00 (if that is before the end).
type helpdeskHistory struct {
	day0 time.Time
	days int
}

func (h helpdeskHistory) at(d int, hh, mm int) time.Time {
	return h.day0.Add(time.Duration(d)*24*time.Hour + time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
}

func (h helpdeskHistory) script(zd *fakezendesk.Server) {
	reply := fakezendesk.Comment{AuthorID: 361000000001, Public: true, Body: "Fixed"}
	status := func(s string) func(*fakezendesk.Ticket) { return func(t *fakezendesk.Ticket) { t.Status = s } }
	for d := range h.days {
		a := zd.CreateTicket(fakezendesk.Ticket{Priority: "normal", Channel: "web", Subject: "a"}, h.at(d, 8, 0))
		zd.UpdateTicket(a, h.at(d, 9, 0), status("open"), reply)
		zd.UpdateTicket(a, h.at(d, 11, 0), status("solved"))
		switch {
		case d%2 == 0:
			zd.UpdateTicket(a, h.at(d, 12, 0), func(t *fakezendesk.Ticket) { t.Satisfaction = "good" })
		case d%4 == 1:
			zd.UpdateTicket(a, h.at(d, 12, 0), func(t *fakezendesk.Ticket) { t.Satisfaction = "bad" })
		}
		if d%5 == 0 {
			zd.UpdateTicket(a, h.at(d, 15, 0), status("open"), fakezendesk.Comment{AuthorID: fakezendesk.RequesterID(a), Public: true, Body: "Not fixed"})
			zd.UpdateTicket(a, h.at(d, 16, 0), status("solved"), reply)
		}
		if d%3 == 0 {
			b := zd.CreateTicket(fakezendesk.Ticket{Priority: "high", Channel: "email", Subject: "b"}, h.at(d, 10, 0))
			if d+2 < h.days {
				zd.UpdateTicket(b, h.at(d+2, 10, 0), status("solved"))
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// day is the truth of day d's counters (its events in (d 00:00, d+1 00:00]).
func (h helpdeskHistory) day(d int) map[string]float64 {
	return map[string]float64{
		"created":  1 + b2f(d%3 == 0),
		"solved":   1 + b2f(d%5 == 0) + b2f(d >= 2 && (d-2)%3 == 0),
		"reopened": b2f(d%5 == 0),
		"good":     b2f(d%2 == 0),
		"bad":      b2f(d%4 == 1),
	}
}

// backlog is the truth of the open tickets at d hh:mm (A from 08:00 to 11:00).
func (h helpdeskHistory) backlog(d, hh, mm int) float64 {
	t := hh*60 + mm
	n := b2f(t >= 8*60 && t < 11*60)
	for _, b := range []int{d - 2, d - 1, d} {
		if b < 0 || b%3 != 0 {
			continue
		}
		created := b == d && t >= 10*60 || b < d
		solved := b == d-2 && t >= 10*60
		if created && !solved {
			n++
		}
	}
	return n
}

// billingHistory scripts the fake Stripe over the same 90 days (changes
// at 12:00 on day d): sub1 basic $50 from day 2, upgraded to pro $80 on
// day 75; sub2 team $30 on a trial from day 10 to 24, canceled day 50;
// sub3 basic $20 from day 40, canceled day 85; sub4 pro $100 from day 65,
// upgraded to $150 on day 70. Events older than 30 days have expired by
// the end, as Stripe's do: sub2's and sub1's early history come from
// their timestamps and sub1's upgrade event's previous attributes.
func billingHistory(h helpdeskHistory, st *fakestripe.Server) {
	to := func(d int) { st.Advance(h.at(d, 12, 0).Sub(st.Now())) }
	price := func(product string, amount int64) string {
		return st.CreatePrice(fakestripe.Price{Product: product, Currency: "usd", UnitAmount: amount, Interval: "month"})
	}
	p50, p80, p30, p20, p100, p150 := price("prod_basic", 5000), price("prod_pro", 8000), price("prod_team", 3000),
		price("prod_basic", 2000), price("prod_pro", 10000), price("prod_pro", 15000)
	items := func(p string) []fakestripe.Item { return []fakestripe.Item{{Price: p, Quantity: 1}} }
	to(2)
	sub1 := st.CreateSubscription(fakestripe.Subscription{Customer: st.CreateCustomer(), Items: items(p50)})
	to(10)
	sub2 := st.CreateSubscription(fakestripe.Subscription{Customer: st.CreateCustomer(), Items: items(p30), Status: "trialing",
		TrialStart: h.at(10, 12, 0), TrialEnd: h.at(24, 12, 0)})
	to(24)
	st.UpdateSubscription(sub2, func(s *fakestripe.Subscription) { s.Status = "active" })
	to(40)
	sub3 := st.CreateSubscription(fakestripe.Subscription{Customer: st.CreateCustomer(), Items: items(p20)})
	to(50)
	st.UpdateSubscription(sub2, func(s *fakestripe.Subscription) { s.Status = "canceled" })
	to(65)
	sub4 := st.CreateSubscription(fakestripe.Subscription{Customer: st.CreateCustomer(), Items: items(p100)})
	to(70)
	st.UpdateSubscription(sub4, func(s *fakestripe.Subscription) { s.Items = items(p150) })
	to(75)
	st.UpdateSubscription(sub1, func(s *fakestripe.Subscription) { s.Items = items(p80) })
	to(85)
	st.UpdateSubscription(sub3, func(s *fakestripe.Subscription) { s.Status = "canceled" })
	st.Advance(time.Until(st.Now()) * -1)
}

// mrr is the truth of the MRR (dollars) at d 18:00.
var mrr = map[int]float64{20: 50, 30: 80, 45: 100, 60: 70, 68: 170, 72: 220, 80: 250, 88: 230}

// promAt runs an instant query at t and returns the values of its vector.
func promAt(t *testing.T, addr, expr string, at time.Time) []float64 {
	t.Helper()
	u := "http://" + addr + "/api/v1/query?" + url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}}.Encode()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := e2e.GetJSON(u, &r); err != nil || r.Status != "success" {
		t.Fatalf("%s at %s: %v %s", expr, at, err, r.Error)
	}
	var out []float64
	for _, s := range r.Data.Result {
		v, _ := strconv.ParseFloat(s.Value[1].(string), 64)
		out = append(out, v)
	}
	return out
}

// rawSamples returns the timestamps (unix seconds) of a range selector's
// samples at t, per series.
func rawSamples(t *testing.T, addr, expr string, at time.Time) [][]float64 {
	t.Helper()
	u := "http://" + addr + "/api/v1/query?" + url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}}.Encode()
	var r struct {
		Data struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := e2e.GetJSON(u, &r); err != nil {
		t.Fatal(err)
	}
	var out [][]float64
	for _, s := range r.Data.Result {
		var ts []float64
		for _, v := range s.Values {
			ts = append(ts, v[0].(float64))
		}
		out = append(out, ts)
	}
	return out
}

func run(t *testing.T, env []string, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, e2e.Tail(string(out), 3000))
	}
	return string(out)
}

// TestBackfillIntoPrometheus scripts 90 days of a Zendesk account, runs
// the exporter once (its watermark), backfills up to the watermark,
// imports the files with promtool into a real Prometheus, starts the live
// exporter on the same state, and checks past days and instants against
// the hand-computed truth, the seam at the watermark and every dashboard
// panel over the range.
func TestBackfillIntoPrometheus(t *testing.T) {
	t.Parallel()
	h := helpdeskHistory{day0: time.Now().UTC().Truncate(24 * time.Hour).Add(-90 * 24 * time.Hour), days: 90}
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: "e2e@example.invalid", APIToken: "e2e-token-not-a-secret", RateLimit: 100000, PageSize: 100})
	t.Cleanup(zd.Close)
	h.script(zd)
	st := fakestripe.NewServer(fakestripe.Options{Start: h.day0})
	t.Cleanup(st.Close)
	billingHistory(h, st)
	stateDir, out := t.TempDir(), t.TempDir()
	env := []string{"CX_STATE_DIR=" + stateDir, "CX_ZENDESK_URL=" + zd.URL, "CX_ZENDESK_EMAIL=e2e@example.invalid",
		"CX_ZENDESK_API_TOKEN=e2e-token-not-a-secret", "CX_ZENDESK_EXPORT_RATE=100000", "CX_ZENDESK_PAGE_SIZE=100", "CX_POLL_INTERVAL=1s",
		"CX_STRIPE_URL=" + st.URL, "CX_STRIPE_API_KEY=" + fakestripe.DefaultAPIKey}

	// The exporter's first start records the watermark.
	first := e2e.Start(t, env)
	(&e2e.Waiter{T: t, Exp: first}).WaitFor("the first sync", func(m map[string]float64) bool {
		return m[e2e.SyncSuccessKey("zendesk")] > 0 && m[e2e.SyncSuccessKey("stripe")] > 0
	})
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}

	bin := e2e.Binary(t)
	const instance = "cx-exporter-e2e"
	res := run(t, env, bin, "backfill", "--since=91d", "--step=1h", "--chunk=30d", "--out="+out, "--label=job=cx-exporter", "--label=instance="+instance)
	m := regexp.MustCompile(`zendesk: (\S+) to (\S+), (\d+) files`).FindStringSubmatch(res)
	if m == nil || !strings.Contains(res, "stripe: ") {
		t.Fatalf("backfill output: %s", res)
	}
	watermark, _ := time.Parse(time.RFC3339, m[2])
	files, _ := filepath.Glob(filepath.Join(out, "*.om"))
	if len(files) < 4 {
		t.Fatalf("%d files for 91 days in 30-day chunks", len(files))
	}
	data := filepath.Join(t.TempDir(), "data")
	promtool := e2e.Tool(t, "promtool")
	for _, f := range files {
		run(t, nil, promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=720h", f, data)
	}

	live := e2e.Start(t, env)
	cfg := e2e.WriteFile(t, t.TempDir(), "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: cx-exporter
    static_configs: [{targets: [%q], labels: {instance: %q}}]
`, filepath.Join(e2e.Root(), rulesFile), live.Addr, instance))
	addr := e2e.FreeAddr(t)
	prom := e2e.StartProcess(t, addr, e2e.Tool(t, "prometheus"), "--config.file="+cfg, "--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=400d", "--query.lookback-delta=1h", "--web.listen-address="+addr, "--log.level=warn")
	// Opening 90 days of imported blocks takes a while on a busy machine.
	deadline := time.Now().Add(90 * time.Second)
	for len(promAt(t, addr, `count_over_time(helpdesk_tickets_created_total{source="zendesk"}[20s])`, time.Now())) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no live scrape after 90s\n%s", prom.Logs())
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Past days: increase over the day, and the exact difference.
	counters := map[string]string{
		"created":  `helpdesk_tickets_created_total{source="zendesk"}`,
		"solved":   `helpdesk_tickets_solved_total{source="zendesk"}`,
		"reopened": `helpdesk_tickets_reopened_total{source="zendesk"}`,
		"good":     `helpdesk_satisfaction_ratings_total{source="zendesk",rating="good"}`,
		"bad":      `helpdesk_satisfaction_ratings_total{source="zendesk",rating="bad"}`,
	}
	for _, d := range []int{3, 10, 25, 30, 45, 61, 88} {
		end := h.day0.Add(time.Duration(d+1) * 24 * time.Hour)
		for k, want := range h.day(d) {
			inc := promAt(t, addr, fmt.Sprintf("sum(increase(%s[1d]))", counters[k]), end)
			diff := promAt(t, addr, fmt.Sprintf("sum(%s) - sum(%s offset 1d)", counters[k], counters[k]), end)
			// increase() extrapolates over the one step before the window's
			// first sample: 24 samples an hour apart read 24/23 of the change.
			if len(inc) != 1 || math.Round(inc[0]) != want || math.Abs(inc[0]-want*24/23) > 1e-9 || len(diff) != 1 || diff[0] != want {
				t.Errorf("day %d %s: increase %v, difference %v; want %v", d, k, inc, diff, want)
			}
		}
		for _, hm := range [][2]int{{10, 0}, {23, 0}} {
			at := h.at(d, hm[0], hm[1])
			got := promAt(t, addr, `sum(helpdesk_open_tickets{source="zendesk"})`, at)
			if want := h.backlog(d, hm[0], hm[1]); len(got) != 1 || got[0] != want {
				t.Errorf("backlog at day %d %02d:%02d = %v, want %v", d, hm[0], hm[1], got, want)
			}
		}
	}
	// MRR at past instants, and the subscriptions started and churned.
	for d, want := range mrr {
		if got := promAt(t, addr, `sum(billing_mrr{source="stripe"})`, h.at(d, 18, 0)); len(got) != 1 || got[0] != want {
			t.Errorf("MRR at day %d 18:00 = %v, want %v", d, got, want)
		}
	}
	for _, c := range []struct {
		expr string
		d    int
		want float64
	}{
		{`sum(billing_active_customers{source="stripe"})`, 20, 1},
		{`sum(billing_active_customers{source="stripe"})`, 45, 3},
		{`sum(billing_subscriptions{source="stripe",status="trialing"})`, 20, 1},
		{`sum(billing_subscriptions_started_total{source="stripe"}) - sum(billing_subscriptions_started_total{source="stripe"} offset 1d)`, 24, 1},
		{`sum(billing_subscriptions_churned_total{source="stripe"}) - sum(billing_subscriptions_churned_total{source="stripe"} offset 1d)`, 50, 1},
		{`sum(billing_mrr_movements_total{source="stripe",kind="expansion"}) - sum(billing_mrr_movements_total{source="stripe",kind="expansion"} offset 1d)`, 75, 30},
		{`sum(billing_subscriptions_started_total{source="stripe"})`, 88, 4},
	} {
		if got := promAt(t, addr, c.expr, h.at(c.d, 23, 0)); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s at day %d 23:00 = %v, want %v", c.expr, c.d, got, c.want)
		}
	}

	// Awaiting a first reply at day 30 08:30: A (B comes at 10:00).
	if got := promAt(t, addr, `sum(helpdesk_awaiting_first_reply_tickets{source="zendesk"})`, h.at(30, 8, 30)); len(got) != 1 || got[0] != 1 {
		t.Errorf("awaiting first reply at day 30 08:30: %v, want 1", got)
	}

	// The seam: backfilled samples before the watermark, live ones from
	// it, never two at one instant; the counter resets once, there.
	time.Sleep(3 * time.Second)
	seam := rawSamples(t, addr, `helpdesk_tickets_created_total{source="zendesk",priority="normal"}[3h]`, time.Now())
	if len(seam) != 1 {
		t.Fatalf("%d series of A's created counter across the watermark, want 1 (backfill and live join)", len(seam))
	}
	var before, after int
	for i, ts := range seam[0] {
		if i > 0 && ts <= seam[0][i-1] {
			t.Fatalf("sample at %v after %v: duplicated or overlapping", ts, seam[0][i-1])
		}
		if ts < float64(watermark.Unix()) {
			before++
		} else {
			after++
		}
	}
	if before == 0 || after == 0 {
		t.Errorf("across the watermark %s: %d backfilled and %d live samples, want both", watermark, before, after)
	}

	// Recording rules over the backfilled range, as docs/backfill.md
	// says: promtool evaluates them against this Prometheus into blocks
	// moved into its data directory, which it loads at its next block
	// reload. Two short windows keep the test fast: the subscriptions
	// dashboard's recorded series (ARR, ARPA, trial conversion, quick ratio).
	recorded := []string{"source_currency:billing_arr:sum", "source_currency:billing_arpa:ratio",
		"source:billing_trial_conversion:ratio_increase30d", "source_currency:billing_mrr_quick:ratio_increase30d"}
	rules := e2e.WriteFile(t, t.TempDir(), "rules.yml", ruleSubset(t, recorded))
	for _, w := range [][2]int{{29, 31}, {87, 89}} {
		blocks := t.TempDir()
		run(t, nil, promtool, "tsdb", "create-blocks-from", "rules", "--start="+h.at(w[0], 0, 0).Format(time.RFC3339),
			"--end="+h.at(w[1], 0, 0).Format(time.RFC3339), "--eval-interval=1h", "--url=http://"+addr, "--output-dir="+blocks, rules)
		entries, _ := os.ReadDir(blocks)
		if len(entries) == 0 {
			t.Fatalf("promtool wrote no rule block for days %v", w)
		}
		for _, e := range entries {
			if err := os.Rename(filepath.Join(blocks, e.Name()), filepath.Join(data, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		expr string
		d    int
		want float64
	}{
		{`sum(source_currency:billing_arr:sum{source="stripe"})`, 30, 12 * 80},
		{`sum(source_currency:billing_arpa:ratio{source="stripe"})`, 30, 40},
		{`sum(source:billing_trial_conversion:ratio_increase30d{source="stripe"})`, 30, 1},
		{`count(source_currency:billing_mrr_quick:ratio_increase30d{source="stripe"})`, 88, 1},
	} {
		deadline := time.Now().Add(150 * time.Second)
		for {
			got := promAt(t, addr, c.expr, h.at(c.d, 12, 0))
			if len(got) == 1 && math.Abs(got[0]-c.want) < 1e-9 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("recorded %s at day %d = %v, want %v", c.expr, c.d, got, c.want)
				break
			}
			time.Sleep(2 * time.Second)
		}
	}

	// Every dashboard panel whose metrics the backfill writes has data
	// across the range.
	queries, err := dashboards.Queries(filepath.Join(e2e.Root(), "dashboards"))
	if err != nil {
		t.Fatal(err)
	}
	written := map[string]bool{}
	for _, f := range files {
		for k := range backfilledFamilies(t, f) {
			written[k] = true
		}
	}
	vars := strings.NewReplacer("$__rate_interval", "1d", "${__rate_interval}", "1d", "$__range", "1d", "$__interval", "1h",
		"$job", ".+", "${job}", ".+", "$instance", ".+", "${instance}", ".+", "${__range_s}", "86400",
		"$source", ".+", "${source}", ".+", "$priority", ".*", "${priority}", ".*",
		"$channel", ".*", "${channel}", ".*", "$group", ".*", "${group}", ".*", "$ticket_type", ".*", "${ticket_type}", ".*", "$assignee", ".*", "${assignee}", ".*", "$hours", "calendar", "${hours}", "calendar", "$currency", ".*", "${currency}", ".*")
	checked := 0
	for _, q := range queries {
		expr := vars.Replace(q.Expr)
		names := metricRe.FindAllString(recordedRe.ReplaceAllString(expr, ""), -1)
		if slices.ContainsFunc(recorded, func(r string) bool { return strings.Contains(expr, r) }) {
			checked++ // a recorded series: checked in its rule windows above
			continue
		}
		historical := len(names) > 0 && !strings.Contains(expr, ":")
		for _, n := range names {
			historical = historical && written[family(n)]
		}
		if !historical {
			t.Logf("dashboard %s panel %q: not from backfilled families (live only)", q.Dashboard, q.Panel)
			continue
		}
		checked++
		missing := 0
		for d := 8; d < 90; d += 9 {
			if d < 32 && strings.Contains(expr, `window="30d"`) {
				continue // a 30-day ratio needs customers 30 days before (the first pays on day 2)
			}
			if len(promAt(t, addr, expr, h.at(d, 12, 0))) == 0 {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("dashboard %s panel %q: no data at %d of 10 past instants\n%s", q.Dashboard, q.Panel, missing, expr)
		}
	}
	if checked < 20 {
		t.Errorf("only %d dashboard queries read backfilled families", checked)
	}
	t.Logf("%d dashboard queries have data across the 90 days (the recorded ones in their rule windows)", checked)
}

// ruleSubset is a rules file of the named recording rules of the
// project's rules file, as they are there.
func ruleSubset(t *testing.T, names []string) string {
	b, err := os.ReadFile(filepath.Join(e2e.Root(), rulesFile))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string           `json:"name"`
			Rules []map[string]any `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var keep []map[string]any
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if name, _ := r["record"].(string); slices.Contains(names, name) {
				keep = append(keep, r)
			}
		}
	}
	if len(keep) != len(names) {
		t.Fatalf("found %d of the recording rules %v", len(keep), names)
	}
	out, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "backfill", "rules": keep}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// backfilledFamilies are the metric families of one backfill file.
func backfilledFamilies(t *testing.T, file string) map[string]bool {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if name, _, ok := strings.Cut(line, "{"); ok {
			out[family(name)] = true
		}
	}
	return out
}
