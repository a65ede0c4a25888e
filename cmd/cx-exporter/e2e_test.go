package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/zendesk/zendesktest"
	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

const (
	e2eEmail = "agent@example.invalid"
	e2eToken = "e2e-fixture-token-q7w3" // a fixture, shaped like no real key
)

type scenario struct {
	e2e.Waiter
	zd    *zendesktest.Server
	env   []string
	state string
}

func newScenario(t *testing.T) *scenario {
	zd := zendesktest.NewServer(zendesktest.Options{Email: e2eEmail, APIToken: e2eToken, NoRateLimit: true})
	t.Cleanup(zd.Close)
	s := &scenario{zd: zd, state: t.TempDir()}
	s.Waiter = e2e.Waiter{T: t, Source: "zendesk", Request: "export request", Served: e2e.ServedBy(zd.Requests,
		func(r zendesktest.Request) (time.Time, bool) { return r.At, r.Status == 200 })}
	s.env = []string{
		"CX_ZENDESK_URL=" + zd.URL,
		"CX_ZENDESK_EMAIL=" + e2eEmail,
		"CX_ZENDESK_API_TOKEN=" + e2eToken,
		"CX_ZENDESK_PAGE_SIZE=5",
		"CX_ZENDESK_EXPORT_RATE=120", // 0.5 s a page: the kill lands mid-sync
		"CX_STATE_DIR=" + s.state,
		"CX_POLL_INTERVAL=1s",
		"CX_HTTP_RETRIES=2",
		"CX_HTTP_TIMEOUT=2s",
		"CX_SLA_HOURS=calendar",
		"CX_LOG_LEVEL=debug",
	}
	return s
}

func (s *scenario) start() { s.Exp = e2e.Start(s.T, s.env) }

// hd builds a zendesk helpdesk series key with the default labels.
func hd(name, priority, channel string, kv ...string) string {
	return e2e.HelpdeskKey("zendesk", name, priority, channel, kv...)
}

func TestE2EZendesk(t *testing.T) {
	s := newScenario(t)
	now := time.Now().UTC().Truncate(time.Second)
	// History before the exporter's first start: backfill, nothing counted.
	s.zd.Put(zendesktest.Ticket{ID: 1, Status: "closed", Priority: "low", Channel: "email",
		CreatedAt: now.Add(-48 * time.Hour), Satisfaction: "good",
		Metrics: zendesktest.Metrics{Replies: 1, SolvedAt: now.Add(-24 * time.Hour),
			ReplyTime: &zendesktest.MinutePair{Calendar: 30, Business: 30}, FullResolutionTime: &zendesktest.MinutePair{Calendar: 1440, Business: 480}}})
	s.zd.Put(zendesktest.Ticket{ID: 2, Status: "open", Priority: "normal", Channel: "web", CreatedAt: now.Add(-3 * time.Hour)})
	s.zd.Put(zendesktest.Ticket{ID: 3, Status: "open", Priority: "urgent", Channel: "email", CreatedAt: now.Add(-7 * time.Hour)})
	s.zd.Put(zendesktest.Ticket{ID: 4, Status: "new", Priority: "high", Channel: "chat", CreatedAt: now.Add(-210 * time.Minute)})
	s.start()
	s.Synced()
	if code, _, _ := s.Exp.Get("/-/ready"); code != 200 {
		t.Fatalf("/-/ready = %d after the first sync", code)
	}
	backlog := map[string]float64{
		hd("helpdesk_open_tickets", "normal", "web", "status", "open"):                 1,
		hd("helpdesk_open_tickets", "urgent", "email", "status", "open"):               1,
		hd("helpdesk_open_tickets", "high", "chat", "status", "new"):                   1,
		hd("helpdesk_open_ticket_oldest_age_seconds", "normal", "web"):                 3 * 3600,
		hd("helpdesk_open_ticket_oldest_age_seconds", "urgent", "email"):               7 * 3600,
		hd("helpdesk_open_ticket_oldest_age_seconds", "high", "chat"):                  210 * 60,
		hd("helpdesk_open_tickets_older_than", "normal", "web", "age", "1h"):           1,
		hd("helpdesk_open_tickets_older_than", "urgent", "email", "age", "1h"):         1,
		hd("helpdesk_open_tickets_older_than", "urgent", "email", "age", "4h"):         1,
		hd("helpdesk_open_tickets_older_than", "high", "chat", "age", "1h"):            1,
		hd("helpdesk_awaiting_first_reply_tickets", "normal", "web"):                   1,
		hd("helpdesk_awaiting_first_reply_tickets", "urgent", "email"):                 1,
		hd("helpdesk_awaiting_first_reply_tickets", "high", "chat"):                    1,
		hd("helpdesk_awaiting_first_reply_oldest_age_seconds", "normal", "web"):        3 * 3600,
		hd("helpdesk_awaiting_first_reply_oldest_age_seconds", "urgent", "email"):      7 * 3600,
		hd("helpdesk_awaiting_first_reply_oldest_age_seconds", "high", "chat"):         210 * 60,
		hd("helpdesk_first_reply_sla_tickets", "normal", "web", "state", "within"):     1, // 3h of 8h
		hd("helpdesk_first_reply_sla_tickets", "urgent", "email", "state", "breached"): 1, // 7h of 1h
		hd("helpdesk_first_reply_sla_tickets", "high", "chat", "state", "at_risk"):     1, // 3.5h of 4h
		hd("helpdesk_resolution_sla_tickets", "normal", "web", "state", "within"):      1, // 3h of 3d
		hd("helpdesk_resolution_sla_tickets", "urgent", "email", "state", "breached"):  1, // 7h of 4h
		hd("helpdesk_resolution_sla_tickets", "high", "chat", "state", "within"):       1, // 3.5h of 1d
	}
	e2e.ExpectHelpdesk(t, s.Samples(), backlog, "")

	// A new ticket's life: created, replied, solved, reopened, re-solved, rated good then bad.
	created := time.Now().UTC()
	n := zendesktest.Ticket{ID: 100, Status: "new", Priority: "urgent", Channel: "email", CreatedAt: created}
	step := func(mut func(*zendesktest.Ticket)) {
		mut(&n)
		n.UpdatedAt = time.Time{}
		s.zd.Put(n)
		s.Synced()
	}
	step(func(*zendesktest.Ticket) {})
	step(func(t *zendesktest.Ticket) {
		t.Status, t.Metrics.Replies = "open", 1
		t.Metrics.ReplyTime = &zendesktest.MinutePair{Calendar: 30, Business: 20}
	})
	step(func(t *zendesktest.Ticket) {
		t.Status, t.Metrics.SolvedAt = "solved", time.Now().UTC()
		t.Metrics.FullResolutionTime = &zendesktest.MinutePair{Calendar: 90, Business: 60}
		t.Metrics.RequesterWaitTime = &zendesktest.MinutePair{Calendar: 40, Business: 30}
		t.Metrics.AgentWaitTime = &zendesktest.MinutePair{Calendar: 30, Business: 20}
		t.Metrics.OnHoldTime = &zendesktest.MinutePair{Calendar: 20, Business: 10}
	})
	step(func(t *zendesktest.Ticket) { t.Status, t.Metrics.Reopens = "open", 1 })
	step(func(t *zendesktest.Ticket) {
		t.Status, t.Metrics.Replies, t.Metrics.SolvedAt = "solved", 2, time.Now().UTC()
		t.Metrics.FullResolutionTime = &zendesktest.MinutePair{Calendar: 120, Business: 80}
		t.Metrics.RequesterWaitTime = &zendesktest.MinutePair{Calendar: 50, Business: 35}
		t.Metrics.AgentWaitTime = &zendesktest.MinutePair{Calendar: 40, Business: 25}
		t.Metrics.OnHoldTime = &zendesktest.MinutePair{Calendar: 30, Business: 20}
	})
	step(func(t *zendesktest.Ticket) { t.Satisfaction = "good" })
	step(func(t *zendesktest.Ticket) { t.Satisfaction = "bad" })
	s.zd.Delete(2)
	s.zd.Touch(1) // a system update: the old ticket comes back unchanged
	s.Synced()

	want := map[string]float64{}
	for k, v := range backlog {
		if !strings.Contains(k, `priority="normal"`) {
			want[k] = v
		}
	}
	for k, v := range map[string]float64{
		hd("helpdesk_tickets_created_total", "urgent", "email"):                          1,
		hd("helpdesk_tickets_solved_total", "urgent", "email"):                           2,
		hd("helpdesk_tickets_reopened_total", "urgent", "email"):                         1,
		hd("helpdesk_tickets_solved_first_contact_total", "urgent", "email"):             1,
		hd("helpdesk_satisfaction_ratings_total", "urgent", "email", "rating", "good"):   1,
		hd("helpdesk_satisfaction_ratings_total", "urgent", "email", "rating", "bad"):    1,
		hd("helpdesk_first_reply_seconds_count", "urgent", "email", "hours", "calendar"): 1,
		hd("helpdesk_first_reply_seconds_sum", "urgent", "email", "hours", "calendar"):   1800,
		hd("helpdesk_first_reply_seconds_count", "urgent", "email", "hours", "business"): 1,
		hd("helpdesk_first_reply_seconds_sum", "urgent", "email", "hours", "business"):   1200,
		hd("helpdesk_resolution_seconds_count", "urgent", "email", "hours", "calendar"):  2,
		hd("helpdesk_resolution_seconds_sum", "urgent", "email", "hours", "calendar"):    5400 + 7200,
		hd("helpdesk_resolution_seconds_count", "urgent", "email", "hours", "business"):  2,
		hd("helpdesk_resolution_seconds_sum", "urgent", "email", "hours", "business"):    3600 + 4800,
		// Replies are observed at the first solve only: one reply.
		hd("helpdesk_replies_per_solved_ticket_count", "urgent", "email"):                   1,
		hd("helpdesk_replies_per_solved_ticket_sum", "urgent", "email"):                     1,
		hd("helpdesk_tickets_first_solved_total", "urgent", "email"):                        1,
		hd("helpdesk_first_reply_sla_total", "urgent", "email", "result", "met"):            1, // 30m of 1h
		hd("helpdesk_resolution_sla_total", "urgent", "email", "result", "met"):             1, // 90m of 4h, first solve
		hd("helpdesk_requester_wait_seconds_count", "urgent", "email", "hours", "calendar"): 2,
		hd("helpdesk_requester_wait_seconds_sum", "urgent", "email", "hours", "calendar"):   2400 + 3000,
		hd("helpdesk_requester_wait_seconds_count", "urgent", "email", "hours", "business"): 2,
		hd("helpdesk_requester_wait_seconds_sum", "urgent", "email", "hours", "business"):   1800 + 2100,
		hd("helpdesk_agent_wait_seconds_count", "urgent", "email", "hours", "calendar"):     2,
		hd("helpdesk_agent_wait_seconds_sum", "urgent", "email", "hours", "calendar"):       1800 + 2400,
		hd("helpdesk_agent_wait_seconds_count", "urgent", "email", "hours", "business"):     2,
		hd("helpdesk_agent_wait_seconds_sum", "urgent", "email", "hours", "business"):       1200 + 1500,
		hd("helpdesk_on_hold_seconds_count", "urgent", "email", "hours", "calendar"):        2,
		hd("helpdesk_on_hold_seconds_sum", "urgent", "email", "hours", "calendar"):          1200 + 1800,
		hd("helpdesk_on_hold_seconds_count", "urgent", "email", "hours", "business"):        2,
		hd("helpdesk_on_hold_seconds_sum", "urgent", "email", "hours", "business"):          600 + 1200,
	} {
		want[k] = v
	}
	// Buckets: first reply 1800 s (cal) and 1200 s (bus); resolutions 5400, 7200 (cal) and 3600, 4800 (bus); replies 1, 2.
	addBuckets(want, "helpdesk_first_reply_seconds_bucket", "calendar", []float64{1800})
	addBuckets(want, "helpdesk_first_reply_seconds_bucket", "business", []float64{1200})
	addBuckets(want, "helpdesk_resolution_seconds_bucket", "calendar", []float64{5400, 7200})
	addBuckets(want, "helpdesk_resolution_seconds_bucket", "business", []float64{3600, 4800})
	addBuckets(want, "helpdesk_requester_wait_seconds_bucket", "calendar", []float64{2400, 3000})
	addBuckets(want, "helpdesk_requester_wait_seconds_bucket", "business", []float64{1800, 2100})
	addBuckets(want, "helpdesk_agent_wait_seconds_bucket", "calendar", []float64{1800, 2400})
	addBuckets(want, "helpdesk_agent_wait_seconds_bucket", "business", []float64{1200, 1500})
	addBuckets(want, "helpdesk_on_hold_seconds_bucket", "calendar", []float64{1200, 1800})
	addBuckets(want, "helpdesk_on_hold_seconds_bucket", "business", []float64{600, 1200})
	for _, le := range []string{"1", "2", "3", "4", "5", "7", "10", "15", "20", "+Inf"} {
		want[hd("helpdesk_replies_per_solved_ticket_bucket", "urgent", "email", "le", le)] = 1
	}
	got := s.Samples()
	e2e.ExpectHelpdesk(t, got, want, "")
	if t.Failed() {
		t.FailNow()
	}

	// An unknown status is rejected; the other ticket of the page counts.
	s.zd.InjectFault(zendesktest.FaultUnknownStatus, 1)
	s.zd.Put(zendesktest.Ticket{ID: 200, Status: "open", Priority: "low", Channel: "email", CreatedAt: time.Now().UTC()})
	s.zd.Put(zendesktest.Ticket{ID: 201, Status: "open", Priority: "normal", Channel: "web", CreatedAt: time.Now().UTC()})
	got = s.Synced()
	rejected := e2e.Series("cx_exporter_records_rejected_total", "source", "zendesk", "reason", "unknown_value")
	if got[rejected] != 1 {
		t.Errorf("%s = %v, want 1", rejected, got[rejected])
	}
	want[hd("helpdesk_tickets_created_total", "normal", "web")] = 1
	want[hd("helpdesk_open_tickets", "normal", "web", "status", "open")] = 1
	want[hd("helpdesk_awaiting_first_reply_tickets", "normal", "web")] = 1
	want[hd("helpdesk_first_reply_sla_tickets", "normal", "web", "state", "within")] = 1
	want[hd("helpdesk_resolution_sla_tickets", "normal", "web", "state", "within")] = 1
	want[hd("helpdesk_open_ticket_oldest_age_seconds", "normal", "web")] = 0
	want[hd("helpdesk_awaiting_first_reply_oldest_age_seconds", "normal", "web")] = 0
	e2e.ExpectHelpdesk(t, got, want, "")
	if !strings.Contains(s.Exp.Logs(), `id=200`) {
		t.Errorf("the rejected ticket's id is not in the log")
	}

	// SIGKILL in the middle of a 10-page sync, then restart on the same state.
	s.zd.ResetRequests()
	for i := range 50 {
		s.zd.Put(zendesktest.Ticket{ID: int64(1000 + i), Status: "solved", Priority: "low", Channel: "web", CreatedAt: time.Now().UTC(),
			Metrics: zendesktest.Metrics{Replies: 1, SolvedAt: time.Now().UTC(),
				ReplyTime: &zendesktest.MinutePair{Calendar: 10, Business: 10}, FullResolutionTime: &zendesktest.MinutePair{Calendar: 60, Business: 60}}})
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(s.zd.Requests()) < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	before := s.Samples()
	s.Exp.Kill()
	committed := before[hd("helpdesk_tickets_created_total", "low", "web")]
	if committed >= 50 {
		t.Fatalf("the sync was not interrupted (%v of 50 counted before the kill); slow it down", committed)
	}
	t.Logf("killed with %v of 50 tickets counted", committed)
	s.env = append(s.env, "CX_ZENDESK_EXPORT_RATE=600")
	s.start()
	got = s.WaitFor("the 50 tickets", func(m map[string]float64) bool {
		return m[hd("helpdesk_tickets_created_total", "low", "web")] >= 50
	})
	got = s.Synced()
	e2e.ExpectCountersNotBackwards(t, before, got)
	e2e.AddOneTouchSolves(want, func(name string, kv ...string) string { return hd(name, "low", "web", kv...) }, 50, 600, 3600)
	e2e.ExpectHelpdesk(t, got, want, "")

	if strings.Contains(s.Exp.Logs(), e2eToken) {
		t.Error("the API token appears in the logs")
	}
	if err := s.Exp.Stop(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}

// addBuckets sets the cumulative buckets of an urgent/email duration histogram.
func addBuckets(want map[string]float64, name, hours string, obs []float64) {
	e2e.AddBuckets(want, func(le string) string { return hd(name, "urgent", "email", "hours", hours, "le", le) }, obs, 1)
}
