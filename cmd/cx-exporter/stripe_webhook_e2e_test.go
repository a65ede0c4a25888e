package main_test

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakestripe "github.com/cx-exporter/cx-exporter/internal/fake/stripe"
)

const stripeWebhookSecret = "whsec_e2e_fixture_not_a_secret"

// TestWebhooksStripe: with a 10-minute poll, each change reaches the
// metrics through its signed event webhook, which makes the exporter read
// the events list from its cursor (the poll's own path).
func TestWebhooksStripe(t *testing.T) {
	t.Parallel()
	if h := time.Now().UTC(); h.Hour() == 23 && h.Minute() >= 58 {
		t.Skip("too close to 00:00 UTC: the ratios' day would change mid-test")
	}
	f := fakestripe.NewServer(fakestripe.Options{})
	t.Cleanup(f.Close)
	e2e.Binary(t)
	basic := f.CreatePrice(fakestripe.Price{Product: "prod_basic", Currency: "usd", UnitAmount: 2000})
	pro := f.CreatePrice(fakestripe.Price{Product: "prod_pro", Currency: "usd", UnitAmount: 5000})
	old := f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Created: f.Now().Add(-48 * time.Hour),
		Items: []fakestripe.Item{{Price: basic}}})
	env := []string{
		"CX_STRIPE_API_KEY=" + fakestripe.DefaultAPIKey, "CX_STRIPE_URL=" + f.URL,
		"CX_STRIPE_WEBHOOK_SECRET=" + stripeWebhookSecret,
		"CX_STATE_DIR=" + t.TempDir(), "CX_POLL_INTERVAL=10m", "CX_LOG_LEVEL=debug",
	}
	w := &e2e.Waiter{T: t, Source: "stripe"}
	w.Exp = e2e.Start(t, env)
	firstSync(w)
	hook := "http://" + w.Exp.Addr + "/api/v1/webhooks/stripe"
	f.SendWebhooks(hook, stripeWebhookSecret)

	var lat latencies
	cus := f.CreateCustomer()
	f.CreateSubscription(fakestripe.Subscription{Customer: cus, Items: []fakestripe.Item{{Price: pro}}})
	lat.wait(w, "a new subscription", map[string]float64{
		bl("billing_subscriptions_started_total", "plan", "prod_pro"):       1,
		bl("billing_mrr", "currency", "usd", "plan", "prod_pro"):            50,
		bl("billing_mrr_movements_total", "currency", "usd", "kind", "new"): 50,
		bl("billing_active_customers", "currency", "usd"):                   2,
	})
	f.UpdateSubscription(old, func(s *fakestripe.Subscription) {
		s.Status, s.CancellationReason = "canceled", "cancellation_requested"
	})
	final := map[string]float64{
		bl("billing_subscriptions_started_total", "plan", "prod_pro"):                          1,
		bl("billing_subscriptions_churned_total", "plan", "prod_basic", "reason", "voluntary"): 1,
		bl("billing_customers_churned_total"):                                                  1,
		bl("billing_mrr_movements_total", "currency", "usd", "kind", "churn"):                  20,
		bl("billing_mrr", "currency", "usd", "plan", "prod_basic"):                             0,
		bl("billing_active_customers", "currency", "usd"):                                      1,
	}
	lat.wait(w, "a cancellation", final)

	// A burst of 150 new subscriptions costs a few events pages.
	lists := func() int {
		n := 0
		for _, r := range f.Requests() {
			if r.Path == "/v1/events" {
				n++
			}
		}
		return n
	}
	listsBefore := lists()
	const burst = 150
	for range burst {
		f.CreateSubscription(fakestripe.Subscription{Customer: f.CreateCustomer(), Items: []fakestripe.Item{{Price: basic}}})
	}
	final[bl("billing_subscriptions_started_total", "plan", "prod_basic")] = burst
	final[bl("billing_mrr", "currency", "usd", "plan", "prod_basic")] = burst * 20
	final[bl("billing_active_customers", "currency", "usd")] = burst + 1
	lat.wait(w, "the burst", final)
	for len(f.Webhooks()) < burst+2 {
		time.Sleep(20 * time.Millisecond)
	}
	want := webhookCounts{accepted: burst + 2}
	waitWebhookCounts(w, "stripe", want)
	if n := lists() - listsBefore; n > burst/10 {
		t.Errorf("%d webhooks cost %d events requests, want at most %d", burst, n, burst/10)
	} else {
		t.Logf("%d webhooks: %d /v1/events requests", burst, n)
	}

	// A delivery again (same signature): ignored; the same event signed
	// anew (Stripe's retry): fetched, applied already, changes nothing.
	d := f.Webhooks()[0]
	again := func(sig string) int {
		return rawPost(t, hook, d.Body, map[string]string{"Content-Type": "application/json", fakestripe.SignatureHeader: sig})
	}
	sig := fakestripe.Sign(stripeWebhookSecret, time.Now(), d.Body)
	if c := again(sig); c != 200 {
		t.Errorf("retry: %d", c)
	}
	if c := again(sig); c != 200 {
		t.Errorf("repeat: %d", c)
	}
	want.accepted++
	want.ignored++
	// Refused: a wrong secret, a signature older than the tolerance, a
	// huge body, no signature.
	for name, c := range map[string]struct{ got, want int }{
		"bad signature": {again(fakestripe.Sign("whsec_other", time.Now(), d.Body)), 401},
		"expired":       {again(fakestripe.Sign(stripeWebhookSecret, time.Now().Add(-10*time.Minute), d.Body)), 401},
		"unsigned":      {again(""), 401},
		"huge": {rawPost(t, hook, []byte(`{"id":"evt_x","object":"event","pad":"`+strings.Repeat("x", 2<<20)+`"}`),
			map[string]string{fakestripe.SignatureHeader: "t=1,v1=00"}), 413},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", name, c.got, c.want)
		}
	}
	want.rejected = 4
	// An event Stripe never sent, and an event type the exporter does not
	// read: ignored.
	for _, body := range []string{
		`{"id":"evt_unknown","object":"event","type":"customer.subscription.updated","created":` + itoa(time.Now().Unix()) + `,"data":{"object":{"id":"sub_x","status":"canceled"}}}`,
		`{"id":"evt_inv","object":"event","type":"invoice.paid","created":` + itoa(time.Now().Unix()) + `,"data":{"object":{"id":"in_1"}}}`,
	} {
		if c := rawPost(t, hook, []byte(body), map[string]string{fakestripe.SignatureHeader: fakestripe.Sign(stripeWebhookSecret, time.Now(), []byte(body))}); c != 200 {
			t.Errorf("%s: %d", body, c)
		}
	}
	want.ignored += 2
	m := waitWebhookCounts(w, "stripe", want)
	expectSeries(t, m, final)

	// After a restart the poll finds nothing new: nothing counts twice.
	if err := w.Exp.Stop(); err != nil {
		t.Fatal(err)
	}
	restart := float64(time.Now().UnixNano()) / 1e9
	w.Exp = e2e.Start(t, env)
	m = w.WaitFor("a sync after the restart", func(m map[string]float64) bool { return m[e2e.SyncSuccessKey("stripe")] >= restart })
	expectSeries(t, m, final)
	if strings.Contains(w.Exp.Logs(), stripeWebhookSecret) {
		t.Error("the webhook secret reached the log")
	}
	t.Logf("change to metric: %v", lat)
}

// TestWebhooksStripeMock: a webhook makes the binary read Stripe's events
// list from stripe-mock, Stripe's own mock, which checks every path and
// parameter against Stripe's OpenAPI spec. stripe-mock sends no webhooks:
// the test signs the event itself.
func TestWebhooksStripeMock(t *testing.T) {
	t.Parallel()
	bin := e2e.Tool(t, "stripe-mock")
	addr, tlsAddr := e2e.FreeAddr(t), e2e.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	cmd := exec.Command(bin, "-http-port", port, "-https-port", tlsPort)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stripe-mock not listening after 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	w := &e2e.Waiter{T: t, Source: "stripe"}
	w.Exp = e2e.Start(t, []string{
		"CX_STRIPE_API_KEY=sk_test_123", "CX_STRIPE_URL=http://" + addr,
		"CX_STRIPE_WEBHOOK_SECRET=" + stripeWebhookSecret,
		"CX_STATE_DIR=" + t.TempDir(), "CX_POLL_INTERVAL=10m", "CX_LOG_LEVEL=debug",
	})
	m := firstSync(w)
	ok := e2e.Series("cx_exporter_api_requests_total", "source", "stripe", "code", "200")
	before := m[ok]
	body := []byte(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2025-03-31.basil","type":"customer.subscription.updated","created":` +
		itoa(time.Now().Unix()) + `,"data":{"object":{"id":"sub_1","object":"subscription"}}}`)
	if c := rawPost(t, "http://"+w.Exp.Addr+"/api/v1/webhooks/stripe", body,
		map[string]string{fakestripe.SignatureHeader: fakestripe.Sign(stripeWebhookSecret, time.Now(), body)}); c != 200 {
		t.Fatalf("webhook: %d", c)
	}
	m = w.WaitFor("the webhook's fetch", func(m map[string]float64) bool {
		c := readWebhookCounts(m, "stripe")
		return c.accepted+c.ignored == 1
	})
	if m[ok] <= before {
		t.Errorf("the webhook read nothing from stripe-mock: %v requests answered 200 before, %v after", before, m[ok])
	}
	for k, v := range m {
		if strings.HasPrefix(k, "cx_exporter_api_requests_total{") && strings.Contains(k, `source="stripe"`) && k != ok && v > 0 {
			t.Errorf("%s = %v: stripe-mock refused a request", k, v)
		}
	}
}
