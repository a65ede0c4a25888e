package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakechargebee "github.com/cx-exporter/cx-exporter/internal/fake/chargebee"
)

// TestWebhooksChargebee: with a 10-minute poll, each change reaches the
// metrics through Chargebee's webhook (basic auth), which makes the source
// run its incremental listing.
func TestWebhooksChargebee(t *testing.T) {
	t.Parallel()
	const key, user, pass = "e2e_fixture_not_a_key", "cx-exporter", "e2e-webhook-fixture-pw"
	cb := fakechargebee.NewServer(fakechargebee.Options{APIKey: key})
	t.Cleanup(cb.Close)
	e2e.Binary(t)
	item := func(price string, unit int64) []fakechargebee.Item {
		return []fakechargebee.Item{{ItemPriceID: price, Quantity: 1, UnitPrice: fakechargebee.Int64(unit)}}
	}
	cb.Put(fakechargebee.Subscription{ID: "old", CustomerID: "c-old", Status: "active", MRR: fakechargebee.Int64(1000),
		Items: item("basic-USD-Monthly", 1000), CreatedAt: cb.Now().Add(-48 * time.Hour)})
	env := []string{"CX_CHARGEBEE_URL=" + cb.URL, "CX_CHARGEBEE_API_KEY=" + key,
		"CX_CHARGEBEE_WEBHOOK_SECRET=" + user + ":" + pass,
		"CX_STATE_DIR=" + t.TempDir(), "CX_POLL_INTERVAL=10m", "CX_LOG_LEVEL=debug"}
	w := &e2e.Waiter{T: t, Source: "chargebee"}
	w.Exp = e2e.Start(t, env)
	firstSync(w)
	hook := "http://" + w.Exp.Addr + "/api/v1/webhooks/chargebee"
	cb.SendWebhooks(hook, user, pass)
	s := func(name string, kv ...string) string {
		return e2e.Series(name, append([]string{"source", "chargebee"}, kv...)...)
	}

	var lat latencies
	// The fake's clock moves only when told: bring it past the watermark.
	cb.Advance(time.Since(cb.Now()) + time.Second)
	cb.Put(fakechargebee.Subscription{ID: "new", CustomerID: "c-new", Status: "active", MRR: fakechargebee.Int64(5000), Items: item("pro-USD-Monthly", 5000)})
	lat.wait(w, "a new subscription", map[string]float64{
		s("billing_subscriptions_started_total", "plan", "pro-USD-Monthly"): 1,
		s("billing_mrr", "currency", "usd", "plan", "pro-USD-Monthly"):      50,
		s("billing_active_customers", "currency", "usd"):                    2,
	})
	cb.Advance(time.Second)
	cb.Put(fakechargebee.Subscription{ID: "old", CustomerID: "c-old", Status: "cancelled", MRR: fakechargebee.Int64(0),
		Items: item("basic-USD-Monthly", 1000), CancelledAt: cb.Now(), CancelReason: "not_paid"})
	final := map[string]float64{
		s("billing_subscriptions_started_total", "plan", "pro-USD-Monthly"):                            1,
		s("billing_subscriptions_churned_total", "plan", "basic-USD-Monthly", "reason", "involuntary"): 1,
		s("billing_customers_churned_total"):                                                           1,
		s("billing_active_customers", "currency", "usd"):                                               1,
	}
	lat.wait(w, "a cancellation", final)

	// A burst of 150 subscriptions: a few list pages.
	reqsBefore := len(cb.Requests())
	const burst = 150
	for i := range burst {
		if i%50 == 0 {
			cb.Advance(time.Second)
		}
		cb.Put(fakechargebee.Subscription{ID: "b" + itoa(int64(i)), CustomerID: "c-b" + itoa(int64(i)), Status: "active",
			MRR: fakechargebee.Int64(1000), Items: item("basic-USD-Monthly", 1000)})
	}
	final[s("billing_subscriptions_started_total", "plan", "basic-USD-Monthly")] = burst
	final[s("billing_active_customers", "currency", "usd")] = burst + 1
	lat.wait(w, "the burst", final)
	for len(cb.Webhooks()) < burst+2 {
		time.Sleep(20 * time.Millisecond)
	}
	want := webhookCounts{accepted: burst + 2}
	waitWebhookCounts(w, "chargebee", want)
	if n := len(cb.Requests()) - reqsBefore; n > burst/10 {
		t.Errorf("%d webhooks cost %d requests, want at most %d", burst, n, burst/10)
	} else {
		t.Logf("%d webhooks: %d list requests", burst, n)
	}

	// A delivery again: ignored (repeat); the wrong password, an event
	// outside the replay window, a huge body, no credentials: refused.
	d := cb.Webhooks()[0]
	send := func(body []byte, u, p string) int {
		r, _ := fakechargebee.WebhookRequest(hook, u, p, body)
		return post(t, r)
	}
	if c := send(d.Body, user, pass); c != 200 {
		t.Errorf("repeat: %d", c)
	}
	want.ignored++
	old := fakechargebee.EventBody("ev_old", "subscription_changed", time.Now().Add(-10*time.Minute), []byte(`{"subscription":{"id":"new"}}`))
	for name, c := range map[string]struct{ got, want int }{
		"wrong password": {send(d.Body, user, "guess"), 401},
		"expired":        {send(old, user, pass), 401},
		"huge":           {send([]byte(`{"object":"event","pad":"`+strings.Repeat("x", 2<<20)+`"}`), user, pass), 413},
		"no credentials": {rawPost(t, hook, d.Body, nil), 401},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", name, c.got, c.want)
		}
	}
	want.rejected = 4
	// An unknown subscription and an event about something else: ignored.
	send(fakechargebee.EventBody("ev_unknown", "subscription_changed", cb.Now(), []byte(`{"subscription":{"id":"nope","status":"cancelled"}}`)), user, pass)
	send([]byte(`{"id":"ev_cus","object":"event","occurred_at":`+itoa(cb.Now().Unix())+`,"event_type":"customer_changed","content":{"customer":{"id":"c-new"}}}`), user, pass)
	want.ignored += 2
	m := waitWebhookCounts(w, "chargebee", want)
	expectSeries(t, m, final)
	if strings.Contains(w.Exp.Logs(), pass) {
		t.Error("the webhook password reached the log")
	}
	t.Logf("change to metric: %v", lat)
}
