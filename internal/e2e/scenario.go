package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Waiter is the scrape-and-wait scaffolding shared by the end-to-end
// scenarios: embed it in a scenario, set Exp on every (re)start, and Served
// to the fake's successful requests.
type Waiter struct {
	T   testing.TB
	Exp *Exporter
	// Source is the source label of the sync timestamp Synced waits on.
	Source string
	// Request names Served's requests in failure messages ("export request").
	Request string
	// Served returns, in order, when the fake answered the requests Synced
	// counts (successful ones, possibly of one path only).
	Served func() []time.Time
}

// Samples scrapes once.
func (w *Waiter) Samples() map[string]float64 {
	w.T.Helper()
	text, err := w.Exp.Scrape()
	if err != nil {
		w.T.Fatal(err)
	}
	m, err := Samples(text)
	if err != nil {
		w.T.Fatal(err)
	}
	return m
}

// WaitFor scrapes every 100 ms until cond holds, failing after 30 s.
func (w *Waiter) WaitFor(what string, cond func(m map[string]float64) bool) map[string]float64 {
	w.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		text, err := w.Exp.Scrape()
		if err == nil {
			if m, err := Samples(text); err == nil && cond(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			w.T.Fatalf("timed out waiting for %s; last scrape:\n%s\nlogs:\n%s", what, text, Tail(w.Exp.Logs(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitServed waits up to 30 s for a request in Served answered at or after
// this call, and returns when it was answered.
func (w *Waiter) WaitServed() time.Time {
	w.T.Helper()
	t0 := time.Now()
	var served time.Time
	deadline := time.Now().Add(30 * time.Second)
	for served.IsZero() {
		for _, at := range w.Served() {
			if !at.Before(t0) {
				served = at
				break
			}
		}
		if time.Now().After(deadline) {
			w.T.Fatalf("no %s served; logs:\n%s", w.Request, Tail(w.Exp.Logs(), 3000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return served
}

// Synced waits until the fake answered a request made after this call
// (WaitServed) and a sync of Source ending after that answer succeeded.
func (w *Waiter) Synced() map[string]float64 {
	w.T.Helper()
	after := float64(w.WaitServed().UnixNano()) / 1e9
	key := SyncSuccessKey(w.Source)
	return w.WaitFor("a sync", func(m map[string]float64) bool { return m[key] >= after })
}

// SyncSuccessKey is the series key of a source's last successful sync.
func SyncSuccessKey(source string) string {
	return Series("cx_exporter_last_sync_success_timestamp_seconds", "source", source)
}

// Tail returns at most the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// HelpdeskKey builds a helpdesk series key with the default labels
// (source, priority, channel) and the extra kv pairs.
func HelpdeskKey(source, name, priority, channel string, kv ...string) string {
	return Series(name, append([]string{"source", source, "priority", priority, "channel", channel}, kv...)...)
}

// AgeTolerance is how far ExpectHelpdesk lets an age_seconds series be
// from want.
const AgeTolerance = 30

// ExpectHelpdesk asserts that every series in want is present and equal to
// it (age_seconds series within AgeTolerance), and that every other
// helpdesk_* series is 0. A non-empty source restricts that last check to
// series with that source label; "" checks them all.
func ExpectHelpdesk(t testing.TB, got, want map[string]float64, source string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing %s (want %v)", k, w)
			continue
		}
		tol := 0.0
		if strings.Contains(k, "age_seconds") {
			tol = AgeTolerance
		}
		if g < w-tol || g > w+tol {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && strings.HasPrefix(k, "helpdesk_") && (source == "" || strings.Contains(k, `source="`+source+`"`)) && g != 0 {
			t.Errorf("unexpected %s = %v, want 0", k, g)
		}
	}
}

// DurationBuckets are the upper bounds of the helpdesk duration histograms.
var DurationBuckets = []float64{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 345600, 604800, 1209600}

// AddBuckets sets in want the cumulative DurationBuckets of a histogram
// that saw each of obs n times; key builds a bucket's series from its le.
// Buckets with no observation are left out; +Inf is always set.
func AddBuckets(want map[string]float64, key func(le string) string, obs []float64, n int) {
	for _, le := range DurationBuckets {
		c := 0
		for _, o := range obs {
			if o <= le {
				c += n
			}
		}
		if c > 0 {
			want[key(strconv.FormatFloat(le, 'f', -1, 64))] = float64(c)
		}
	}
	want[key("+Inf")] = float64(len(obs) * n)
}

// ServedBy adapts a fake's Requests to Waiter.Served: at returns when a
// request was answered and whether Synced counts it.
func ServedBy[R any](requests func() []R, at func(R) (time.Time, bool)) func() []time.Time {
	return func() []time.Time {
		var out []time.Time
		for _, r := range requests() {
			if t, ok := at(r); ok {
				out = append(out, t)
			}
		}
		return out
	}
}

// ExpectCountersNotBackwards fails for every helpdesk counter or histogram
// sample that is lower in got than in before; only the backlog gauges
// (open tickets, awaiting a reply, SLA states) may fall.
func ExpectCountersNotBackwards(t testing.TB, before, got map[string]float64) {
	t.Helper()
	for k, v := range before {
		if strings.HasPrefix(k, "helpdesk_") && !strings.Contains(k, "open_ticket") && !strings.Contains(k, "awaiting") && !strings.Contains(k, "sla_tickets") && got[k] < v {
			t.Errorf("%s went backwards: %v → %v", k, v, got[k])
		}
	}
}

// AddOneTouchSolves sets in want every helpdesk series that n tickets
// produce when each was created, answered once firstReply seconds later
// and solved resolution seconds after creation (business time equal to
// calendar time), both within their SLA targets. key builds a series key
// from a metric name and extra label pairs.
func AddOneTouchSolves(want map[string]float64, key func(name string, kv ...string) string, n int, firstReply, resolution float64) {
	f := float64(n)
	for _, name := range []string{"helpdesk_tickets_created_total", "helpdesk_tickets_solved_total",
		"helpdesk_tickets_first_solved_total",
		"helpdesk_tickets_solved_first_contact_total", "helpdesk_replies_per_solved_ticket_count",
		"helpdesk_replies_per_solved_ticket_sum"} {
		want[key(name)] = f
	}
	want[key("helpdesk_first_reply_sla_total", "result", "met")] = f
	want[key("helpdesk_resolution_sla_total", "result", "met")] = f
	for _, hours := range []string{"calendar", "business"} {
		for _, d := range []struct {
			name string
			v    float64
		}{{"helpdesk_first_reply_seconds", firstReply}, {"helpdesk_resolution_seconds", resolution}} {
			want[key(d.name+"_count", "hours", hours)] = f
			want[key(d.name+"_sum", "hours", hours)] = f * d.v
			AddBuckets(want, func(le string) string { return key(d.name+"_bucket", "hours", hours, "le", le) }, []float64{d.v}, n)
		}
	}
	for _, le := range []string{"1", "2", "3", "4", "5", "7", "10", "15", "20", "+Inf"} {
		want[key("helpdesk_replies_per_solved_ticket_bucket", "le", le)] = f
	}
}

// DropReplyCounts removes from want the series that a vendor without reply
// counts (Freshdesk) does not export: FCR and replies per ticket.
func DropReplyCounts(want map[string]float64) {
	for k := range want {
		if strings.HasPrefix(k, "helpdesk_tickets_solved_first_contact_total") || strings.HasPrefix(k, "helpdesk_replies_per_solved_ticket") {
			delete(want, k)
		}
	}
}

// ExpectAbsent fails for every sample of the given families in got.
func ExpectAbsent(t testing.TB, got map[string]float64, source string, families ...string) {
	t.Helper()
	for k := range got {
		for _, f := range families {
			if strings.HasPrefix(k, f) && strings.Contains(k, `source="`+source+`"`) {
				t.Errorf("%s is exported; %s does not give it", k, source)
			}
		}
	}
}
