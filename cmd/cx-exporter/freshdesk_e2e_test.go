package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/freshdesk/freshdesktest"
	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

const fdE2EKey = "fd-e2e-fixture-key-m4p8" // a fixture, shaped like no real key

type fdScenario struct {
	e2e.Waiter
	fd  *freshdesktest.Server
	env []string
}

func newFreshdeskScenario(t *testing.T) *fdScenario {
	fd := freshdesktest.NewServer(freshdesktest.Options{APIKey: fdE2EKey, PageSize: 5, NoRateLimit: true})
	t.Cleanup(fd.Close)
	s := &fdScenario{fd: fd}
	s.Waiter = e2e.Waiter{T: t, Source: "freshdesk", Request: "request", Served: e2e.ServedBy(fd.Requests,
		func(r freshdesktest.Request) (time.Time, bool) { return r.At, r.Status == 200 })}
	s.env = []string{
		"CX_FRESHDESK_URL=" + fd.URL,
		"CX_FRESHDESK_API_KEY=" + fdE2EKey,
		"CX_STATE_DIR=" + t.TempDir(),
		"CX_POLL_INTERVAL=1s",
		"CX_HTTP_RETRIES=2",
		"CX_HTTP_TIMEOUT=2s",
		"CX_SLA_HOURS=calendar",
		"CX_BUSINESS_HOURS=24/7",
		"CX_LOG_LEVEL=debug",
	}
	return s
}

func (s *fdScenario) start() { s.Exp = e2e.Start(s.T, s.env) }

// fdhd builds a Freshdesk helpdesk series key with the default labels.
func fdhd(name, priority, channel string, kv ...string) string {
	return e2e.HelpdeskKey("freshdesk", name, priority, channel, kv...)
}

func fdBuckets(want map[string]float64, name, priority, channel, hours string, obs ...float64) {
	e2e.AddBuckets(want, func(le string) string { return fdhd(name, priority, channel, "hours", hours, "le", le) }, obs, 1)
}

// Freshdesk codes used below.
const (
	fdOpen, fdPending, fdResolved, fdClosed = 2, 3, 4, 5
	fdLow, fdMedium, fdHigh, fdUrgent       = 1, 2, 3, 4
	fdEmail, fdPortal, fdChat               = 1, 2, 7
)

func TestE2EFreshdesk(t *testing.T) {
	s := newFreshdeskScenario(t)
	now := time.Now().UTC().Truncate(time.Second)
	// History before the exporter's first start: backfill, nothing counted.
	s.fd.Put(freshdesktest.Ticket{ID: 1, Status: fdClosed, Priority: fdLow, Source: fdEmail, CreatedAt: now.Add(-48 * time.Hour),
		UpdatedAt: now.Add(-24 * time.Hour),
		Stats:     freshdesktest.Stats{FirstRespondedAt: now.Add(-47 * time.Hour), ResolvedAt: now.Add(-24 * time.Hour), ClosedAt: now.Add(-24 * time.Hour)}})
	s.fd.RateAt(1, 103, now.Add(-23*time.Hour))
	s.fd.Put(freshdesktest.Ticket{ID: 2, Status: fdOpen, Priority: fdMedium, Source: fdPortal, CreatedAt: now.Add(-3 * time.Hour), UpdatedAt: now.Add(-3 * time.Hour)})
	s.fd.Put(freshdesktest.Ticket{ID: 3, Status: fdOpen, Priority: fdUrgent, Source: fdEmail, CreatedAt: now.Add(-7 * time.Hour), UpdatedAt: now.Add(-7 * time.Hour)})
	s.fd.Put(freshdesktest.Ticket{ID: 4, Status: fdPending, Priority: fdHigh, Source: fdChat, CreatedAt: now.Add(-210 * time.Minute), UpdatedAt: now.Add(-200 * time.Minute)})
	s.start()
	s.Synced()
	if code, _, _ := s.Exp.Get("/-/ready"); code != 200 {
		t.Fatalf("/-/ready = %d after the first sync", code)
	}
	backlog := map[string]float64{
		fdhd("helpdesk_open_tickets", "normal", "web", "status", "open"):                 1,
		fdhd("helpdesk_open_tickets", "urgent", "email", "status", "open"):               1,
		fdhd("helpdesk_open_tickets", "high", "chat", "status", "pending"):               1,
		fdhd("helpdesk_open_ticket_oldest_age_seconds", "normal", "web"):                 3 * 3600,
		fdhd("helpdesk_open_ticket_oldest_age_seconds", "urgent", "email"):               7 * 3600,
		fdhd("helpdesk_open_ticket_oldest_age_seconds", "high", "chat"):                  210 * 60,
		fdhd("helpdesk_open_tickets_older_than", "normal", "web", "age", "1h"):           1,
		fdhd("helpdesk_open_tickets_older_than", "urgent", "email", "age", "1h"):         1,
		fdhd("helpdesk_open_tickets_older_than", "urgent", "email", "age", "4h"):         1,
		fdhd("helpdesk_open_tickets_older_than", "high", "chat", "age", "1h"):            1,
		fdhd("helpdesk_awaiting_first_reply_tickets", "normal", "web"):                   1,
		fdhd("helpdesk_awaiting_first_reply_tickets", "urgent", "email"):                 1,
		fdhd("helpdesk_awaiting_first_reply_tickets", "high", "chat"):                    1,
		fdhd("helpdesk_awaiting_first_reply_oldest_age_seconds", "normal", "web"):        3 * 3600,
		fdhd("helpdesk_awaiting_first_reply_oldest_age_seconds", "urgent", "email"):      7 * 3600,
		fdhd("helpdesk_awaiting_first_reply_oldest_age_seconds", "high", "chat"):         210 * 60,
		fdhd("helpdesk_first_reply_sla_tickets", "normal", "web", "state", "within"):     1, // 3h of 8h
		fdhd("helpdesk_first_reply_sla_tickets", "urgent", "email", "state", "breached"): 1, // 7h of 1h
		fdhd("helpdesk_first_reply_sla_tickets", "high", "chat", "state", "at_risk"):     1, // 3.5h of 4h
		fdhd("helpdesk_resolution_sla_tickets", "normal", "web", "state", "within"):      1, // 3h of 3d
		fdhd("helpdesk_resolution_sla_tickets", "urgent", "email", "state", "breached"):  1, // 7h of 4h
		fdhd("helpdesk_resolution_sla_tickets", "high", "chat", "state", "within"):       1, // 3.5h of 1d
	}
	e2e.ExpectHelpdesk(t, s.Samples(), backlog, "")

	// A new ticket's life: created, replied, solved, reopened, re-solved, rated good then bad.
	created := time.Now().UTC().Truncate(time.Second)
	n := freshdesktest.Ticket{ID: 100, Status: fdOpen, Priority: fdUrgent, Source: fdEmail, CreatedAt: created}
	step := func(mut func(*freshdesktest.Ticket)) {
		mut(&n)
		n.UpdatedAt = time.Time{}
		s.fd.Put(n)
		s.Synced()
	}
	step(func(*freshdesktest.Ticket) {})
	step(func(t *freshdesktest.Ticket) { t.Stats.FirstRespondedAt = created.Add(30 * time.Minute) })
	step(func(t *freshdesktest.Ticket) { t.Status, t.Stats.ResolvedAt = fdResolved, created.Add(90*time.Minute) })
	step(func(t *freshdesktest.Ticket) { t.Status, t.Stats.ReopenedAt = fdOpen, created.Add(100*time.Minute) })
	step(func(t *freshdesktest.Ticket) { t.Status, t.Stats.ResolvedAt = fdResolved, created.Add(120*time.Minute) })
	s.fd.Rate(100, 103)
	s.Synced()
	s.fd.Rate(100, -103)
	s.Synced()
	s.fd.Delete(2)
	s.fd.Touch(1) // a system update: the old ticket comes back unchanged
	s.Synced()

	want := map[string]float64{}
	for k, v := range backlog {
		if !strings.Contains(k, `priority="normal"`) {
			want[k] = v
		}
	}
	for k, v := range map[string]float64{
		fdhd("helpdesk_tickets_created_total", "urgent", "email"):                          1,
		fdhd("helpdesk_tickets_solved_total", "urgent", "email"):                           2,
		fdhd("helpdesk_tickets_reopened_total", "urgent", "email"):                         1,
		fdhd("helpdesk_tickets_first_solved_total", "urgent", "email"):                     1,
		fdhd("helpdesk_first_reply_sla_total", "urgent", "email", "result", "met"):         1, // 30m of 1h
		fdhd("helpdesk_resolution_sla_total", "urgent", "email", "result", "met"):          1, // 90m of 4h
		fdhd("helpdesk_satisfaction_ratings_total", "urgent", "email", "rating", "good"):   1,
		fdhd("helpdesk_satisfaction_ratings_total", "urgent", "email", "rating", "bad"):    1,
		fdhd("helpdesk_first_reply_seconds_count", "urgent", "email", "hours", "calendar"): 1,
		fdhd("helpdesk_first_reply_seconds_sum", "urgent", "email", "hours", "calendar"):   1800,
		fdhd("helpdesk_first_reply_seconds_count", "urgent", "email", "hours", "business"): 1,
		fdhd("helpdesk_first_reply_seconds_sum", "urgent", "email", "hours", "business"):   1800,
		fdhd("helpdesk_resolution_seconds_count", "urgent", "email", "hours", "calendar"):  2,
		fdhd("helpdesk_resolution_seconds_sum", "urgent", "email", "hours", "calendar"):    5400 + 7200,
		fdhd("helpdesk_resolution_seconds_count", "urgent", "email", "hours", "business"):  2,
		fdhd("helpdesk_resolution_seconds_sum", "urgent", "email", "hours", "business"):    5400 + 7200,
	} {
		want[k] = v
	}
	fdBuckets(want, "helpdesk_first_reply_seconds_bucket", "urgent", "email", "calendar", 1800)
	fdBuckets(want, "helpdesk_first_reply_seconds_bucket", "urgent", "email", "business", 1800)
	fdBuckets(want, "helpdesk_resolution_seconds_bucket", "urgent", "email", "calendar", 5400, 7200)
	fdBuckets(want, "helpdesk_resolution_seconds_bucket", "urgent", "email", "business", 5400, 7200)
	got := s.Samples()
	e2e.ExpectHelpdesk(t, got, want, "")
	// Freshdesk gives no reply count: FCR and replies per ticket are absent,
	// never a constant.
	e2e.ExpectAbsent(t, got, "freshdesk", "helpdesk_tickets_solved_first_contact_total", "helpdesk_replies_per_solved_ticket")
	if t.Failed() {
		t.FailNow()
	}

	// An unknown status is rejected; the other ticket of the page counts.
	s.fd.Put(freshdesktest.Ticket{ID: 200, Status: fdOpen, RawStatus: "escalated", Priority: fdLow, Source: fdEmail, CreatedAt: time.Now().UTC()})
	s.fd.Put(freshdesktest.Ticket{ID: 201, Status: fdOpen, Priority: fdMedium, Source: fdPortal, CreatedAt: time.Now().UTC()})
	got = s.Synced()
	rejected := e2e.Series("cx_exporter_records_rejected_total", "source", "freshdesk", "reason", "unknown_value")
	if got[rejected] < 1 {
		t.Errorf("%s = %v, want at least 1", rejected, got[rejected])
	}
	want[fdhd("helpdesk_tickets_created_total", "normal", "web")] = 1
	want[fdhd("helpdesk_open_tickets", "normal", "web", "status", "open")] = 1
	want[fdhd("helpdesk_awaiting_first_reply_tickets", "normal", "web")] = 1
	want[fdhd("helpdesk_first_reply_sla_tickets", "normal", "web", "state", "within")] = 1
	want[fdhd("helpdesk_resolution_sla_tickets", "normal", "web", "state", "within")] = 1
	want[fdhd("helpdesk_open_ticket_oldest_age_seconds", "normal", "web")] = 0
	want[fdhd("helpdesk_awaiting_first_reply_oldest_age_seconds", "normal", "web")] = 0
	e2e.ExpectHelpdesk(t, got, want, "")
	if !strings.Contains(s.Exp.Logs(), `id=200`) {
		t.Errorf("the rejected ticket's id is not in the log")
	}

	// SIGKILL in the middle of a 10-page sync, then restart on the same state.
	s.fd.SetLatency(300 * time.Millisecond)
	s.fd.ResetRequests()
	for i := range 50 {
		c := time.Now().UTC().Truncate(time.Second)
		s.fd.Put(freshdesktest.Ticket{ID: int64(1000 + i), Status: fdResolved, Priority: fdLow, Source: fdPortal, CreatedAt: c,
			Stats: freshdesktest.Stats{FirstRespondedAt: c.Add(10 * time.Minute), ResolvedAt: c.Add(time.Hour)}})
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(s.fd.Requests()) < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	before := s.Samples()
	s.Exp.Kill()
	committed := before[fdhd("helpdesk_tickets_created_total", "low", "web")]
	if committed >= 50 {
		t.Fatalf("the sync was not interrupted (%v of 50 counted before the kill); slow it down", committed)
	}
	t.Logf("killed with %v of 50 tickets counted", committed)
	s.fd.SetLatency(0)
	s.start()
	s.WaitFor("the 50 tickets", func(m map[string]float64) bool {
		return m[fdhd("helpdesk_tickets_created_total", "low", "web")] >= 50
	})
	got = s.Synced()
	e2e.ExpectCountersNotBackwards(t, before, got)
	e2e.AddOneTouchSolves(want, func(name string, kv ...string) string { return fdhd(name, "low", "web", kv...) }, 50, 600, 3600)
	e2e.DropReplyCounts(want)
	e2e.ExpectHelpdesk(t, got, want, "")
	e2e.ExpectAbsent(t, got, "freshdesk", "helpdesk_tickets_solved_first_contact_total", "helpdesk_replies_per_solved_ticket")

	if strings.Contains(s.Exp.Logs(), fdE2EKey) {
		t.Error("the API key appears in the logs")
	}
	if err := s.Exp.Stop(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}
