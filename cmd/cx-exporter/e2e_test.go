package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// One storyline, every helpdesk: TestE2EHelpdesk runs the same scenario
// through the real binary against each helpdesk vendor's fake, as
// kube-state-metrics runs one generateMetricsTestCase shape over every
// store. The script and its expected series are written once, here, in
// the vendor-neutral terms of groups of tickets; a driver per vendor
// (<vendor>_e2e_test.go) says how each step is done on its fake, which
// labels each group gets, and where the vendor really differs.

// helpdeskVendors is the table: one row per helpdesk vendor.
var helpdeskVendors = []helpdeskVendor{zendeskE2E, freshdeskE2E, helpScoutE2E, intercomE2E, edeskE2E, udeskE2E}

// group is a set of tickets of the storyline that share their labels
// (priority and channel) in every vendor.
type group int

const (
	gFresh    group = iota // ticket 2: open for 3 h, normal priority; deleted, then 201 joins it
	gUrgent                // ticket 3: open for 7 h, urgent; ticket 100 lives its life here
	gNew                   // ticket 4: new for 3.5 h, high
	gWaiting               // ticket 5: on hold for 7 h, answered 6 h ago, normal
	gRejected              // ticket 200: an unknown status, low
	gBatch                 // the 50 tickets of the sync that is killed, low
)

// helpdeskVendor is a row of the table: a vendor's driver and the ways in
// which its expected series differ from the storyline's.
type helpdeskVendor struct {
	source string
	// labels are each group's priority and channel labels.
	labels map[group][2]string
	// status renames the storyline's backlog statuses ("new", "pending")
	// the vendor exports under another name.
	status map[string]string
	// sla overrides a group's first-reply SLA state where the vendor's
	// priority gives another target.
	sla map[group]string
	// resolutionSLA overrides a group's resolution SLA state where the
	// vendor's priority gives another target.
	resolutionSLA map[group]string
	// ownBusinessHours: the vendor reports business-hours durations
	// itself (Zendesk's metric sets); otherwise the exporter computes
	// them with CX_BUSINESS_HOURS=24/7, equal to calendar time.
	ownBusinessHours bool
	// noReplyCounts: the vendor gives no reply count, so FCR and replies
	// per ticket are absent (never a constant).
	noReplyCounts bool
	// waitTimes: the vendor gives requester wait, agent wait and on-hold
	// times (Zendesk's metric sets); otherwise those histograms are absent.
	waitTimes bool
	// noDeletes: the vendor's API never shows a deletion, so ticket 2
	// stays in the backlog.
	noDeletes bool
	// rejectionPersists: ticket 200's unknown status is in the record
	// itself, so every read rejects it again (at least once, and it never
	// counts); otherwise it was a one-off fault of one page, rejected
	// exactly once, and the ticket counts when it comes back.
	rejectionPersists bool
	driver            func(t *testing.T) helpdeskDriver
}

// helpdeskDriver does the storyline's steps on one vendor's fake. Times
// are relative to the life ticket's creation: first reply after 30 min
// (20 business minutes where the vendor reports them), solved after
// 90 min (60), reopened, answered again and solved after 120 min (80).
// A vendor with waitTimes reports at the first solve a requester wait of
// 40 min (30 business), an agent wait of 30 (20) and 20 on hold (10), and
// at the second 50 (35), 40 (25) and 30 (20).
type helpdeskDriver interface {
	// env points the binary at the fake.
	env() []string
	// waiter names the requests a sync is waited on and when the fake
	// served them successfully.
	waiter() (request string, served func() []time.Time)
	// backfill writes the history before the exporter's first start:
	// ticket 1 (solved a day ago after one reply, rated good) and the
	// open tickets 2 to 5 of the groups gFresh, gUrgent, gNew, gWaiting.
	backfill(now time.Time)
	// The life of ticket 100 (gUrgent).
	create(at time.Time)
	reply()
	solve()
	reopen()
	resolve()
	rate(good bool)
	// remove deletes ticket 2 (not called when the vendor has noDeletes).
	remove()
	// touch makes ticket 1 come back unchanged, as a system update does.
	touch()
	// reject writes ticket 200 with a status the vendor never sends and,
	// on the same page, ticket 201 (gFresh), open and fine.
	reject()
	// retry makes ticket 200 come back.
	retry()
	// batch slows the fake down, forgets its request log and writes n
	// tickets (gBatch) created now, answered 10 min and solved 60 min later.
	batch(n int)
	// requests counts the requests of the kind waiter names since batch.
	requests() int
	// fast undoes batch's slowing down; it returns environment to add at
	// the restart.
	fast() []string
	// secrets must never appear in the exporter's logs.
	secrets() []string
	// after makes the vendor's own last checks.
	after(t *testing.T)
}

// noAfter is a driver with no checks of its own at the end.
type noAfter struct{}

func (noAfter) after(*testing.T) {}

// hdScenario is a running exporter pointed at one fake helpdesk.
type hdScenario struct {
	e2e.Waiter
	env []string
}

func newHelpdeskScenario(t *testing.T, v helpdeskVendor, d helpdeskDriver) *hdScenario {
	// Build first: the build must not eat into the ages the test expects.
	e2e.Binary(t)
	request, served := d.waiter()
	s := &hdScenario{Waiter: e2e.Waiter{T: t, Source: v.source, Request: request, Served: served}}
	s.env = append(d.env(),
		"CX_STATE_DIR="+t.TempDir(),
		"CX_POLL_INTERVAL=1s",
		"CX_HTTP_RETRIES=2",
		"CX_HTTP_TIMEOUT=2s",
		"CX_SLA_HOURS=calendar",
		"CX_LOG_LEVEL=debug",
	)
	if !v.ownBusinessHours {
		s.env = append(s.env, "CX_BUSINESS_HOURS=24/7")
	}
	return s
}

func (s *hdScenario) start() { s.Exp = e2e.Start(s.T, s.env) }

// key builds the series key of a group's helpdesk metric.
func (v helpdeskVendor) key(g group, name string, kv ...string) string {
	l := v.labels[g]
	return e2e.HelpdeskKey(v.source, name, l[0], l[1], kv...)
}

func (v helpdeskVendor) statusLabel(status string) string {
	if s, ok := v.status[status]; ok {
		return s
	}
	return status
}

func (v helpdeskVendor) slaState(g group, state string) string {
	if s, ok := v.sla[g]; ok {
		return s
	}
	return state
}

func (v helpdeskVendor) resolutionState(g group, state string) string {
	if s, ok := v.resolutionSLA[g]; ok {
		return s
	}
	return state
}

// waitFamilies are the histograms of the vendors with waitTimes.
var waitFamilies = []string{"helpdesk_requester_wait_seconds", "helpdesk_agent_wait_seconds", "helpdesk_on_hold_seconds"}

// replyCountFamilies are the series of the vendors that count replies.
var replyCountFamilies = []string{"helpdesk_tickets_solved_first_contact_total", "helpdesk_replies_per_solved_ticket"}

// expectGaps fails for every series of the families the vendor does not
// give: they are absent, not 0.
func (v helpdeskVendor) expectGaps(t *testing.T, got map[string]float64) {
	t.Helper()
	if v.noReplyCounts {
		e2e.ExpectAbsent(t, got, v.source, replyCountFamilies...)
	}
	if !v.waitTimes {
		e2e.ExpectAbsent(t, got, v.source, waitFamilies...)
	}
}

func TestE2EHelpdesk(t *testing.T) {
	t.Parallel()
	for _, v := range helpdeskVendors {
		t.Run(v.source, func(t *testing.T) {
			t.Parallel()
			runStoryline(t, v)
		})
	}
}

func runStoryline(t *testing.T, v helpdeskVendor) {
	d := v.driver(t)
	s := newHelpdeskScenario(t, v, d)
	k := v.key
	now := time.Now().UTC().Truncate(time.Second)

	// History before the exporter's first start: backfill, nothing counted.
	d.backfill(now)
	s.start()
	s.Synced()
	if code, _, _ := s.Exp.Get("/-/ready"); code != 200 {
		t.Fatalf("/-/ready = %d after the first sync", code)
	}
	backlog := map[group]map[string]float64{
		gFresh: {
			k(gFresh, "helpdesk_open_tickets", "status", "open"):                                       1,
			k(gFresh, "helpdesk_open_ticket_oldest_age_seconds"):                                       3 * 3600,
			k(gFresh, "helpdesk_open_tickets_older_than", "age", "1h"):                                 1,
			k(gFresh, "helpdesk_awaiting_first_reply_tickets"):                                         1,
			k(gFresh, "helpdesk_awaiting_first_reply_oldest_age_seconds"):                              3 * 3600,
			k(gFresh, "helpdesk_first_reply_sla_tickets", "state", v.slaState(gFresh, "within")):       1, // 3h of 8h
			k(gFresh, "helpdesk_resolution_sla_tickets", "state", v.resolutionState(gFresh, "within")): 1, // 3h of 3d
		},
		gUrgent: {
			k(gUrgent, "helpdesk_open_tickets", "status", "open"):                                    1,
			k(gUrgent, "helpdesk_open_ticket_oldest_age_seconds"):                                    7 * 3600,
			k(gUrgent, "helpdesk_open_tickets_older_than", "age", "1h"):                              1,
			k(gUrgent, "helpdesk_open_tickets_older_than", "age", "4h"):                              1,
			k(gUrgent, "helpdesk_awaiting_first_reply_tickets"):                                      1,
			k(gUrgent, "helpdesk_awaiting_first_reply_oldest_age_seconds"):                           7 * 3600,
			k(gUrgent, "helpdesk_first_reply_sla_tickets", "state", v.slaState(gUrgent, "breached")): 1, // 7h of 1h
			// 7h of 4h. Both targets passed before the watermark: history,
			// no breached result.
			k(gUrgent, "helpdesk_resolution_sla_tickets", "state", v.resolutionState(gUrgent, "breached")): 1,
		},
		gNew: {
			k(gNew, "helpdesk_open_tickets", "status", v.statusLabel("new")):                       1,
			k(gNew, "helpdesk_open_ticket_oldest_age_seconds"):                                     210 * 60,
			k(gNew, "helpdesk_open_tickets_older_than", "age", "1h"):                               1,
			k(gNew, "helpdesk_awaiting_first_reply_tickets"):                                       1,
			k(gNew, "helpdesk_awaiting_first_reply_oldest_age_seconds"):                            210 * 60,
			k(gNew, "helpdesk_first_reply_sla_tickets", "state", v.slaState(gNew, "at_risk")):      1, // 3.5h of 4h
			k(gNew, "helpdesk_resolution_sla_tickets", "state", v.resolutionState(gNew, "within")): 1, // 3.5h of 1d
		},
		gWaiting: { // answered: not awaiting a first reply, no first-reply SLA state
			k(gWaiting, "helpdesk_open_tickets", "status", v.statusLabel("pending")): 1,
			k(gWaiting, "helpdesk_open_ticket_oldest_age_seconds"):                   7 * 3600,
			k(gWaiting, "helpdesk_open_tickets_older_than", "age", "1h"):             1,
			k(gWaiting, "helpdesk_open_tickets_older_than", "age", "4h"):             1,
			// Unsolved: a resolution SLA state, 7h of 3d.
			k(gWaiting, "helpdesk_resolution_sla_tickets", "state", v.resolutionState(gWaiting, "within")): 1,
		},
	}
	want := map[string]float64{}
	for _, series := range backlog {
		for key, val := range series {
			want[key] = val
		}
	}
	got := s.Samples()
	e2e.ExpectHelpdesk(t, got, want, v.source)
	v.expectGaps(t, got)
	if t.Failed() {
		t.FailNow()
	}

	// A new ticket's life: created, replied, solved, reopened, re-solved
	// after a second reply, rated good then bad. After each step, the SLA
	// series of its group are exactly those of ticket 3 (states only: its
	// targets passed before the watermark) and of ticket 100.
	created := time.Now().UTC().Truncate(time.Second)
	for _, step := range []struct {
		name string
		do   func()
		// Ticket 100's first-reply and resolution SLA states ("": in none).
		firstReply, resolution string
		// Its first-reply and resolution SLA results, each counted once.
		replyMet, solveMet float64
	}{
		{"create", func() { d.create(created) }, "within", "within", 0, 0},
		{"reply", d.reply, "", "within", 1, 0}, // after 30m
		{"solve", d.solve, "", "", 1, 1},       // after 90m: a first solve
		{"reopen", d.reopen, "", "", 1, 1},     // judged at its first solve: in no state
		{"resolve", d.resolve, "", "", 1, 1},   // not judged again
		{"rate good", func() { d.rate(true) }, "", "", 1, 1},
		{"rate bad", func() { d.rate(false) }, "", "", 1, 1},
	} {
		step.do()
		after := s.Synced()
		sla := map[string]float64{
			k(gUrgent, "helpdesk_first_reply_sla_tickets", "state", v.slaState(gUrgent, "breached")):       1,
			k(gUrgent, "helpdesk_resolution_sla_tickets", "state", v.resolutionState(gUrgent, "breached")): 1,
			k(gUrgent, "helpdesk_first_reply_sla_total", "result", "met"):                                  step.replyMet,
			k(gUrgent, "helpdesk_resolution_sla_total", "result", "met"):                                   step.solveMet,
			k(gUrgent, "helpdesk_tickets_first_solved_total"):                                              step.solveMet,
		}
		if step.firstReply != "" {
			sla[k(gUrgent, "helpdesk_first_reply_sla_tickets", "state", step.firstReply)]++
		}
		if step.resolution != "" {
			sla[k(gUrgent, "helpdesk_resolution_sla_tickets", "state", step.resolution)]++
		}
		keys := []string{k(gUrgent, "helpdesk_tickets_first_solved_total")}
		for _, state := range []string{"within", "at_risk", "breached"} {
			keys = append(keys, k(gUrgent, "helpdesk_first_reply_sla_tickets", "state", state),
				k(gUrgent, "helpdesk_resolution_sla_tickets", "state", state))
		}
		for _, result := range []string{"met", "breached"} {
			keys = append(keys, k(gUrgent, "helpdesk_first_reply_sla_total", "result", result),
				k(gUrgent, "helpdesk_resolution_sla_total", "result", result))
		}
		for _, key := range keys {
			if after[key] != sla[key] {
				t.Errorf("after %s: %s = %v, want %v", step.name, key, after[key], sla[key])
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if !v.noDeletes {
		d.remove()
		for key := range backlog[gFresh] {
			delete(want, key)
		}
	}
	d.touch()
	s.Synced()

	business := func(calendar, vendor float64) float64 {
		if v.ownBusinessHours {
			return vendor
		}
		return calendar
	}
	for key, val := range map[string]float64{
		k(gUrgent, "helpdesk_tickets_created_total"):                          1,
		k(gUrgent, "helpdesk_tickets_solved_total"):                           2,
		k(gUrgent, "helpdesk_tickets_first_solved_total"):                     1, // once, however often solved
		k(gUrgent, "helpdesk_tickets_reopened_total"):                         1,
		k(gUrgent, "helpdesk_satisfaction_ratings_total", "rating", "good"):   1,
		k(gUrgent, "helpdesk_satisfaction_ratings_total", "rating", "bad"):    1,
		k(gUrgent, "helpdesk_first_reply_seconds_count", "hours", "calendar"): 1,
		k(gUrgent, "helpdesk_first_reply_seconds_sum", "hours", "calendar"):   1800,
		k(gUrgent, "helpdesk_first_reply_seconds_count", "hours", "business"): 1,
		k(gUrgent, "helpdesk_first_reply_seconds_sum", "hours", "business"):   business(1800, 1200),
		k(gUrgent, "helpdesk_resolution_seconds_count", "hours", "calendar"):  2,
		k(gUrgent, "helpdesk_resolution_seconds_sum", "hours", "calendar"):    5400 + 7200,
		k(gUrgent, "helpdesk_resolution_seconds_count", "hours", "business"):  2,
		k(gUrgent, "helpdesk_resolution_seconds_sum", "hours", "business"):    business(5400+7200, 3600+4800),
		// Each SLA judged once: the first reply after 30m (of 1h urgent,
		// 4h high, 8h none), the first solve after 90m (of 4h, 1d, 3d);
		// the re-solve is not judged. Ticket 100 is solved, so it is in
		// no SLA state.
		k(gUrgent, "helpdesk_first_reply_sla_total", "result", "met"): 1,
		k(gUrgent, "helpdesk_resolution_sla_total", "result", "met"):  1,
	} {
		want[key] = val
	}
	buckets := func(name, hours string, obs ...float64) {
		e2e.AddBuckets(want, func(le string) string { return k(gUrgent, name, "hours", hours, "le", le) }, obs, 1)
	}
	buckets("helpdesk_first_reply_seconds_bucket", "calendar", 1800)
	buckets("helpdesk_first_reply_seconds_bucket", "business", business(1800, 1200))
	buckets("helpdesk_resolution_seconds_bucket", "calendar", 5400, 7200)
	buckets("helpdesk_resolution_seconds_bucket", "business", business(5400, 3600), business(7200, 4800))
	if !v.noReplyCounts {
		// Solved first after one reply and no reopen: first contact.
		// Replies are observed at the first solve only: one reply, not
		// the two of the re-solve.
		want[k(gUrgent, "helpdesk_tickets_solved_first_contact_total")] = 1
		want[k(gUrgent, "helpdesk_replies_per_solved_ticket_count")] = 1
		want[k(gUrgent, "helpdesk_replies_per_solved_ticket_sum")] = 1
		for _, le := range []string{"1", "2", "3", "4", "5", "7", "10", "15", "20", "+Inf"} {
			want[k(gUrgent, "helpdesk_replies_per_solved_ticket_bucket", "le", le)] = 1
		}
	}
	if v.waitTimes {
		// The vendor's totals, observed at each solve.
		for _, w := range []struct {
			name               string
			calendar, business [2]float64 // at the first and the second solve
		}{
			{"helpdesk_requester_wait_seconds", [2]float64{2400, 3000}, [2]float64{1800, 2100}},
			{"helpdesk_agent_wait_seconds", [2]float64{1800, 2400}, [2]float64{1200, 1500}},
			{"helpdesk_on_hold_seconds", [2]float64{1200, 1800}, [2]float64{600, 1200}},
		} {
			for hours, obs := range map[string][2]float64{"calendar": w.calendar, "business": w.business} {
				want[k(gUrgent, w.name+"_count", "hours", hours)] = 2
				want[k(gUrgent, w.name+"_sum", "hours", hours)] = obs[0] + obs[1]
				buckets(w.name+"_bucket", hours, obs[0], obs[1])
			}
		}
	}
	got = s.Samples()
	e2e.ExpectHelpdesk(t, got, want, v.source)
	v.expectGaps(t, got)
	if t.Failed() {
		t.FailNow()
	}

	// An unknown status is rejected; the other ticket of the page counts.
	d.reject()
	got = s.Synced()
	rejected := e2e.Series("cx_exporter_records_rejected_total", "source", v.source, "reason", "unknown_value")
	expectRejected := func(when string) {
		t.Helper()
		if v.rejectionPersists && got[rejected] < 1 {
			t.Errorf("%s: %s = %v, want at least 1", when, rejected, got[rejected])
		}
		if !v.rejectionPersists && got[rejected] != 1 {
			t.Errorf("%s: %s = %v, want 1", when, rejected, got[rejected])
		}
	}
	expectRejected("after the rejection")
	if !strings.Contains(s.Exp.Logs(), `id=200`) {
		t.Errorf("the rejected ticket's id is not in the log")
	}
	fresh := 1.0 // ticket 201; ticket 2 was deleted
	if v.noDeletes {
		fresh = 2
	}
	want[k(gFresh, "helpdesk_tickets_created_total")] = 1
	want[k(gFresh, "helpdesk_open_tickets", "status", "open")] = fresh
	want[k(gFresh, "helpdesk_awaiting_first_reply_tickets")] = fresh
	want[k(gFresh, "helpdesk_first_reply_sla_tickets", "state", "within")] = fresh
	want[k(gFresh, "helpdesk_resolution_sla_tickets", "state", "within")] = fresh // of 3d
	if !v.noDeletes {
		want[k(gFresh, "helpdesk_open_ticket_oldest_age_seconds")] = 0
		want[k(gFresh, "helpdesk_awaiting_first_reply_oldest_age_seconds")] = 0
	}
	e2e.ExpectHelpdesk(t, got, want, v.source)
	v.expectGaps(t, got)

	// When it changes again (or is re-read) it counts, unless its status
	// is still unknown.
	d.retry()
	got = s.Synced()
	expectRejected("after the retry")
	if !v.rejectionPersists {
		want[k(gRejected, "helpdesk_tickets_created_total")] = 1
		want[k(gRejected, "helpdesk_open_tickets", "status", "open")] = 1
		want[k(gRejected, "helpdesk_open_ticket_oldest_age_seconds")] = 0
		want[k(gRejected, "helpdesk_awaiting_first_reply_tickets")] = 1
		want[k(gRejected, "helpdesk_awaiting_first_reply_oldest_age_seconds")] = 0
		want[k(gRejected, "helpdesk_first_reply_sla_tickets", "state", "within")] = 1 // low=24h, none=8h
		want[k(gRejected, "helpdesk_resolution_sla_tickets", "state", "within")] = 1  // low=7d, none=3d
	}
	e2e.ExpectHelpdesk(t, got, want, v.source)
	v.expectGaps(t, got)
	if t.Failed() {
		t.FailNow()
	}

	// SIGKILL in the middle of a multi-page sync, then restart on the same
	// state: nothing goes backwards, nothing is counted twice.
	const n = 50
	d.batch(n)
	for deadline := time.Now().Add(20 * time.Second); d.requests() < 4 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	before := s.Samples()
	s.Exp.Kill()
	batchCreated := k(gBatch, "helpdesk_tickets_created_total")
	if committed := before[batchCreated]; committed >= n {
		t.Fatalf("the sync was not interrupted (%v of %d counted before the kill); slow it down", committed, n)
	} else {
		t.Logf("killed with %v of %d tickets counted", committed, n)
	}
	s.env = append(s.env, d.fast()...)
	s.start()
	s.WaitFor("the batch", func(m map[string]float64) bool { return m[batchCreated] >= n })
	got = s.Synced()
	e2e.ExpectCountersNotBackwards(t, before, got)
	e2e.AddOneTouchSolves(want, func(name string, kv ...string) string { return k(gBatch, name, kv...) }, n, 600, 3600)
	if v.noReplyCounts {
		e2e.DropReplyCounts(want)
	}
	e2e.ExpectHelpdesk(t, got, want, v.source)
	v.expectGaps(t, got)

	logs := s.Exp.Logs()
	for _, secret := range d.secrets() {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret (%.6s…) appears in the logs", secret)
		}
	}
	d.after(t)
	if err := s.Exp.Stop(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}
