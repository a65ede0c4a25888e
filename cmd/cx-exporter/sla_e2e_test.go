package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

// slaFamilies are the series the SLA scenario asserts exactly: every
// sample of them must be in want, or be 0.
var slaFamilies = []string{"helpdesk_first_reply_sla_total", "helpdesk_resolution_sla_total",
	"helpdesk_first_reply_sla_tickets", "helpdesk_resolution_sla_tickets", "helpdesk_tickets_first_solved_total"}

func expectSLA(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	for k, g := range got {
		for _, f := range slaFamilies {
			if strings.HasPrefix(k, f+"{") && want[k] == 0 && g != 0 {
				t.Errorf("unexpected %s = %v, want 0", k, g)
			}
		}
	}
}

// TestE2ESLA drives tickets through the real binary so that they meet and
// breach both SLAs: by a reply or solve within or past the target, and by
// the target passing while nothing changes upstream, including while the
// exporter is down after a SIGKILL. Targets are seconds long (urgent: first
// reply 15s, resolution 30s) in calendar time; Zendesk's minutes decide the
// replies and solves it reports.
func TestE2ESLA(t *testing.T) {
	s := newScenario(t)
	s.env = append(s.env,
		"CX_FIRST_REPLY_TARGETS=urgent=15s,high=1h,normal=1h,low=1h,none=1h",
		"CX_RESOLUTION_TARGETS=urgent=30s,high=2h,normal=2h,low=2h,none=2h",
		"CX_ZENDESK_EXPORT_RATE=600")
	s.start()
	s.Synced() // the watermark: the tickets below are all new

	created := time.Now().UTC().Truncate(time.Second)
	ticket := func(id int64, priority, channel string) fakezendesk.Ticket {
		return fakezendesk.Ticket{ID: id, Status: "new", Priority: priority, Channel: channel, CreatedAt: created}
	}
	// A: answered and solved at once (0 minutes): meets both.
	// B: answered after 5 minutes and solved after 10 (Zendesk's minutes):
	//    breaches both at the reply and at the solve.
	// C: left waiting: breaches the first reply at +15s and the resolution
	//    at +30s, with no upstream change.
	// D: high priority, 1h and 2h targets: within both all along.
	a, b, c, d := ticket(1, "urgent", "email"), ticket(2, "urgent", "email"), ticket(3, "urgent", "email"), ticket(4, "high", "chat")
	s.zd.Put(a)
	s.zd.Put(b)
	s.zd.Put(c)
	s.zd.Put(d)
	s.Synced()
	reply := func(tk *fakezendesk.Ticket, minutes int) {
		tk.Status, tk.UpdatedAt, tk.Metrics.Replies = "open", time.Time{}, 1
		tk.Metrics.ReplyTime = &fakezendesk.MinutePair{Calendar: minutes, Business: minutes}
		s.zd.Put(*tk)
	}
	solve := func(tk *fakezendesk.Ticket, minutes int) {
		tk.Status, tk.UpdatedAt, tk.Metrics.SolvedAt = "solved", time.Time{}, time.Now().UTC()
		tk.Metrics.FullResolutionTime = &fakezendesk.MinutePair{Calendar: minutes, Business: minutes}
		s.zd.Put(*tk)
	}
	reply(&a, 0)
	reply(&b, 5)
	s.Synced()
	solve(&a, 0)
	solve(&b, 10)
	got := s.Synced()
	if time.Since(created) >= 15*time.Second {
		t.Fatalf("the replies and solves took %s, past C's 15s target; the scenario cannot tell them apart", time.Since(created))
	}
	key := func(name, priority, channel string, kv ...string) string {
		return hd(name, priority, channel, kv...)
	}
	want := map[string]float64{
		key("helpdesk_first_reply_sla_total", "urgent", "email", "result", "met"):      1, // A
		key("helpdesk_first_reply_sla_total", "urgent", "email", "result", "breached"): 1, // B, late reply
		key("helpdesk_resolution_sla_total", "urgent", "email", "result", "met"):       1, // A
		key("helpdesk_resolution_sla_total", "urgent", "email", "result", "breached"):  1, // B, late solve
		key("helpdesk_tickets_first_solved_total", "urgent", "email"):                  2,
		key("helpdesk_first_reply_sla_tickets", "high", "chat", "state", "within"):     1, // D
		key("helpdesk_resolution_sla_tickets", "high", "chat", "state", "within"):      1, // D
		key("helpdesk_first_reply_sla_tickets", "urgent", "email", "state", "within"):  1, // C, under 11.25s
		key("helpdesk_resolution_sla_tickets", "urgent", "email", "state", "within"):   1, // C, under 22.5s
	}
	expectSLA(t, got, want)
	if t.Failed() {
		t.FailNow()
	}

	// C's first-reply target passes: counted by the sweep after a sync
	// that saw no change.
	frBreached := key("helpdesk_first_reply_sla_total", "urgent", "email", "result", "breached")
	got = s.WaitFor("C's first-reply breach", func(m map[string]float64) bool { return m[frBreached] >= 2 })
	if at := time.Since(created); at < 15*time.Second {
		t.Errorf("C's first-reply breach counted %s after creation, before its 15s target", at)
	}

	// SIGKILL, and C's resolution target passes while the exporter is down.
	s.Exp.Kill()
	if wait := time.Until(created.Add(31 * time.Second)); wait > 0 {
		time.Sleep(wait)
	}
	s.start()
	resBreached := key("helpdesk_resolution_sla_total", "urgent", "email", "result", "breached")
	s.WaitFor("C's resolution breach after the restart", func(m map[string]float64) bool { return m[resBreached] >= 2 })
	s.Synced()
	got = s.Synced() // more sweeps: nothing counts twice
	want[frBreached] = 2
	want[resBreached] = 2
	delete(want, key("helpdesk_first_reply_sla_tickets", "urgent", "email", "state", "within"))
	delete(want, key("helpdesk_resolution_sla_tickets", "urgent", "email", "state", "within"))
	want[key("helpdesk_first_reply_sla_tickets", "urgent", "email", "state", "breached")] = 1
	want[key("helpdesk_resolution_sla_tickets", "urgent", "email", "state", "breached")] = 1
	expectSLA(t, got, want)

	// C is answered and solved at last: a first solve, but no second SLA
	// result; it leaves the SLA states.
	reply(&c, 1)
	solve(&c, 1)
	got = s.Synced()
	want[key("helpdesk_tickets_first_solved_total", "urgent", "email")] = 3
	delete(want, key("helpdesk_first_reply_sla_tickets", "urgent", "email", "state", "breached"))
	delete(want, key("helpdesk_resolution_sla_tickets", "urgent", "email", "state", "breached"))
	expectSLA(t, got, want)

	// And once more across a clean restart.
	if err := s.Exp.Stop(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
	s.start()
	expectSLA(t, s.Synced(), want)
	e2e.ExpectCountersNotBackwards(t, got, s.Samples())
}
