package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

const zdWebhookSecret = "e2e-webhook-fixture-9k2m" // a fixture, shaped like no real secret

func TestWebhooksZendesk(t *testing.T) {
	t.Parallel()
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: e2eEmail, APIToken: e2eToken, NoRateLimit: true})
	t.Cleanup(zd.Close)
	e2e.Binary(t)
	now := time.Now().UTC()
	zd.Put(fakezendesk.Ticket{ID: 1, Status: "open", Priority: "normal", Channel: "web", CreatedAt: now.Add(-3 * time.Hour)})

	env := []string{
		"CX_ZENDESK_URL=" + zd.URL, "CX_ZENDESK_EMAIL=" + e2eEmail, "CX_ZENDESK_API_TOKEN=" + e2eToken,
		"CX_ZENDESK_WEBHOOK_SECRET=" + zdWebhookSecret, "CX_ZENDESK_EXPORT_RATE=600",
		"CX_STATE_DIR=" + t.TempDir(), "CX_POLL_INTERVAL=10m", "CX_SLA_HOURS=calendar", "CX_LOG_LEVEL=debug",
	}
	w := &e2e.Waiter{T: t, Source: "zendesk", Request: "export request", Served: e2e.ServedBy(zd.Requests,
		func(r fakezendesk.Request) (time.Time, bool) {
			return r.At, r.Status == 200 && r.Path == fakezendesk.ExportPath
		})}
	w.Exp = e2e.Start(t, env)
	firstSync(w)
	hook := "http://" + w.Exp.Addr + "/api/v1/webhooks/zendesk"
	zd.SendWebhooks(hook, zdWebhookSecret)
	exports := func() int {
		n := 0
		for _, r := range zd.Requests() {
			if r.Path == fakezendesk.ExportPath {
				n++
			}
		}
		return n
	}
	exportsBefore := exports()

	var lat latencies
	// The life of ticket 100, each step through a webhook.
	life := fakezendesk.Ticket{ID: 100, Status: "new", Priority: "urgent", Channel: "email", CreatedAt: time.Now().UTC()}
	step := func(mut func(*fakezendesk.Ticket)) {
		mut(&life)
		life.UpdatedAt = time.Time{}
		zd.Put(life)
	}
	step(func(*fakezendesk.Ticket) {})
	lat.wait(w, "ticket 100 created", map[string]float64{
		hd("helpdesk_tickets_created_total", "urgent", "email"):                                                            1,
		hd("helpdesk_open_tickets", "urgent", "email", "status", "new"):                                                    1,
		hd("helpdesk_awaiting_first_reply_tickets", "urgent", "email"):                                                     1,
		e2e.Series("helpdesk_open_tickets", "source", "zendesk", "priority", "normal", "channel", "web", "status", "open"): 1,
	})
	step(func(t *fakezendesk.Ticket) {
		t.Status, t.Metrics.Replies = "open", 1
		t.Metrics.ReplyTime = &fakezendesk.MinutePair{Calendar: 30, Business: 20}
	})
	lat.wait(w, "ticket 100 replied", map[string]float64{
		hd("helpdesk_first_reply_seconds_count", "urgent", "email", "hours", "calendar"): 1,
		hd("helpdesk_first_reply_seconds_sum", "urgent", "email", "hours", "calendar"):   1800,
		hd("helpdesk_first_reply_sla_total", "urgent", "email", "result", "met"):         1,
		hd("helpdesk_awaiting_first_reply_tickets", "urgent", "email"):                   0,
	})
	step(func(t *fakezendesk.Ticket) {
		t.Status, t.Metrics.SolvedAt = "solved", time.Now().UTC()
		t.Metrics.FullResolutionTime = &fakezendesk.MinutePair{Calendar: 90, Business: 60}
	})
	lat.wait(w, "ticket 100 solved", map[string]float64{
		hd("helpdesk_tickets_solved_total", "urgent", "email"):                        1,
		hd("helpdesk_tickets_first_solved_total", "urgent", "email"):                  1,
		hd("helpdesk_tickets_solved_first_contact_total", "urgent", "email"):          1,
		hd("helpdesk_resolution_seconds_sum", "urgent", "email", "hours", "calendar"): 5400,
	})
	step(func(t *fakezendesk.Ticket) { t.Status, t.Metrics.Reopens = "open", 1 })
	lat.wait(w, "ticket 100 reopened", map[string]float64{hd("helpdesk_tickets_reopened_total", "urgent", "email"): 1})
	step(func(t *fakezendesk.Ticket) {
		t.Status, t.Metrics.Replies, t.Metrics.SolvedAt = "solved", 2, time.Now().UTC()
		t.Metrics.FullResolutionTime = &fakezendesk.MinutePair{Calendar: 120, Business: 80}
	})
	final := map[string]float64{
		hd("helpdesk_tickets_created_total", "urgent", "email"):                          1,
		hd("helpdesk_tickets_solved_total", "urgent", "email"):                           2,
		hd("helpdesk_tickets_reopened_total", "urgent", "email"):                         1,
		hd("helpdesk_tickets_first_solved_total", "urgent", "email"):                     1,
		hd("helpdesk_tickets_solved_first_contact_total", "urgent", "email"):             1,
		hd("helpdesk_first_reply_seconds_count", "urgent", "email", "hours", "calendar"): 1,
		hd("helpdesk_resolution_seconds_count", "urgent", "email", "hours", "calendar"):  2,
		hd("helpdesk_resolution_seconds_sum", "urgent", "email", "hours", "calendar"):    5400 + 7200,
		hd("helpdesk_open_tickets", "urgent", "email", "status", "open"):                 0,
	}
	lat.wait(w, "ticket 100 solved again", final)

	// A burst: 200 tickets created and solved at once cost a few batched
	// reads, not one per webhook.
	reads := func() int {
		n := 0
		for _, r := range zd.Requests() {
			if r.Path == fakezendesk.ShowManyPath {
				n++
			}
		}
		return n
	}
	readsBefore, sentBefore := reads(), len(zd.Webhooks())
	const burst = 200
	for i := range burst {
		zd.Put(fakezendesk.Ticket{ID: int64(1000 + i), Status: "solved", Priority: "low", Channel: "web", CreatedAt: time.Now().UTC(),
			Metrics: fakezendesk.Metrics{Replies: 1, SolvedAt: time.Now().UTC(),
				ReplyTime: &fakezendesk.MinutePair{Calendar: 10, Business: 10}, FullResolutionTime: &fakezendesk.MinutePair{Calendar: 60, Business: 60}}})
	}
	final[hd("helpdesk_tickets_created_total", "low", "web")] = burst
	final[hd("helpdesk_tickets_solved_total", "low", "web")] = burst
	final[hd("helpdesk_first_reply_seconds_sum", "low", "web", "hours", "calendar")] = burst * 600
	lat.wait(w, "the burst", final)
	sent := len(zd.Webhooks())
	for sent-sentBefore < burst {
		time.Sleep(20 * time.Millisecond)
		sent = len(zd.Webhooks())
	}
	// Let the last debounce window pass before counting reads.
	accepted := float64(sent)
	waitWebhookCounts(w, "zendesk", webhookCounts{accepted: accepted})
	if n := reads() - readsBefore; n > burst/20 {
		t.Errorf("%d webhooks cost %d show_many requests, want at most %d", burst, n, burst/20)
	} else {
		t.Logf("%d webhooks: %d show_many requests", burst, n)
	}

	// Repeats, replays and reordering count nothing twice.
	body := fakezendesk.WebhookBody(100, "status_changed", "new", time.Now().Add(-time.Minute)) // an old status: not trusted
	at := time.Now()
	r1, _ := fakezendesk.WebhookRequest(hook, zdWebhookSecret, at, "inv-replay-1", body)
	r2, _ := fakezendesk.WebhookRequest(hook, zdWebhookSecret, at, "inv-replay-1", body)
	r3, _ := fakezendesk.WebhookRequest(hook, zdWebhookSecret, at.Add(time.Second), "inv-replay-2", body)
	if c := post(t, r1); c != 200 {
		t.Errorf("webhook: %d", c)
	}
	if c := post(t, r2); c != 200 { // the same delivery again: ignored
		t.Errorf("repeated webhook: %d", c)
	}
	if c := post(t, r3); c != 200 { // a new delivery about the same ticket: fetched again, changes nothing
		t.Errorf("second webhook: %d", c)
	}
	want := webhookCounts{accepted: accepted + 2, ignored: 1}

	// Refusals: a bad signature, an expired timestamp, a huge body.
	bad, _ := fakezendesk.WebhookRequest(hook, "not-the-secret", time.Now(), "inv-bad", body)
	old, _ := fakezendesk.WebhookRequest(hook, zdWebhookSecret, time.Now().Add(-10*time.Minute), "inv-old", body)
	huge := []byte(`{"ticket_id":"100","pad":"` + strings.Repeat("x", 2<<20) + `"}`)
	big, _ := fakezendesk.WebhookRequest(hook, zdWebhookSecret, time.Now(), "inv-big", huge)
	for name, c := range map[string]struct {
		r    int
		want int
	}{"bad signature": {post(t, bad), 401}, "expired": {post(t, old), 401}, "huge": {post(t, big), 413},
		"unsigned": {rawPost(t, hook, body, map[string]string{"Content-Type": "application/json"}), 401}} {
		if c.r != c.want {
			t.Errorf("%s: %d, want %d", name, c.r, c.want)
		}
	}
	want.rejected = 4
	// An unknown ticket and an event about something else: ignored.
	unknown, _ := fakezendesk.WebhookRequest(hook, zdWebhookSecret, time.Now(), "inv-unknown", fakezendesk.WebhookBody(999999, "status_changed", "open", time.Now()))
	user, _ := fakezendesk.WebhookRequest(hook, zdWebhookSecret, time.Now(), "inv-user", []byte(`{"type":"zen:event-type:user.created","detail":{"id":"42"}}`))
	post(t, unknown)
	post(t, user)
	want.ignored += 2
	m := waitWebhookCounts(w, "zendesk", want)
	expectSeries(t, m, final)
	if exports() != exportsBefore {
		t.Errorf("the export was read %d times while webhooks ran: the poll, not the webhooks, made the numbers", exports()-exportsBefore)
	}
	if age, ok := m[e2e.Series("cx_exporter_newest_change_age_seconds", "source", "zendesk")]; !ok || age > 60 {
		t.Errorf("cx_exporter_newest_change_age_seconds = %v (present %v), want the age of the burst", age, ok)
	}

	// The export then brings every ticket again: nothing counts twice.
	if err := w.Exp.Stop(); err != nil {
		t.Fatal(err)
	}
	restart := float64(time.Now().UnixNano()) / 1e9
	w.Exp = e2e.Start(t, env)
	m = w.WaitFor("a sync after the restart", func(m map[string]float64) bool { return m[e2e.SyncSuccessKey("zendesk")] >= restart })
	expectSeries(t, m, final)
	for _, s := range []string{zdWebhookSecret, e2eToken} {
		if strings.Contains(w.Exp.Logs(), s) {
			t.Errorf("a secret reached the log")
		}
	}
	t.Logf("change to metric: %v", lat)
}
