package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakepaddle "github.com/cx-exporter/cx-exporter/internal/fake/paddle"
)

// TestWebhooksPaddle: with a 10-minute poll, each change reaches the
// metrics through Paddle's signed notification, which makes the source
// read the event log from its cursor.
func TestWebhooksPaddle(t *testing.T) {
	t.Parallel()
	const secret = "pdl_ntfset_e2e_fixture_not_a_secret"
	f := fakepaddle.NewServer(fakepaddle.Options{})
	t.Cleanup(f.Close)
	e2e.Binary(t)
	basic := f.CreatePrice(fakepaddle.Price{ProductID: "pro_basic", Currency: "USD", Amount: 2000})
	pro := f.CreatePrice(fakepaddle.Price{ProductID: "pro_pro", Currency: "USD", Amount: 5000})
	old := f.CreateSubscription(fakepaddle.Subscription{CreatedAt: f.Now().Add(-48 * time.Hour), Items: []fakepaddle.Item{{PriceID: basic}}})
	env := []string{"CX_PADDLE_URL=" + f.URL, "CX_PADDLE_API_KEY=" + fakepaddle.DefaultAPIKey, "CX_PADDLE_WEBHOOK_SECRET=" + secret,
		"CX_STATE_DIR=" + t.TempDir(), "CX_POLL_INTERVAL=10m", "CX_LOG_LEVEL=debug"}
	w := &e2e.Waiter{T: t, Source: "paddle"}
	w.Exp = e2e.Start(t, env)
	firstSync(w)
	hook := "http://" + w.Exp.Addr + "/api/v1/webhooks/paddle"
	f.SendWebhooks(hook, secret)
	s := func(name string, kv ...string) string {
		return e2e.Series(name, append([]string{"source", "paddle"}, kv...)...)
	}

	var lat latencies
	f.CreateSubscription(fakepaddle.Subscription{Items: []fakepaddle.Item{{PriceID: pro}}})
	lat.wait(w, "a new subscription", map[string]float64{
		s("billing_subscriptions_started_total", "plan", "pro_pro"): 1,
		s("billing_mrr", "currency", "usd", "plan", "pro_pro"):      50,
		s("billing_active_customers", "currency", "usd"):            2,
	})
	f.UpdateSubscription(old, func(x *fakepaddle.Subscription) { x.Status = "canceled" })
	final := map[string]float64{
		s("billing_subscriptions_started_total", "plan", "pro_pro"):                          1,
		s("billing_subscriptions_churned_total", "plan", "pro_basic", "reason", "voluntary"): 1,
		s("billing_customers_churned_total"):                                                 1,
		s("billing_mrr_movements_total", "currency", "usd", "kind", "churn"):                 20,
		s("billing_active_customers", "currency", "usd"):                                     1,
	}
	lat.wait(w, "a cancellation", final)

	reqsBefore := len(f.Requests())
	sentBefore := len(f.Webhooks())
	const burst = 150
	for range burst {
		f.CreateSubscription(fakepaddle.Subscription{Items: []fakepaddle.Item{{PriceID: basic}}})
	}
	final[s("billing_subscriptions_started_total", "plan", "pro_basic")] = burst
	final[s("billing_active_customers", "currency", "usd")] = burst + 1
	lat.wait(w, "the burst", final)
	for len(f.Webhooks()) < sentBefore+burst {
		time.Sleep(20 * time.Millisecond)
	}
	// Every notification of a subscription the log brought: accepted
	// (creation sends subscription.created and .activated).
	want := webhookCounts{accepted: float64(len(f.Webhooks()))}
	waitWebhookCounts(w, "paddle", want)
	if n := len(f.Requests()) - reqsBefore; n > burst/10 {
		t.Errorf("%d notifications cost %d requests, want at most %d", len(f.Webhooks())-sentBefore, n, burst/10)
	} else {
		t.Logf("%d notifications: %d requests", len(f.Webhooks())-sentBefore, n)
	}

	d := f.Webhooks()[0]
	send := func(body []byte, sig string) int {
		return rawPost(t, hook, body, map[string]string{"Content-Type": "application/json", fakepaddle.SignatureHeader: sig})
	}
	sig := fakepaddle.Sign(secret, time.Now(), d.Body)
	send(d.Body, sig) // Paddle's retry: the same subscription again, applied already
	send(d.Body, sig) // the very same delivery: a repeat
	want.accepted++
	want.ignored++
	for name, c := range map[string]struct{ got, want int }{
		"bad signature": {send(d.Body, fakepaddle.Sign("other", time.Now(), d.Body)), 401},
		"expired":       {send(d.Body, fakepaddle.Sign(secret, time.Now().Add(-10*time.Minute), d.Body)), 401},
		"unsigned":      {send(d.Body, ""), 401},
		"huge":          {send([]byte(`{"pad":"`+strings.Repeat("x", 2<<20)+`"}`), "ts=1;h1=00"), 413},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", name, c.got, c.want)
		}
	}
	want.rejected = 4
	for _, b := range []string{
		`{"event_id":"evt_x","event_type":"subscription.updated","occurred_at":"2026-01-01T00:00:00Z","data":{"id":"sub_unknown","status":"canceled"}}`,
		`{"event_id":"evt_y","event_type":"transaction.completed","occurred_at":"2026-01-01T00:00:00Z","data":{"id":"txn_1"}}`,
	} {
		if c := send([]byte(b), fakepaddle.Sign(secret, time.Now(), []byte(b))); c != 200 {
			t.Errorf("%s: %d", b, c)
		}
	}
	want.ignored += 2
	m := waitWebhookCounts(w, "paddle", want)
	expectSeries(t, m, final)
	if strings.Contains(w.Exp.Logs(), secret) {
		t.Error("the webhook secret reached the log")
	}
	t.Logf("change to metric: %v", lat)
}
