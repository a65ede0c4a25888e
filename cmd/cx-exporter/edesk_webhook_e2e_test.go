package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakeedesk "github.com/cx-exporter/cx-exporter/internal/fake/edesk"
)

// TestWebhooksEdesk: with a 10-minute poll, each change reaches the
// metrics through a ticket notification (a shared secret header: eDesk
// documents no signature), which makes the source run its sync.
func TestWebhooksEdesk(t *testing.T) {
	t.Parallel()
	const secret = "e2e-edesk-webhook-fixture"
	ed := fakeedesk.NewServer(fakeedesk.Options{Token: edE2EToken, RateLimit: 6000})
	t.Cleanup(ed.Close)
	e2e.Binary(t)
	now := time.Now().UTC().Truncate(time.Second)
	old := now.Add(-3 * time.Hour)
	ed.Put(fakeedesk.Ticket{ID: 1, ChannelID: edForm, Status: "Open", CreatedAt: old, UpdatedAt: old, Items: []fakeedesk.Item{edCustomer(old)}})
	env := []string{"CX_EDESK_URL=" + ed.URL, "CX_EDESK_API_TOKEN=" + edE2EToken, "CX_EDESK_WEBHOOK_SECRET=" + secret,
		"CX_STATE_DIR=" + t.TempDir(), "CX_POLL_INTERVAL=10m", "CX_SLA_HOURS=calendar", "CX_BUSINESS_HOURS=24/7", "CX_LOG_LEVEL=debug"}
	w := &e2e.Waiter{T: t, Source: "edesk"}
	w.Exp = e2e.Start(t, env)
	firstSync(w)
	hook := "http://" + w.Exp.Addr + "/api/v1/webhooks/edesk"
	ed.SendWebhooks(hook, secret)
	k := func(name, channel string, kv ...string) string {
		return e2e.HelpdeskKey("edesk", name, "none", channel, kv...)
	}

	var lat latencies
	created := time.Now().UTC().Truncate(time.Second)
	ed.Put(fakeedesk.Ticket{ID: 100, ChannelID: edEmail, Status: "Open", CreatedAt: created, Items: []fakeedesk.Item{edCustomer(created)}})
	lat.wait(w, "ticket created", map[string]float64{
		k("helpdesk_tickets_created_total", "email"):        1,
		k("helpdesk_awaiting_first_reply_tickets", "email"): 1,
	})
	ed.Reply(100, created.Add(time.Second))
	lat.wait(w, "ticket replied", map[string]float64{
		k("helpdesk_first_reply_seconds_count", "email", "hours", "calendar"): 1,
		k("helpdesk_awaiting_first_reply_tickets", "email"):                   0,
	})
	ed.SetStatus(100, "Closed", created.Add(2*time.Second))
	final := map[string]float64{
		k("helpdesk_tickets_created_total", "email"):                          1,
		k("helpdesk_tickets_solved_total", "email"):                           1,
		k("helpdesk_first_reply_seconds_count", "email", "hours", "calendar"): 1,
		k("helpdesk_resolution_seconds_count", "email", "hours", "calendar"):  1,
	}
	lat.wait(w, "ticket closed", final)

	reqsBefore, sentBefore := len(ed.Requests()), len(ed.Webhooks())
	const burst = 150
	for i := range burst {
		c := time.Now().UTC().Truncate(time.Second)
		ed.Put(fakeedesk.Ticket{ID: int64(1000 + i), ChannelID: edChat, Status: "Open", CreatedAt: c, Items: []fakeedesk.Item{edCustomer(c)}})
	}
	final[k("helpdesk_tickets_created_total", "chat")] = burst
	lat.wait(w, "the burst", final)
	sent := sentAll(t, func() int { return len(ed.Webhooks()) }, sentBefore+burst)
	want := webhookCounts{accepted: float64(sent)}
	waitWebhookCounts(w, "edesk", want)
	// Each sync lists the day's changed tickets, 100 a page: a few
	// requests per fetch, not one per webhook.
	if n := len(ed.Requests()) - reqsBefore; n > burst/5 {
		t.Errorf("%d webhooks cost %d requests, want at most %d", burst, n, burst/5)
	} else {
		t.Logf("%d webhooks: %d requests", burst, n)
	}

	send := func(body []byte, secret string) int {
		r, _ := fakeedesk.WebhookRequest(hook, secret, body)
		return post(t, r)
	}
	// A repeat: the header is no signature, so it is fetched again and
	// changes nothing.
	if c := send(fakeedesk.WebhookBody(100), secret); c != 200 {
		t.Errorf("repeat: %d", c)
	}
	want.accepted++
	for name, c := range map[string]struct{ got, want int }{
		"wrong secret": {send(fakeedesk.WebhookBody(100), "guess"), 401},
		"no secret":    {send(fakeedesk.WebhookBody(100), ""), 401},
		"huge":         {send([]byte(`{"pad":"`+strings.Repeat("x", 2<<20)+`"}`), secret), 413},
		"not json":     {send([]byte(`{ticket_id}`), secret), 400},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", name, c.got, c.want)
		}
	}
	want.rejected = 4
	send(fakeedesk.WebhookBody(999999), secret)
	send([]byte(`{"event":"user.updated","data":{"user_id":5}}`), secret)
	want.ignored += 2
	m := waitWebhookCounts(w, "edesk", want)
	expectSeries(t, m, final)
	if strings.Contains(w.Exp.Logs(), secret) {
		t.Error("the webhook secret reached the log")
	}
	t.Logf("change to metric: %v", lat)
}
