package main_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakeintercom "github.com/cx-exporter/cx-exporter/internal/fake/intercom"
)

// TestWebhooksIntercom: with a 10-minute poll, each change reaches the
// metrics through Intercom's signed notification, which makes the source
// run its search for conversations updated since the cursor.
func TestWebhooksIntercom(t *testing.T) {
	t.Parallel()
	const token, secret = "e2e-intercom-fixture-token", "e2e-intercom-client-secret-fixture"
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: token, NoRateLimit: true})
	t.Cleanup(ic.Close)
	e2e.Binary(t)
	now := time.Now().UTC()
	ic.Put(fakeintercom.Conversation{ID: "1", State: "open", Priority: "not_priority", SourceType: "conversation",
		CreatedAt: now.Add(-3 * time.Hour), UpdatedAt: now.Add(-3 * time.Hour)})
	env := []string{"CX_INTERCOM_URL=" + ic.URL, "CX_INTERCOM_TOKEN=" + token, "CX_INTERCOM_WEBHOOK_SECRET=" + secret,
		"CX_STATE_DIR=" + t.TempDir(), "CX_POLL_INTERVAL=10m", "CX_SLA_HOURS=calendar", "CX_BUSINESS_HOURS=24/7", "CX_LOG_LEVEL=debug"}
	w := &e2e.Waiter{T: t, Source: "intercom"}
	w.Exp = e2e.Start(t, env)
	firstSync(w)
	hook := "http://" + w.Exp.Addr + "/api/v1/webhooks/intercom"
	ic.SendWebhooks(hook, secret)
	k := func(name, priority, channel string, kv ...string) string {
		return e2e.HelpdeskKey("intercom", name, priority, channel, kv...)
	}

	var lat latencies
	created := time.Now().UTC().Truncate(time.Second)
	life := fakeintercom.Conversation{ID: "100", State: "open", Priority: "priority", SourceType: "email", CreatedAt: created}
	step := func(mut func(*fakeintercom.Conversation)) {
		mut(&life)
		life.UpdatedAt = time.Time{}
		ic.Put(life)
	}
	step(func(*fakeintercom.Conversation) {})
	lat.wait(w, "conversation created", map[string]float64{
		k("helpdesk_tickets_created_total", "high", "email"):        1,
		k("helpdesk_awaiting_first_reply_tickets", "high", "email"): 1,
	})
	step(func(c *fakeintercom.Conversation) {
		c.FirstAdminReplyAt, c.LastAdminReplyAt = created.Add(time.Second), created.Add(time.Second)
	})
	lat.wait(w, "conversation replied", map[string]float64{
		k("helpdesk_first_reply_seconds_count", "high", "email", "hours", "calendar"): 1,
		k("helpdesk_awaiting_first_reply_tickets", "high", "email"):                   0,
	})
	step(func(c *fakeintercom.Conversation) {
		c.State, c.FirstCloseAt, c.LastCloseAt = "closed", created.Add(2*time.Second), created.Add(2*time.Second)
	})
	final := map[string]float64{
		k("helpdesk_tickets_created_total", "high", "email"):                          1,
		k("helpdesk_tickets_solved_total", "high", "email"):                           1,
		k("helpdesk_first_reply_seconds_count", "high", "email", "hours", "calendar"): 1,
		k("helpdesk_resolution_seconds_count", "high", "email", "hours", "calendar"):  1,
	}
	lat.wait(w, "conversation closed", final)

	reqsBefore, sentBefore := len(ic.Requests()), len(ic.Webhooks())
	const burst = 150
	for i := range burst {
		ic.Put(fakeintercom.Conversation{ID: strconv.Itoa(1000 + i), State: "open", Priority: "not_priority", SourceType: "conversation"})
	}
	final[k("helpdesk_tickets_created_total", "normal", "chat")] = burst
	lat.wait(w, "the burst", final)
	for len(ic.Webhooks()) < sentBefore+burst {
		time.Sleep(20 * time.Millisecond)
	}
	want := webhookCounts{accepted: float64(len(ic.Webhooks()))}
	waitWebhookCounts(w, "intercom", want)
	if n := len(ic.Requests()) - reqsBefore; n > burst/10 {
		t.Errorf("%d webhooks cost %d requests, want at most %d", burst, n, burst/10)
	} else {
		t.Logf("%d webhooks: %d search requests", burst, n)
	}

	d := ic.Webhooks()[0]
	send := func(body []byte, sig string) int {
		return rawPost(t, hook, body, map[string]string{"Content-Type": "application/json", fakeintercom.SignatureHeader: sig})
	}
	if c := send(d.Body, fakeintercom.Sign(secret, d.Body)); c != 200 { // the same notification again: a repeat
		t.Errorf("repeat: %d", c)
	}
	want.ignored++
	again := fakeintercom.NotificationBody("notif_again", "conversation.admin.replied", "100", time.Now())
	send(again, fakeintercom.Sign(secret, again)) // a new notification, nothing new to count
	want.accepted++
	old := fakeintercom.NotificationBody("notif_old", "conversation.admin.replied", "100", time.Now().Add(-10*time.Minute))
	for name, c := range map[string]struct{ got, want int }{
		"bad signature": {send(d.Body, fakeintercom.Sign("other", d.Body)), 401},
		"expired":       {send(old, fakeintercom.Sign(secret, old)), 401},
		"unsigned":      {send(d.Body, ""), 401},
		"huge":          {send([]byte(`{"pad":"`+strings.Repeat("x", 2<<20)+`"}`), "sha1=00"), 413},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", name, c.got, c.want)
		}
	}
	want.rejected = 4
	unknown := fakeintercom.NotificationBody("notif_unknown", "conversation.admin.closed", "999999", time.Now())
	send(unknown, fakeintercom.Sign(secret, unknown))
	ping := []byte(`{"type":"notification_event","id":"notif_ping","topic":"ping","created_at":` + itoa(time.Now().Unix()) + `,"data":{"item":{"type":"ping"}}}`)
	send(ping, fakeintercom.Sign(secret, ping))
	want.ignored += 2
	m := waitWebhookCounts(w, "intercom", want)
	expectSeries(t, m, final)
	if strings.Contains(w.Exp.Logs(), secret) {
		t.Error("the webhook secret reached the log")
	}
	t.Logf("change to metric: %v", lat)
}
