package main

import (
	"fmt"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakechargebee "github.com/cx-exporter/cx-exporter/internal/fake/chargebee"
	fakeedesk "github.com/cx-exporter/cx-exporter/internal/fake/edesk"
	fakefreshdesk "github.com/cx-exporter/cx-exporter/internal/fake/freshdesk"
	fakehelpscout "github.com/cx-exporter/cx-exporter/internal/fake/helpscout"
	fakeintercom "github.com/cx-exporter/cx-exporter/internal/fake/intercom"
	fakepaddle "github.com/cx-exporter/cx-exporter/internal/fake/paddle"
	fakestripe "github.com/cx-exporter/cx-exporter/internal/fake/stripe"
	fakeudesk "github.com/cx-exporter/cx-exporter/internal/fake/udesk"
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

// helpdesk is a helpdesk vendor whose change i creates ticket i and whose
// scrape shows it in tickets created with the given labels.
type helpdesk struct {
	kind, priority, channel string
	envs                    []string
	send                    func(url string)
	create                  func(id int)
	requests, sent          func() int
	stop                    func()
}

func (h *helpdesk) name() string            { return h.kind }
func (h *helpdesk) env() []string           { return h.envs }
func (h *helpdesk) sendWebhooks(url string) { h.send(url) }
func (h *helpdesk) change(i int)            { h.create(i) }
func (h *helpdesk) reached(m map[string]float64, i int) bool {
	return m[e2e.HelpdeskKey(h.kind, "helpdesk_tickets_created_total", h.priority, h.channel)] >= float64(i)
}
func (h *helpdesk) burst(n int) {
	for i := range n {
		h.create(100_000 + i)
	}
}
func (h *helpdesk) reads() int    { return h.requests() }
func (h *helpdesk) webhooks() int { return h.sent() }
func (h *helpdesk) close()        { h.stop() }

func newIntercom() vendor {
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: "bench-token"})
	return &helpdesk{kind: "intercom", priority: "high", channel: "email",
		envs: []string{"CX_INTERCOM_URL=" + ic.URL, "CX_INTERCOM_TOKEN=bench-token", "CX_INTERCOM_WEBHOOK_SECRET=" + benchSecret},
		send: func(url string) { ic.SendWebhooks(url, benchSecret) },
		create: func(id int) {
			ic.Put(fakeintercom.Conversation{ID: fmt.Sprint(id), State: "open", Priority: "priority", SourceType: "email"})
		},
		requests: func() int { return len(ic.Requests()) }, sent: func() int { return len(ic.Webhooks()) }, stop: ic.Close}
}

func newFreshdesk() vendor {
	fd := fakefreshdesk.NewServer(fakefreshdesk.Options{APIKey: "bench-key", RateLimit: 700})
	return &helpdesk{kind: "freshdesk", priority: "urgent", channel: "email",
		envs: []string{"CX_FRESHDESK_URL=" + fd.URL, "CX_FRESHDESK_API_KEY=bench-key", "CX_FRESHDESK_WEBHOOK_SECRET=" + benchSecret},
		send: func(url string) { fd.SendWebhooks(url, benchSecret) },
		create: func(id int) {
			fd.Put(fakefreshdesk.Ticket{ID: int64(id), Status: 2, Priority: 4, Source: 1})
		},
		requests: func() int { return len(fd.Requests()) }, sent: func() int { return len(fd.Webhooks()) }, stop: fd.Close}
}

func newHelpScout() vendor {
	hs := fakehelpscout.NewServer(fakehelpscout.Options{AppID: "bench-app", AppSecret: "bench-secret"})
	return &helpdesk{kind: "helpscout", priority: "none", channel: "email",
		envs: []string{"CX_HELPSCOUT_URL=" + hs.URL, "CX_HELPSCOUT_APP_ID=bench-app", "CX_HELPSCOUT_APP_SECRET=bench-secret",
			"CX_HELPSCOUT_WEBHOOK_SECRET=" + benchSecret},
		send: func(url string) { hs.SendWebhooks(url, benchSecret) },
		create: func(id int) {
			hs.Put(fakehelpscout.Conversation{ID: int64(id), Status: "active", Source: "email", MailboxID: 7, CreatedAt: time.Now().UTC()})
		},
		requests: func() int { return len(hs.Requests()) }, sent: func() int { return len(hs.Webhooks()) }, stop: hs.Close}
}

func newEdesk() vendor {
	ed := fakeedesk.NewServer(fakeedesk.Options{Token: "bench-token", RateLimit: 6000})
	return &helpdesk{kind: "edesk", priority: "none", channel: "email",
		envs: []string{"CX_EDESK_URL=" + ed.URL, "CX_EDESK_API_TOKEN=bench-token", "CX_EDESK_WEBHOOK_SECRET=" + benchSecret},
		send: func(url string) { ed.SendWebhooks(url, benchSecret) },
		create: func(id int) {
			at := time.Now().UTC()
			ed.Put(fakeedesk.Ticket{ID: int64(id), ChannelID: 1, Status: "Open", CreatedAt: at,
				Items: []fakeedesk.Item{{Type: fakeedesk.TypeMessage, Direction: fakeedesk.Incoming, Body: "help", CreatedAt: at}}})
		},
		requests: func() int { return len(ed.Requests()) }, sent: func() int { return len(ed.Webhooks()) }, stop: ed.Close}
}

func newUdesk() vendor {
	ud := fakeudesk.NewServer(fakeudesk.Options{Email: "bench@udesk.example", Token: "bench-token", RateLimit: 6000})
	return &helpdesk{kind: "udesk", priority: "urgent", channel: "email",
		envs: []string{"CX_UDESK_URL=" + ud.URL, "CX_UDESK_EMAIL=bench@udesk.example", "CX_UDESK_API_TOKEN=bench-token",
			"CX_UDESK_REQUESTS_PER_MINUTE=6000", "CX_UDESK_WEBHOOK_SECRET=" + benchSecret},
		send: func(url string) { ud.SendWebhooks(url, benchSecret) },
		create: func(id int) {
			ud.Put(fakeudesk.Ticket{ID: int64(id), StatusID: 1, PriorityID: 1, Platform: "email", CreatedAt: time.Now().UTC()})
		},
		requests: func() int { return len(ud.Requests()) }, sent: func() int { return len(ud.Webhooks()) }, stop: ud.Close}
}
