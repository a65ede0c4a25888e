package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakehelpscout "github.com/cx-exporter/cx-exporter/internal/fake/helpscout"
)

// TestWebhooksHelpScout: with a 10-minute poll, each change reaches the
// metrics through Help Scout's signed webhook, which makes the source list
// the conversations modified since its cursor.
func TestWebhooksHelpScout(t *testing.T) {
	t.Parallel()
	const secret = "e2e-helpscout-webhook-fixture"
	hs := fakehelpscout.NewServer(fakehelpscout.Options{AppID: hsE2EAppID, AppSecret: hsE2ESecret, NoRateLimit: true})
	t.Cleanup(hs.Close)
	e2e.Binary(t)
	now := time.Now().UTC().Truncate(time.Second)
	hs.Put(fakehelpscout.Conversation{ID: 1, Status: "active", Source: "chat", MailboxID: 7, CreatedAt: now.Add(-3 * time.Hour)})
	env := []string{"CX_HELPSCOUT_URL=" + hs.URL, "CX_HELPSCOUT_APP_ID=" + hsE2EAppID, "CX_HELPSCOUT_APP_SECRET=" + hsE2ESecret,
		"CX_HELPSCOUT_WEBHOOK_SECRET=" + secret,
		"CX_STATE_DIR=" + t.TempDir(), "CX_POLL_INTERVAL=10m", "CX_SLA_HOURS=calendar", "CX_BUSINESS_HOURS=24/7", "CX_LOG_LEVEL=debug"}
	w := &e2e.Waiter{T: t, Source: "helpscout"}
	w.Exp = e2e.Start(t, env)
	firstSync(w)
	hook := "http://" + w.Exp.Addr + "/api/v1/webhooks/helpscout"
	hs.SendWebhooks(hook, secret)
	k := func(name, channel string, kv ...string) string {
		return e2e.HelpdeskKey("helpscout", name, "none", channel, kv...)
	}

	var lat latencies
	created := time.Now().UTC().Truncate(time.Second)
	hs.Put(fakehelpscout.Conversation{ID: 100, Status: "active", Source: "email", MailboxID: 7, CreatedAt: created})
	lat.wait(w, "conversation created", map[string]float64{
		k("helpdesk_tickets_created_total", "email"):        1,
		k("helpdesk_awaiting_first_reply_tickets", "email"): 1,
	})
	hs.AddThread(100, fakehelpscout.Thread{CreatedAt: created.Add(time.Second)})
	lat.wait(w, "conversation replied", map[string]float64{
		k("helpdesk_first_reply_seconds_count", "email", "hours", "calendar"): 1,
		k("helpdesk_awaiting_first_reply_tickets", "email"):                   0,
	})
	hs.Put(fakehelpscout.Conversation{ID: 100, Status: "closed", Source: "email", MailboxID: 7, CreatedAt: created, ClosedAt: created.Add(2 * time.Second)})
	final := map[string]float64{
		k("helpdesk_tickets_created_total", "email"):                          1,
		k("helpdesk_tickets_solved_total", "email"):                           1,
		k("helpdesk_first_reply_seconds_count", "email", "hours", "calendar"): 1,
		k("helpdesk_resolution_seconds_count", "email", "hours", "calendar"):  1,
	}
	lat.wait(w, "conversation closed", final)

	reqsBefore, sentBefore := len(hs.Requests()), len(hs.Webhooks())
	const burst = 150
	for i := range burst {
		hs.Put(fakehelpscout.Conversation{ID: int64(1000 + i), Status: "active", Source: "phone", MailboxID: 7, CreatedAt: time.Now().UTC()})
	}
	final[k("helpdesk_tickets_created_total", "phone")] = burst
	lat.wait(w, "the burst", final)
	sent := sentAll(t, func() int { return len(hs.Webhooks()) }, sentBefore+burst)
	want := webhookCounts{accepted: float64(sent)}
	waitWebhookCounts(w, "helpscout", want)
	// The listing, and the threads of each new conversation (a request
	// per conversation, as at every sync: the first reply is in them).
	t.Logf("%d webhooks: %d requests", burst, len(hs.Requests())-reqsBefore)

	d := hs.Webhooks()[0]
	send := func(body []byte, sig, event string) int {
		return rawPost(t, hook, body, map[string]string{"Content-Type": "application/json",
			fakehelpscout.SignatureHeader: sig, fakehelpscout.EventHeader: event})
	}
	if c := send(d.Body, fakehelpscout.Sign(secret, d.Body), "convo.updated"); c != 200 { // a repeat
		t.Errorf("repeat: %d", c)
	}
	want.ignored++
	for name, c := range map[string]struct{ got, want int }{
		"bad signature": {send(d.Body, fakehelpscout.Sign("other", d.Body), "convo.updated"), 401},
		"unsigned":      {send(d.Body, "", "convo.updated"), 401},
		"huge":          {send([]byte(`{"pad":"`+strings.Repeat("x", 2<<20)+`"}`), "AAAA", "convo.updated"), 413},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", name, c.got, c.want)
		}
	}
	want.rejected = 3
	unknown := []byte(`{"id":999999,"number":999999,"status":"closed"}`)
	send(unknown, fakehelpscout.Sign(secret, unknown), "convo.updated")
	customer := []byte(`{"id":5,"firstName":"Ada"}`)
	send(customer, fakehelpscout.Sign(secret, customer), "customer.created")
	want.ignored += 2
	m := waitWebhookCounts(w, "helpscout", want)
	expectSeries(t, m, final)
	if strings.Contains(w.Exp.Logs(), secret) {
		t.Error("the webhook secret reached the log")
	}
	t.Logf("change to metric: %v", lat)
}
