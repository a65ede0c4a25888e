package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakefreshdesk "github.com/cx-exporter/cx-exporter/internal/fake/freshdesk"
)

// TestWebhooksFreshdesk: with a 10-minute poll, each change reaches the
// metrics through an automation rule's webhook (a shared secret header),
// which makes the source run its sync.
func TestWebhooksFreshdesk(t *testing.T) {
	t.Parallel()
	const key, secret = "e2e-freshdesk-fixture-key", "e2e-freshdesk-webhook-fixture"
	fd := fakefreshdesk.NewServer(fakefreshdesk.Options{APIKey: key, RateLimit: 700})
	t.Cleanup(fd.Close)
	e2e.Binary(t)
	now := time.Now().UTC().Truncate(time.Second)
	fd.Put(fakefreshdesk.Ticket{ID: 1, Status: fdOpen, Priority: fdMedium, Source: fdPortal, CreatedAt: now.Add(-3 * time.Hour)})
	env := []string{"CX_FRESHDESK_URL=" + fd.URL, "CX_FRESHDESK_API_KEY=" + key, "CX_FRESHDESK_WEBHOOK_SECRET=" + secret,
		"CX_STATE_DIR=" + t.TempDir(), "CX_POLL_INTERVAL=10m", "CX_SLA_HOURS=calendar", "CX_BUSINESS_HOURS=24/7", "CX_LOG_LEVEL=debug"}
	w := &e2e.Waiter{T: t, Source: "freshdesk"}
	w.Exp = e2e.Start(t, env)
	firstSync(w)
	hook := "http://" + w.Exp.Addr + "/api/v1/webhooks/freshdesk"
	fd.SendWebhooks(hook, secret)
	k := func(name, priority, channel string, kv ...string) string {
		return e2e.HelpdeskKey("freshdesk", name, priority, channel, kv...)
	}

	var lat latencies
	created := time.Now().UTC().Truncate(time.Second)
	life := fakefreshdesk.Ticket{ID: 100, Status: fdOpen, Priority: fdUrgent, Source: fdEmail, CreatedAt: created}
	step := func(mut func(*fakefreshdesk.Ticket)) {
		mut(&life)
		life.UpdatedAt = time.Time{}
		fd.Put(life)
	}
	step(func(*fakefreshdesk.Ticket) {})
	lat.wait(w, "ticket created", map[string]float64{
		k("helpdesk_tickets_created_total", "urgent", "email"):        1,
		k("helpdesk_awaiting_first_reply_tickets", "urgent", "email"): 1,
	})
	step(func(t *fakefreshdesk.Ticket) { t.Stats.FirstRespondedAt = created.Add(time.Second) })
	lat.wait(w, "ticket replied", map[string]float64{
		k("helpdesk_first_reply_seconds_count", "urgent", "email", "hours", "calendar"): 1,
		k("helpdesk_awaiting_first_reply_tickets", "urgent", "email"):                   0,
	})
	step(func(t *fakefreshdesk.Ticket) { t.Status, t.Stats.ResolvedAt = fdResolved, created.Add(2*time.Second) })
	final := map[string]float64{
		k("helpdesk_tickets_created_total", "urgent", "email"):                          1,
		k("helpdesk_tickets_solved_total", "urgent", "email"):                           1,
		k("helpdesk_first_reply_seconds_count", "urgent", "email", "hours", "calendar"): 1,
		k("helpdesk_resolution_seconds_count", "urgent", "email", "hours", "calendar"):  1,
	}
	lat.wait(w, "ticket resolved", final)

	reqsBefore, sentBefore := len(fd.Requests()), len(fd.Webhooks())
	const burst = 150
	for i := range burst {
		fd.Put(fakefreshdesk.Ticket{ID: int64(1000 + i), Status: fdOpen, Priority: fdLow, Source: fdPortal})
	}
	final[k("helpdesk_tickets_created_total", "low", "web")] = burst
	lat.wait(w, "the burst", final)
	for len(fd.Webhooks()) < sentBefore+burst {
		time.Sleep(20 * time.Millisecond)
	}
	want := webhookCounts{accepted: float64(len(fd.Webhooks()))}
	waitWebhookCounts(w, "freshdesk", want)
	// Each sync reads ratings, tickets and deleted tickets: a few requests
	// per fetch, not one per webhook.
	if n := len(fd.Requests()) - reqsBefore; n > burst/5 {
		t.Errorf("%d webhooks cost %d requests, want at most %d", burst, n, burst/5)
	} else {
		t.Logf("%d webhooks: %d requests", burst, n)
	}

	send := func(body []byte, secret string) int {
		r, _ := fakefreshdesk.WebhookRequest(hook, secret, body)
		return post(t, r)
	}
	// A repeat: the header is no signature, so it is fetched again and
	// changes nothing.
	if c := send(fakefreshdesk.WebhookBody(100), secret); c != 200 {
		t.Errorf("repeat: %d", c)
	}
	want.accepted++
	for name, c := range map[string]struct{ got, want int }{
		"wrong secret": {send(fakefreshdesk.WebhookBody(100), "guess"), 401},
		"no secret":    {send(fakefreshdesk.WebhookBody(100), ""), 401},
		"huge":         {send([]byte(`{"pad":"`+strings.Repeat("x", 2<<20)+`"}`), secret), 413},
		"not json":     {send([]byte(`{{ticket.id}}`), secret), 400},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", name, c.got, c.want)
		}
	}
	want.rejected = 4
	send(fakefreshdesk.WebhookBody(999999), secret)
	send([]byte(`{"freshdesk_webhook":{"contact_id":"5"}}`), secret)
	want.ignored += 2
	m := waitWebhookCounts(w, "freshdesk", want)
	expectSeries(t, m, final)
	if strings.Contains(w.Exp.Logs(), secret) {
		t.Error("the webhook secret reached the log")
	}
	t.Logf("change to metric: %v", lat)
}
