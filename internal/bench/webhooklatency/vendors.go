package main

import (
	"fmt"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakechargebee "github.com/cx-exporter/cx-exporter/internal/fake/chargebee"
	fakepaddle "github.com/cx-exporter/cx-exporter/internal/fake/paddle"
	fakestripe "github.com/cx-exporter/cx-exporter/internal/fake/stripe"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

const benchSecret = "bench-webhook-secret-not-a-secret"

type zendesk struct{ zd *fakezendesk.Server }

func newZendesk() vendor {
	return &zendesk{fakezendesk.NewServer(fakezendesk.Options{Email: "bench@example.invalid", APIToken: "bench-token", RateLimit: 10, Lag: time.Minute})}
}

func (z *zendesk) name() string { return "zendesk" }
func (z *zendesk) env() []string {
	return []string{"CX_ZENDESK_URL=" + z.zd.URL, "CX_ZENDESK_EMAIL=bench@example.invalid", "CX_ZENDESK_API_TOKEN=bench-token",
		"CX_ZENDESK_WEBHOOK_SECRET=" + benchSecret}
}
func (z *zendesk) sendWebhooks(url string) { z.zd.SendWebhooks(url, benchSecret) }

// change creates ticket i; a scrape shows it in tickets created.
func (z *zendesk) change(i int) {
	z.zd.Put(fakezendesk.Ticket{ID: int64(i), Status: "new", Priority: "normal", Channel: "web"})
}

func (z *zendesk) reached(m map[string]float64, i int) bool {
	return m[e2e.HelpdeskKey("zendesk", "helpdesk_tickets_created_total", "normal", "web")] >= float64(i)
}

func (z *zendesk) burst(n int) {
	for i := range n {
		z.zd.Put(fakezendesk.Ticket{ID: int64(100_000 + i), Status: "open", Priority: "low", Channel: "email"})
	}
}

// reads counts every request the fake answered (show_many, and any
// export read of a poll).
func (z *zendesk) reads() int    { return len(z.zd.Requests()) }
func (z *zendesk) webhooks() int { return len(z.zd.Webhooks()) }
func (z *zendesk) close()        { z.zd.Close() }

type stripe struct {
	f          *fakestripe.Server
	basic, pro string
	sub        string
}

func newStripe() vendor {
	f := fakestripe.NewServer(fakestripe.Options{})
	s := &stripe{f: f}
	s.basic = f.CreatePrice(fakestripe.Price{Product: "prod_basic", Currency: "usd", UnitAmount: 2000})
	s.pro = f.CreatePrice(fakestripe.Price{Product: "prod_pro", Currency: "usd", UnitAmount: 5000})
	return s
}

func (s *stripe) name() string { return "stripe" }
func (s *stripe) env() []string {
	return []string{"CX_STRIPE_API_KEY=" + fakestripe.DefaultAPIKey, "CX_STRIPE_URL=" + s.f.URL, "CX_STRIPE_WEBHOOK_SECRET=" + benchSecret}
}
func (s *stripe) sendWebhooks(url string) { s.f.SendWebhooks(url, benchSecret) }

// change starts a subscription of the pro plan; a scrape shows it in
// subscriptions started.
func (s *stripe) change(int) {
	s.f.CreateSubscription(fakestripe.Subscription{Customer: s.f.CreateCustomer(), Items: []fakestripe.Item{{Price: s.pro}}})
}

func (s *stripe) reached(m map[string]float64, i int) bool {
	return m[e2e.Series("billing_subscriptions_started_total", "source", "stripe", "plan", "prod_pro")] >= float64(i)
}

func (s *stripe) burst(n int) {
	for range n {
		s.f.CreateSubscription(fakestripe.Subscription{Customer: s.f.CreateCustomer(), Items: []fakestripe.Item{{Price: s.basic}}})
	}
}

// reads counts every request the fake answered (events pages, and any
// item or coupon look-up).
func (s *stripe) reads() int    { return len(s.f.Requests()) }
func (s *stripe) webhooks() int { return len(s.f.Webhooks()) }
func (s *stripe) close()        { s.f.Close() }

type chargebee struct{ cb *fakechargebee.Server }

func newChargebee() vendor {
	return &chargebee{fakechargebee.NewServer(fakechargebee.Options{APIKey: "bench_key"})}
}

func (c *chargebee) name() string { return "chargebee" }
func (c *chargebee) env() []string {
	return []string{"CX_CHARGEBEE_URL=" + c.cb.URL, "CX_CHARGEBEE_API_KEY=bench_key", "CX_CHARGEBEE_WEBHOOK_SECRET=hook:" + benchSecret}
}
func (c *chargebee) sendWebhooks(url string) { c.cb.SendWebhooks(url, "hook", benchSecret) }

// tick keeps the fake's clock (which moves only when told) on the wall
// clock, so that updated_at advances as it does at Chargebee.
func (c *chargebee) tick() {
	if d := time.Since(c.cb.Now()); d > 0 {
		c.cb.Advance(d)
	}
}

func (c *chargebee) put(id string, price string) {
	c.tick()
	c.cb.Put(fakechargebee.Subscription{ID: id, CustomerID: "c-" + id, Status: "active", MRR: fakechargebee.Int64(1000),
		Items: []fakechargebee.Item{{ItemPriceID: price, Quantity: 1, UnitPrice: fakechargebee.Int64(1000)}}})
}

// change starts subscription i; a scrape shows it in subscriptions started.
func (c *chargebee) change(i int) { c.put(fmt.Sprint("t", i), "pro-USD-Monthly") }

func (c *chargebee) reached(m map[string]float64, i int) bool {
	return m[e2e.Series("billing_subscriptions_started_total", "source", "chargebee", "plan", "pro-USD-Monthly")] >= float64(i)
}

func (c *chargebee) burst(n int) {
	for i := range n {
		c.put(fmt.Sprint("b", i), "basic-USD-Monthly")
	}
}

func (c *chargebee) reads() int    { return len(c.cb.Requests()) }
func (c *chargebee) webhooks() int { return len(c.cb.Webhooks()) }
func (c *chargebee) close()        { c.cb.Close() }

type paddle struct {
	f          *fakepaddle.Server
	basic, pro string
}

func newPaddle() vendor {
	f := fakepaddle.NewServer(fakepaddle.Options{})
	return &paddle{f: f, basic: f.CreatePrice(fakepaddle.Price{ProductID: "pro_basic", Currency: "USD", Amount: 2000}),
		pro: f.CreatePrice(fakepaddle.Price{ProductID: "pro_pro", Currency: "USD", Amount: 5000})}
}

func (p *paddle) name() string { return "paddle" }
func (p *paddle) env() []string {
	return []string{"CX_PADDLE_URL=" + p.f.URL, "CX_PADDLE_API_KEY=" + fakepaddle.DefaultAPIKey, "CX_PADDLE_WEBHOOK_SECRET=" + benchSecret}
}
func (p *paddle) sendWebhooks(url string) { p.f.SendWebhooks(url, benchSecret) }

// change starts a subscription of the pro product.
func (p *paddle) change(int) {
	p.f.CreateSubscription(fakepaddle.Subscription{Items: []fakepaddle.Item{{PriceID: p.pro}}})
}

func (p *paddle) reached(m map[string]float64, i int) bool {
	return m[e2e.Series("billing_subscriptions_started_total", "source", "paddle", "plan", "pro_pro")] >= float64(i)
}

// burst makes n notifications: a new subscription sends two
// (subscription.created and .activated).
func (p *paddle) burst(n int) {
	for range n / 2 {
		p.f.CreateSubscription(fakepaddle.Subscription{Items: []fakepaddle.Item{{PriceID: p.basic}}})
	}
}

func (p *paddle) reads() int    { return len(p.f.Requests()) }
func (p *paddle) webhooks() int { return len(p.f.Webhooks()) }
func (p *paddle) close()        { p.f.Close() }
