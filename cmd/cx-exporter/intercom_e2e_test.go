package main_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/intercom/intercomtest"
	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

const icE2EToken = "ic-e2e-fixture-token-k2p9" // a fixture, shaped like no real key

type intercomScenario struct {
	e2e.Waiter
	ic    *intercomtest.Server
	env   []string
	state string
}

func newIntercomScenario(t *testing.T) *intercomScenario {
	// Pages of 5 (the fake caps per_page) make the kill land mid-sync.
	ic := intercomtest.NewServer(intercomtest.Options{Token: icE2EToken, MaxPageSize: 5, NoRateLimit: true})
	t.Cleanup(ic.Close)
	s := &intercomScenario{ic: ic, state: t.TempDir()}
	s.Waiter = e2e.Waiter{T: t, Source: "intercom", Request: "search request", Served: e2e.ServedBy(ic.Requests,
		func(r intercomtest.Request) (time.Time, bool) { return r.At, r.Status == 200 })}
	s.env = []string{
		"CX_INTERCOM_URL=" + ic.URL,
		"CX_INTERCOM_TOKEN=" + icE2EToken,
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

func (s *intercomScenario) start() { s.Exp = e2e.Start(s.T, s.env) }

// ihd builds an intercom helpdesk series key with the default labels.
func ihd(name, priority, channel string, kv ...string) string {
	return e2e.HelpdeskKey("intercom", name, priority, channel, kv...)
}

// icBuckets sets the cumulative buckets of a duration histogram.
func icBuckets(want map[string]float64, name, priority, channel, hours string, obs ...float64) {
	e2e.AddBuckets(want, func(le string) string { return ihd(name, priority, channel, "hours", hours, "le", le) }, obs, 1)
}

// TestE2EIntercom is TestE2EZendesk's scenario against the fake Intercom.
// Intercom's search never returns deleted conversations, so there is no
// deletion step; a system-style update (an unchanged conversation coming
// back with a newer updated_at) stands in for Zendesk's Touch.
func TestE2EIntercom(t *testing.T) {
	s := newIntercomScenario(t)
	now := time.Now().UTC().Truncate(time.Second)
	// History before the exporter's first start: backfill, nothing counted.
	closedOld := intercomtest.Conversation{ID: "1", State: "closed", Priority: "not_priority", SourceType: "email",
		CreatedAt: now.Add(-48 * time.Hour), FirstAdminReplyAt: now.Add(-47 * time.Hour), LastAdminReplyAt: now.Add(-47 * time.Hour),
		FirstCloseAt: now.Add(-24 * time.Hour), LastCloseAt: now.Add(-24 * time.Hour), Rating: 5, RatingAt: now.Add(-23 * time.Hour),
		UpdatedAt: now.Add(-23 * time.Hour)}
	s.ic.Put(closedOld)
	s.ic.Put(intercomtest.Conversation{ID: "2", State: "open", Priority: "not_priority", SourceType: "conversation", CreatedAt: now.Add(-3 * time.Hour), UpdatedAt: now.Add(-3 * time.Hour)})
	s.ic.Put(intercomtest.Conversation{ID: "3", State: "open", Priority: "priority", SourceType: "email", CreatedAt: now.Add(-7 * time.Hour), UpdatedAt: now.Add(-7 * time.Hour)})
	s.ic.Put(intercomtest.Conversation{ID: "4", State: "snoozed", Priority: "not_priority", SourceType: "phone_call", CreatedAt: now.Add(-7 * time.Hour),
		FirstAdminReplyAt: now.Add(-6 * time.Hour), LastAdminReplyAt: now.Add(-6 * time.Hour), UpdatedAt: now.Add(-6 * time.Hour)})
	s.start()
	s.Synced()
	if code, _, _ := s.Exp.Get("/-/ready"); code != 200 {
		t.Fatalf("/-/ready = %d after the first sync", code)
	}
	want := map[string]float64{
		ihd("helpdesk_open_tickets", "normal", "chat", "status", "open"):              1,
		ihd("helpdesk_open_tickets", "high", "email", "status", "open"):               1,
		ihd("helpdesk_open_tickets", "normal", "phone", "status", "on_hold"):          1,
		ihd("helpdesk_open_ticket_oldest_age_seconds", "normal", "chat"):              3 * 3600,
		ihd("helpdesk_open_ticket_oldest_age_seconds", "high", "email"):               7 * 3600,
		ihd("helpdesk_open_ticket_oldest_age_seconds", "normal", "phone"):             7 * 3600,
		ihd("helpdesk_open_tickets_older_than", "normal", "chat", "age", "1h"):        1,
		ihd("helpdesk_open_tickets_older_than", "high", "email", "age", "1h"):         1,
		ihd("helpdesk_open_tickets_older_than", "high", "email", "age", "4h"):         1,
		ihd("helpdesk_open_tickets_older_than", "normal", "phone", "age", "1h"):       1,
		ihd("helpdesk_open_tickets_older_than", "normal", "phone", "age", "4h"):       1,
		ihd("helpdesk_awaiting_first_reply_tickets", "normal", "chat"):                1,
		ihd("helpdesk_awaiting_first_reply_tickets", "high", "email"):                 1,
		ihd("helpdesk_awaiting_first_reply_oldest_age_seconds", "normal", "chat"):     3 * 3600,
		ihd("helpdesk_awaiting_first_reply_oldest_age_seconds", "high", "email"):      7 * 3600,
		ihd("helpdesk_first_reply_sla_tickets", "normal", "chat", "state", "within"):  1, // 3h of 8h
		ihd("helpdesk_first_reply_sla_tickets", "high", "email", "state", "breached"): 1, // 7h of 4h
		ihd("helpdesk_resolution_sla_tickets", "normal", "chat", "state", "within"):   1, // 3h of 3d
		ihd("helpdesk_resolution_sla_tickets", "high", "email", "state", "within"):    1, // 7h of 1d
		ihd("helpdesk_resolution_sla_tickets", "normal", "phone", "state", "within"):  1, // 7h of 3d
	}
	e2e.ExpectHelpdesk(t, s.Samples(), want, "")
	if t.Failed() {
		t.FailNow()
	}

	// A new conversation's life: created, replied, closed, reopened,
	// re-closed after a second reply, rated 5 then 1.
	created := time.Now().UTC().Truncate(time.Second)
	n := intercomtest.Conversation{ID: "100", State: "open", Priority: "priority", SourceType: "email", CreatedAt: created}
	step := func(mut func(*intercomtest.Conversation)) {
		mut(&n)
		n.UpdatedAt = time.Time{}
		s.ic.Put(n)
		s.Synced()
	}
	at := func(sec int) time.Time { return created.Add(time.Duration(sec) * time.Second) }
	step(func(*intercomtest.Conversation) {})
	step(func(c *intercomtest.Conversation) { c.FirstAdminReplyAt, c.LastAdminReplyAt = at(1800), at(1800) })
	step(func(c *intercomtest.Conversation) {
		c.State, c.FirstCloseAt, c.LastCloseAt = "closed", at(5400), at(5400)
	})
	step(func(c *intercomtest.Conversation) { c.State, c.CountReopens = "open", 1 })
	step(func(c *intercomtest.Conversation) {
		c.State, c.LastAdminReplyAt, c.LastCloseAt = "closed", at(6000), at(7200)
	})
	step(func(c *intercomtest.Conversation) { c.Rating, c.RatingAt = 5, at(7300) })
	step(func(c *intercomtest.Conversation) { c.Rating, c.RatingAt = 1, at(7400) })
	closedOld.UpdatedAt = time.Time{} // comes back unchanged: no event
	s.ic.Put(closedOld)
	s.Synced()

	for k, v := range map[string]float64{
		ihd("helpdesk_tickets_created_total", "high", "email"):                          1,
		ihd("helpdesk_tickets_solved_total", "high", "email"):                           2,
		ihd("helpdesk_tickets_reopened_total", "high", "email"):                         1,
		ihd("helpdesk_tickets_solved_first_contact_total", "high", "email"):             1,
		ihd("helpdesk_satisfaction_ratings_total", "high", "email", "rating", "good"):   1,
		ihd("helpdesk_satisfaction_ratings_total", "high", "email", "rating", "bad"):    1,
		ihd("helpdesk_first_reply_seconds_count", "high", "email", "hours", "calendar"): 1,
		ihd("helpdesk_first_reply_seconds_sum", "high", "email", "hours", "calendar"):   1800,
		ihd("helpdesk_first_reply_seconds_count", "high", "email", "hours", "business"): 1,
		ihd("helpdesk_first_reply_seconds_sum", "high", "email", "hours", "business"):   1800, // 24/7
		ihd("helpdesk_resolution_seconds_count", "high", "email", "hours", "calendar"):  2,
		ihd("helpdesk_resolution_seconds_sum", "high", "email", "hours", "calendar"):    5400 + 7200,
		ihd("helpdesk_resolution_seconds_count", "high", "email", "hours", "business"):  2,
		ihd("helpdesk_resolution_seconds_sum", "high", "email", "hours", "business"):    5400 + 7200,
		// Replies are observed at the first solve only: one reply.
		ihd("helpdesk_replies_per_solved_ticket_count", "high", "email"):        1,
		ihd("helpdesk_replies_per_solved_ticket_sum", "high", "email"):          1,
		ihd("helpdesk_tickets_first_solved_total", "high", "email"):             1,
		ihd("helpdesk_first_reply_sla_total", "high", "email", "result", "met"): 1, // 30m of 4h
		ihd("helpdesk_resolution_sla_total", "high", "email", "result", "met"):  1, // 90m of 1d
	} {
		want[k] = v
	}
	icBuckets(want, "helpdesk_first_reply_seconds_bucket", "high", "email", "calendar", 1800)
	icBuckets(want, "helpdesk_first_reply_seconds_bucket", "high", "email", "business", 1800)
	icBuckets(want, "helpdesk_resolution_seconds_bucket", "high", "email", "calendar", 5400, 7200)
	icBuckets(want, "helpdesk_resolution_seconds_bucket", "high", "email", "business", 5400, 7200)
	for _, le := range []string{"1", "2", "3", "4", "5", "7", "10", "15", "20", "+Inf"} {
		want[ihd("helpdesk_replies_per_solved_ticket_bucket", "high", "email", "le", le)] = 1
	}
	e2e.ExpectHelpdesk(t, s.Samples(), want, "")
	if t.Failed() {
		t.FailNow()
	}

	// An unknown state is rejected; the other conversation counts.
	// (Conversations of the newest second are read again at the next
	// sync, so the rejection may be counted more than once.)
	s.ic.Put(intercomtest.Conversation{ID: "200", State: "escalated", Priority: "priority", SourceType: "email"},
		intercomtest.Conversation{ID: "201", State: "open", Priority: "not_priority", SourceType: "conversation"})
	got := s.Synced()
	rejected := e2e.Series("cx_exporter_records_rejected_total", "source", "intercom", "reason", "unknown_value")
	if got[rejected] < 1 {
		t.Errorf("%s = %v, want at least 1", rejected, got[rejected])
	}
	want[ihd("helpdesk_tickets_created_total", "normal", "chat")] = 1
	want[ihd("helpdesk_open_tickets", "normal", "chat", "status", "open")] = 2
	want[ihd("helpdesk_awaiting_first_reply_tickets", "normal", "chat")] = 2
	want[ihd("helpdesk_first_reply_sla_tickets", "normal", "chat", "state", "within")] = 2
	want[ihd("helpdesk_resolution_sla_tickets", "normal", "chat", "state", "within")] = 2
	e2e.ExpectHelpdesk(t, got, want, "")
	if !strings.Contains(s.Exp.Logs(), `id=200`) {
		t.Errorf("the rejected conversation's id is not in the log")
	}

	// SIGKILL in the middle of a multi-page sync, then restart on the same state.
	s.ic.SetLatency(400 * time.Millisecond)
	time.Sleep(time.Second) // a new second: the rejected conversation leaves the re-read tail
	s.ic.ResetRequests()
	var batch []intercomtest.Conversation
	for i := range 50 {
		c := time.Now().UTC().Truncate(time.Second)
		batch = append(batch, intercomtest.Conversation{ID: strconv.Itoa(1000 + i), State: "closed", Priority: "not_priority", SourceType: "twitter", CreatedAt: c,
			FirstAdminReplyAt: c.Add(600 * time.Second), LastAdminReplyAt: c.Add(600 * time.Second), LastCloseAt: c.Add(3600 * time.Second)})
	}
	s.ic.Put(batch...)
	deadline := time.Now().Add(20 * time.Second)
	for len(s.ic.Requests()) < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	before := s.Samples()
	s.Exp.Kill()
	committed := before[ihd("helpdesk_tickets_created_total", "normal", "social")]
	if committed >= 50 {
		t.Fatalf("the sync was not interrupted (%v of 50 counted before the kill); slow it down", committed)
	}
	t.Logf("killed with %v of 50 conversations counted", committed)
	s.ic.SetLatency(0)
	s.start()
	s.WaitFor("the 50 conversations", func(m map[string]float64) bool {
		return m[ihd("helpdesk_tickets_created_total", "normal", "social")] >= 50
	})
	got = s.Synced()
	e2e.ExpectCountersNotBackwards(t, before, got)
	e2e.AddOneTouchSolves(want, func(name string, kv ...string) string { return ihd(name, "normal", "social", kv...) }, 50, 600, 3600)
	e2e.ExpectHelpdesk(t, got, want, "")

	if strings.Contains(s.Exp.Logs(), icE2EToken) {
		t.Error("the access token appears in the logs")
	}
	if err := s.Exp.Stop(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}
