package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpscout/helpscouttest"
	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

const (
	hsE2EAppID  = "e2e-app"
	hsE2ESecret = "e2e-fixture-secret-m4x8" // a fixture, shaped like no real secret
)

type hsScenario struct {
	e2e.Waiter
	hs    *helpscouttest.Server
	env   []string
	state string
}

func newHSScenario(t *testing.T) *hsScenario {
	// Short-lived tokens: the exporter refreshes them during the test.
	hs := helpscouttest.NewServer(helpscouttest.Options{AppID: hsE2EAppID, AppSecret: hsE2ESecret, NoRateLimit: true,
		PageSize: 5, TokenTTL: 5 * time.Second})
	t.Cleanup(hs.Close)
	s := &hsScenario{hs: hs, state: t.TempDir()}
	// Synced counts conversations listings only.
	s.Waiter = e2e.Waiter{T: t, Source: "helpscout", Request: "listing request", Served: e2e.ServedBy(hs.Requests,
		func(r helpscouttest.Request) (time.Time, bool) {
			return r.At, r.Path == "/v2/conversations" && r.Status == 200
		})}
	s.env = []string{
		"CX_HELPSCOUT_URL=" + hs.URL,
		"CX_HELPSCOUT_APP_ID=" + hsE2EAppID,
		"CX_HELPSCOUT_APP_SECRET=" + hsE2ESecret,
		"CX_STATE_DIR=" + s.state,
		"CX_POLL_INTERVAL=1s",
		"CX_HTTP_RETRIES=2",
		"CX_HTTP_TIMEOUT=2s",
		"CX_SLA_HOURS=calendar",
		"CX_BUSINESS_HOURS=24/7",
		"CX_LOG_LEVEL=debug",
	}
	return s
}

func (s *hsScenario) start() { s.Exp = e2e.Start(s.T, s.env) }

// hsd builds a Help Scout helpdesk series key: Help Scout has no
// priority, so it is always "none".
func hsd(name, channel string, kv ...string) string {
	return e2e.HelpdeskKey("helpscout", name, "none", channel, kv...)
}

// hsBuckets sets the cumulative buckets of a duration histogram.
func hsBuckets(want map[string]float64, name, channel, hours string, obs []float64, n int) {
	e2e.AddBuckets(want, func(le string) string { return hsd(name, channel, "hours", hours, "le", le) }, obs, n)
}

func TestE2EHelpScout(t *testing.T) {
	s := newHSScenario(t)
	now := time.Now().UTC().Truncate(time.Second)
	// History before the exporter's first start: backfill, nothing counted.
	s.hs.Put(helpscouttest.Conversation{ID: 1, Status: "closed", Source: "email", MailboxID: 7,
		CreatedAt: now.Add(-48 * time.Hour), ClosedAt: now.Add(-24 * time.Hour),
		Threads: []helpscouttest.Thread{{Type: "customer", CreatedBy: "customer", CreatedAt: now.Add(-48 * time.Hour)},
			{CreatedAt: now.Add(-48*time.Hour + 30*time.Minute)}}})
	s.hs.RateAt(1, "great", now.Add(-24*time.Hour))
	s.hs.Put(helpscouttest.Conversation{ID: 2, Status: "active", Source: "chat", MailboxID: 7, CreatedAt: now.Add(-3 * time.Hour)})
	s.hs.Put(helpscouttest.Conversation{ID: 3, Status: "active", Source: "email", MailboxID: 7, CreatedAt: now.Add(-7 * time.Hour)})
	s.hs.Put(helpscouttest.Conversation{ID: 4, Status: "pending", Source: "phone", MailboxID: 7, CreatedAt: now.Add(-210 * time.Minute)})
	s.start()
	s.Synced()
	if code, _, _ := s.Exp.Get("/-/ready"); code != 200 {
		t.Fatalf("/-/ready = %d after the first sync", code)
	}
	// No priority in Help Scout: every SLA target is none=8h.
	backlog := map[string]float64{
		hsd("helpdesk_open_tickets", "chat", "status", "open"):               1,
		hsd("helpdesk_open_tickets", "email", "status", "open"):              1,
		hsd("helpdesk_open_tickets", "phone", "status", "pending"):           1,
		hsd("helpdesk_open_ticket_oldest_age_seconds", "chat"):               3 * 3600,
		hsd("helpdesk_open_ticket_oldest_age_seconds", "email"):              7 * 3600,
		hsd("helpdesk_open_ticket_oldest_age_seconds", "phone"):              210 * 60,
		hsd("helpdesk_open_tickets_older_than", "chat", "age", "1h"):         1,
		hsd("helpdesk_open_tickets_older_than", "email", "age", "1h"):        1,
		hsd("helpdesk_open_tickets_older_than", "email", "age", "4h"):        1,
		hsd("helpdesk_open_tickets_older_than", "phone", "age", "1h"):        1,
		hsd("helpdesk_awaiting_first_reply_tickets", "chat"):                 1,
		hsd("helpdesk_awaiting_first_reply_tickets", "email"):                1,
		hsd("helpdesk_awaiting_first_reply_tickets", "phone"):                1,
		hsd("helpdesk_awaiting_first_reply_oldest_age_seconds", "chat"):      3 * 3600,
		hsd("helpdesk_awaiting_first_reply_oldest_age_seconds", "email"):     7 * 3600,
		hsd("helpdesk_awaiting_first_reply_oldest_age_seconds", "phone"):     210 * 60,
		hsd("helpdesk_first_reply_sla_tickets", "chat", "state", "within"):   1, // 3h of 8h
		hsd("helpdesk_first_reply_sla_tickets", "email", "state", "at_risk"): 1, // 7h of 8h
		hsd("helpdesk_first_reply_sla_tickets", "phone", "state", "within"):  1, // 3.5h of 8h
		hsd("helpdesk_resolution_sla_tickets", "chat", "state", "within"):    1, // 3h of 3d
		hsd("helpdesk_resolution_sla_tickets", "email", "state", "within"):   1, // 7h of 3d
		hsd("helpdesk_resolution_sla_tickets", "phone", "state", "within"):   1, // 3.5h of 3d
	}
	e2e.ExpectHelpdesk(t, s.Samples(), backlog, "helpscout")
	if t.Failed() {
		t.FailNow()
	}

	// A new conversation's life: created, replied, solved, reopened,
	// re-solved, rated good then bad.
	created := time.Now().UTC().Truncate(time.Second)
	n := helpscouttest.Conversation{ID: 100, Status: "active", Source: "email", MailboxID: 7, CreatedAt: created}
	put := func(mut func(*helpscouttest.Conversation)) {
		mut(&n)
		n.ModifiedAt = time.Time{}
		s.hs.Put(n)
		n.Threads = nil
	}
	put(func(*helpscouttest.Conversation) {})
	s.Synced()
	s.hs.AddThread(100, helpscouttest.Thread{CreatedAt: created.Add(30 * time.Minute)})
	s.Synced()
	put(func(c *helpscouttest.Conversation) { c.Status, c.ClosedAt = "closed", created.Add(90*time.Minute) })
	s.Synced()
	put(func(c *helpscouttest.Conversation) {
		c.Status, c.ClosedAt = "active", time.Time{}
		c.Threads = []helpscouttest.Thread{{Type: "customer", CreatedBy: "customer"}}
	})
	s.Synced()
	put(func(c *helpscouttest.Conversation) {
		c.Status, c.ClosedAt = "closed", created.Add(120*time.Minute)
		c.Threads = []helpscouttest.Thread{{CreatedAt: created.Add(100 * time.Minute)}}
	})
	s.Synced()
	s.hs.Rate(100, "great")
	s.Synced()
	s.hs.Rate(100, "not_good")
	s.Synced()
	c2, _ := s.hs.Get(2)
	c2.Status, c2.ModifiedAt = "spam", time.Time{}
	s.hs.Put(c2)
	s.hs.Touch(1) // a change that is no event: the old conversation comes back unchanged
	s.Synced()

	want := map[string]float64{}
	for k, v := range backlog {
		if !strings.Contains(k, `channel="chat"`) {
			want[k] = v
		}
	}
	for k, v := range map[string]float64{
		hsd("helpdesk_tickets_created_total", "email"):                          1,
		hsd("helpdesk_tickets_solved_total", "email"):                           2,
		hsd("helpdesk_tickets_reopened_total", "email"):                         1,
		hsd("helpdesk_tickets_solved_first_contact_total", "email"):             1,
		hsd("helpdesk_satisfaction_ratings_total", "email", "rating", "good"):   1,
		hsd("helpdesk_satisfaction_ratings_total", "email", "rating", "bad"):    1,
		hsd("helpdesk_first_reply_seconds_count", "email", "hours", "calendar"): 1,
		hsd("helpdesk_first_reply_seconds_sum", "email", "hours", "calendar"):   1800,
		hsd("helpdesk_first_reply_seconds_count", "email", "hours", "business"): 1,
		hsd("helpdesk_first_reply_seconds_sum", "email", "hours", "business"):   1800,
		hsd("helpdesk_resolution_seconds_count", "email", "hours", "calendar"):  2,
		hsd("helpdesk_resolution_seconds_sum", "email", "hours", "calendar"):    5400 + 7200,
		hsd("helpdesk_resolution_seconds_count", "email", "hours", "business"):  2,
		hsd("helpdesk_resolution_seconds_sum", "email", "hours", "business"):    5400 + 7200,
		// Replies are observed at the first solve only: one reply.
		hsd("helpdesk_replies_per_solved_ticket_count", "email"):        1,
		hsd("helpdesk_replies_per_solved_ticket_sum", "email"):          1,
		hsd("helpdesk_tickets_first_solved_total", "email"):             1,
		hsd("helpdesk_first_reply_sla_total", "email", "result", "met"): 1, // 30m of 8h
		hsd("helpdesk_resolution_sla_total", "email", "result", "met"):  1, // 90m of 3d
	} {
		want[k] = v
	}
	hsBuckets(want, "helpdesk_first_reply_seconds_bucket", "email", "calendar", []float64{1800}, 1)
	hsBuckets(want, "helpdesk_first_reply_seconds_bucket", "email", "business", []float64{1800}, 1)
	hsBuckets(want, "helpdesk_resolution_seconds_bucket", "email", "calendar", []float64{5400, 7200}, 1)
	hsBuckets(want, "helpdesk_resolution_seconds_bucket", "email", "business", []float64{5400, 7200}, 1)
	for _, le := range []string{"1", "2", "3", "4", "5", "7", "10", "15", "20", "+Inf"} {
		want[hsd("helpdesk_replies_per_solved_ticket_bucket", "email", "le", le)] = 1
	}
	e2e.ExpectHelpdesk(t, s.Samples(), want, "helpscout")
	if t.Failed() {
		t.FailNow()
	}

	// An unknown status is rejected; the other conversation of the page counts.
	s.hs.InjectFault(helpscouttest.FaultUnknownStatus, 1)
	s.hs.PutAll(helpscouttest.Conversation{ID: 201, Status: "active", Source: "chat", CreatedAt: time.Now().UTC()},
		helpscouttest.Conversation{ID: 200, Status: "active", Source: "phone", CreatedAt: time.Now().UTC()})
	got := s.Synced()
	rejected := e2e.Series("cx_exporter_records_rejected_total", "source", "helpscout", "reason", "unknown_value")
	if got[rejected] != 1 {
		t.Errorf("%s = %v, want 1", rejected, got[rejected])
	}
	if !strings.Contains(s.Exp.Logs(), `id=200`) {
		t.Errorf("the rejected conversation's id is not in the log")
	}
	// When it changes again (or is re-read in the overlap) it counts.
	s.hs.Touch(200)
	got = s.Synced()
	want[hsd("helpdesk_tickets_created_total", "chat")] = 1
	want[hsd("helpdesk_open_tickets", "chat", "status", "open")] = 1
	want[hsd("helpdesk_awaiting_first_reply_tickets", "chat")] = 1
	want[hsd("helpdesk_first_reply_sla_tickets", "chat", "state", "within")] = 1
	want[hsd("helpdesk_resolution_sla_tickets", "chat", "state", "within")] = 1
	want[hsd("helpdesk_open_ticket_oldest_age_seconds", "chat")] = 0
	want[hsd("helpdesk_awaiting_first_reply_oldest_age_seconds", "chat")] = 0
	want[hsd("helpdesk_tickets_created_total", "phone")] = 1
	want[hsd("helpdesk_open_tickets", "phone", "status", "open")] = 1
	want[hsd("helpdesk_awaiting_first_reply_tickets", "phone")] = 2
	want[hsd("helpdesk_first_reply_sla_tickets", "phone", "state", "within")] = 2
	want[hsd("helpdesk_resolution_sla_tickets", "phone", "state", "within")] = 2
	e2e.ExpectHelpdesk(t, got, want, "helpscout")
	if got[rejected] != 1 {
		t.Errorf("%s = %v after the retry, want 1", rejected, got[rejected])
	}
	if t.Failed() {
		t.FailNow()
	}

	// SIGKILL in the middle of a multi-page sync, then restart on the same state.
	s.hs.ResetRequests()
	s.hs.SetListDelay(500 * time.Millisecond)
	var batch []helpscouttest.Conversation
	c0 := time.Now().UTC().Truncate(time.Second)
	for i := range 50 {
		batch = append(batch, helpscouttest.Conversation{ID: int64(1000 + i), Status: "closed", Source: "api", CreatedAt: c0,
			ClosedAt: c0.Add(time.Hour), Threads: []helpscouttest.Thread{{CreatedAt: c0.Add(10 * time.Minute)}}})
	}
	s.hs.PutAll(batch...)
	deadline := time.Now().Add(20 * time.Second)
	for len(s.listings()) < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	before := s.Samples()
	s.Exp.Kill()
	committed := before[hsd("helpdesk_tickets_created_total", "api")]
	if committed >= 50 {
		t.Fatalf("the sync was not interrupted (%v of 50 counted before the kill); slow it down", committed)
	}
	t.Logf("killed with %v of 50 conversations counted", committed)
	s.hs.SetListDelay(0)
	s.start()
	s.WaitFor("the 50 conversations", func(m map[string]float64) bool {
		return m[hsd("helpdesk_tickets_created_total", "api")] >= 50
	})
	got = s.Synced()
	e2e.ExpectCountersNotBackwards(t, before, got)
	e2e.AddOneTouchSolves(want, func(name string, kv ...string) string { return hsd(name, "api", kv...) }, 50, 600, 3600)
	e2e.ExpectHelpdesk(t, got, want, "helpscout")

	tokens := 0
	for _, r := range s.hs.Requests() {
		if r.Path == "/v2/oauth2/token" {
			tokens++
		}
	}
	if tokens == 0 {
		t.Error("no token request after the restart")
	}
	logs := s.Exp.Logs()
	if strings.Contains(logs, hsE2ESecret) || strings.Contains(logs, "fake-access-") {
		t.Error("the app secret or an access token appears in the logs")
	}
	if err := s.Exp.Stop(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}

func (s *hsScenario) listings() []helpscouttest.Request {
	var out []helpscouttest.Request
	for _, r := range s.hs.Requests() {
		if r.Path == "/v2/conversations" {
			out = append(out, r)
		}
	}
	return out
}
