package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakeudesk "github.com/cx-exporter/cx-exporter/internal/fake/udesk"
)

// TestWebhooksUdesk: with a 10-minute poll, each change reaches the
// metrics through an event callback (a shared secret header: Udesk signs
// nothing), which makes the source run its sync.
func TestWebhooksUdesk(t *testing.T) {
	t.Parallel()
	const secret = "e2e-udesk-webhook-fixture"
	ud := fakeudesk.NewServer(fakeudesk.Options{Email: udE2EEmail, Token: udE2EToken, NoRateLimit: true})
	t.Cleanup(ud.Close)
	e2e.Binary(t)
	now := time.Now().UTC().Truncate(time.Second)
	ud.Put(fakeudesk.Ticket{ID: 1, StatusID: udOpen, PriorityID: udMedium, Platform: "hc", CreatedAt: now.Add(-3 * time.Hour), UpdatedAt: now.Add(-3 * time.Hour)})
	env := []string{"CX_UDESK_URL=" + ud.URL, "CX_UDESK_EMAIL=" + udE2EEmail, "CX_UDESK_API_TOKEN=" + udE2EToken,
		"CX_UDESK_REQUESTS_PER_MINUTE=6000", "CX_UDESK_WEBHOOK_SECRET=" + secret,
		"CX_STATE_DIR=" + t.TempDir(), "CX_POLL_INTERVAL=10m", "CX_SLA_HOURS=calendar", "CX_BUSINESS_HOURS=24/7", "CX_LOG_LEVEL=debug"}
	w := &e2e.Waiter{T: t, Source: "udesk"}
	w.Exp = e2e.Start(t, env)
	firstSync(w)
	hook := "http://" + w.Exp.Addr + "/api/v1/webhooks/udesk"
	ud.SendWebhooks(hook, secret)
	k := func(name, priority, channel string, kv ...string) string {
		return e2e.HelpdeskKey("udesk", name, priority, channel, kv...)
	}

	var lat latencies
	created := time.Now().UTC().Truncate(time.Second)
	life := fakeudesk.Ticket{ID: 100, StatusID: udOpen, PriorityID: udUrgent, Platform: "email", CreatedAt: created}
	step := func(mut func(*fakeudesk.Ticket)) {
		mut(&life)
		life.UpdatedAt = time.Time{}
		ud.Put(life)
	}
	step(func(*fakeudesk.Ticket) {})
	lat.wait(w, "work order created", map[string]float64{
		k("helpdesk_tickets_created_total", "urgent", "email"):        1,
		k("helpdesk_awaiting_first_reply_tickets", "urgent", "email"): 1,
	})
	step(func(t *fakeudesk.Ticket) { t.FirstReplyAt, t.StatusID = created.Add(time.Second), udSolving })
	lat.wait(w, "work order replied", map[string]float64{
		k("helpdesk_first_reply_seconds_count", "urgent", "email", "hours", "calendar"): 1,
		k("helpdesk_awaiting_first_reply_tickets", "urgent", "email"):                   0,
	})
	step(func(t *fakeudesk.Ticket) { t.StatusID, t.ResolvedAt = udResolved, created.Add(2*time.Second) })
	final := map[string]float64{
		k("helpdesk_tickets_created_total", "urgent", "email"):                          1,
		k("helpdesk_tickets_solved_total", "urgent", "email"):                           1,
		k("helpdesk_first_reply_seconds_count", "urgent", "email", "hours", "calendar"): 1,
		k("helpdesk_resolution_seconds_count", "urgent", "email", "hours", "calendar"):  1,
	}
	lat.wait(w, "work order resolved", final)

	reqsBefore, sentBefore := len(ud.Requests()), len(ud.Webhooks())
	const burst = 150
	for i := range burst {
		ud.Put(fakeudesk.Ticket{ID: int64(1000 + i), StatusID: udOpen, PriorityID: udLow, Platform: "hc", CreatedAt: time.Now().UTC()})
	}
	final[k("helpdesk_tickets_created_total", "low", "web")] = burst
	lat.wait(w, "the burst", final)
	sent := sentAll(t, func() int { return len(ud.Webhooks()) }, sentBefore+burst)
	want := webhookCounts{accepted: float64(sent)}
	waitWebhookCounts(w, "udesk", want)
	// Each sync lists the work orders updated since the cursor, 100 a
	// page: a few requests per fetch, not one per webhook.
	if n := len(ud.Requests()) - reqsBefore; n > burst/5 {
		t.Errorf("%d webhooks cost %d requests, want at most %d", burst, n, burst/5)
	} else {
		t.Logf("%d webhooks: %d requests", burst, n)
	}

	send := func(body []byte, secret string) int {
		r, _ := fakeudesk.WebhookRequest(hook, secret, body)
		return post(t, r)
	}
	// A repeat: the header is no signature, so it is fetched again and
	// changes nothing.
	if c := send(fakeudesk.WebhookBody(100), secret); c != 200 {
		t.Errorf("repeat: %d", c)
	}
	want.accepted++
	for name, c := range map[string]struct{ got, want int }{
		"wrong secret": {send(fakeudesk.WebhookBody(100), "guess"), 401},
		"no secret":    {send(fakeudesk.WebhookBody(100), ""), 401},
		"huge":         {send([]byte(`{"action":"`+strings.Repeat("x", 2<<20)+`"}`), secret), 413},
		"not json":     {send([]byte(`action=Ticket_update`), secret), 400},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", name, c.got, c.want)
		}
	}
	want.rejected = 4
	send(fakeudesk.WebhookBody(999999), secret)
	send([]byte(`{"action":"Customer_update","message":{"id":5,"nick_name":"x"}}`), secret)
	want.ignored += 2
	m := waitWebhookCounts(w, "udesk", want)
	expectSeries(t, m, final)
	if strings.Contains(w.Exp.Logs(), secret) {
		t.Error("the webhook secret reached the log")
	}
	t.Logf("change to metric: %v", lat)
}
