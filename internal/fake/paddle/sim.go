package paddle

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SimOptions configure Seed and Simulate.
type SimOptions struct {
	Seed int64
	// Tick is the time between two simulated changes (default 1s).
	Tick time.Duration
}

type simCatalogue struct {
	starter, pro, business, proYearly, quarterly map[string]string // currency → price id
	forever20, once50, threeMonths               string
}

type sim struct {
	s   *Server
	rng *rand.Rand
	cat simCatalogue
}

// Seed fills the account with history: paying subscriptions in USD and
// EUR (monthly, quarterly and yearly), a recurring discount, trials, a
// scheduled cancellation, past_due, paused and canceled ones, all created
// days before the clock's now. Call it before the exporter's first sync
// so that the history is backfill.
func (s *Server) Seed(o SimOptions) { s.newSim(o).seed() }

func (s *Server) newSim(o SimOptions) *sim {
	m := &sim{s: s, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0xadd1e))}
	c := &m.cat
	c.starter, c.pro, c.business, c.proYearly, c.quarterly = map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}
	for _, cur := range []string{"USD", "EUR"} {
		c.starter[cur] = s.CreatePrice(Price{ID: "pri_starter_" + cur, ProductID: "pro_starter", Name: "Starter", Currency: cur, Amount: 1900})
		c.pro[cur] = s.CreatePrice(Price{ID: "pri_pro_" + cur, ProductID: "pro_pro", Name: "Pro", Currency: cur, Amount: 4900})
		c.business[cur] = s.CreatePrice(Price{ID: "pri_business_" + cur, ProductID: "pro_business", Name: "Business", Currency: cur, Amount: 9900})
		c.proYearly[cur] = s.CreatePrice(Price{ID: "pri_pro_yearly_" + cur, ProductID: "pro_pro", Name: "Pro yearly", Currency: cur, Amount: 49000, Interval: "year"})
		c.quarterly[cur] = s.CreatePrice(Price{ID: "pri_business_quarterly_" + cur, ProductID: "pro_business", Name: "Business quarterly", Currency: cur, Amount: 27000, Interval: "month", Frequency: 3})
	}
	c.forever20 = s.CreateDiscount(Discount{ID: "dsc_forever20", Type: "percentage", Amount: "20", Recur: true})
	c.once50 = s.CreateDiscount(Discount{ID: "dsc_welcome50", Type: "percentage", Amount: "50"})
	c.threeMonths = s.CreateDiscount(Discount{ID: "dsc_launch3m", Type: "flat", Amount: "1000", Currency: "USD", Recur: true, MaxRecurring: 3})
	return m
}

func (m *sim) currency() string {
	if m.rng.IntN(3) == 0 {
		return "EUR"
	}
	return "USD"
}

func (m *sim) price(cur string) string {
	c := &m.cat
	switch m.rng.IntN(10) {
	case 0:
		return c.proYearly[cur]
	case 1:
		return c.quarterly[cur]
	case 2, 3, 4:
		return c.starter[cur]
	case 5, 6, 7:
		return c.pro[cur]
	}
	return c.business[cur]
}

func (m *sim) seed() {
	s, c := m.s, &m.cat
	now := s.Now()
	for i := range 20 {
		cur := "USD"
		if i%3 == 2 {
			cur = "EUR"
		}
		sub := Subscription{Currency: cur, CreatedAt: now.Add(-time.Duration(10+i*6) * 24 * time.Hour),
			Items: []Item{{PriceID: m.price(cur), Quantity: int64(1 + i%3)}}}
		switch i % 8 {
		case 1:
			sub.DiscountID = c.forever20
		case 2:
			sub.DiscountID = c.once50
		case 3:
			sub.ScheduledCancel = true
		case 4:
			sub.Status = "past_due"
		case 5:
			sub.Status, sub.CreatedAt = "trialing", now.Add(-72*time.Hour)
		case 6:
			sub.Status, sub.CanceledAt = "canceled", now.Add(-48*time.Hour)
		case 7:
			sub.Status, sub.PausedAt = "paused", now.Add(-24*time.Hour)
		}
		s.CreateSubscription(sub)
	}
}

// Simulate runs the account until ctx ends: sign-ups (some with a trial
// or a discount), trials converting or canceled, upgrades, downgrades,
// quantity changes, scheduled cancellations, pauses and resumes, payment
// failures (past_due recovering or canceled) and reactivations, in USD and
// EUR. The first ticks go through every kind once, so that every billing
// metric moves within seconds. Simulate seeds an empty account itself.
func (s *Server) Simulate(ctx context.Context, o SimOptions) {
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	m := s.newSim(o)
	if s.Len() == 0 {
		m.seed()
	}
	script := m.script()
	fake.Run(ctx, o.Tick, nil, func(i int) {
		if i < len(script) {
			script[i]()
			return
		}
		m.random()
	})
}

func (m *sim) live(cur string, statuses ...string) []string {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	var out []string
	for id, p := range m.s.subs {
		if slices.Contains(statuses, p.Status) && (cur == "" || p.Currency == cur) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (m *sim) pick(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[m.rng.IntN(len(ids))]
}

func (m *sim) signUp(cur, price string, trial bool) string {
	sub := Subscription{Currency: cur, Items: []Item{{PriceID: price, Quantity: int64(1 + m.rng.IntN(3))}}}
	if trial {
		sub.Status = "trialing"
	}
	if m.rng.IntN(5) == 0 {
		sub.DiscountID = m.cat.forever20
	}
	return m.s.CreateSubscription(sub)
}

func (m *sim) setPrice(id string, to map[string]string) {
	if id == "" {
		return
	}
	m.s.UpdateSubscription(id, func(p *Subscription) {
		if len(p.Items) > 0 {
			p.Items[0].PriceID = to[p.Currency]
		}
	})
}

func (m *sim) status(id, st string) {
	if id != "" {
		m.s.UpdateSubscription(id, func(p *Subscription) { p.Status = st })
	}
}

func (m *sim) reactivate() {
	m.s.mu.Lock()
	live, seen := map[string]bool{}, map[string]string{}
	for _, p := range m.s.subs {
		seen[p.CustomerID] = p.Currency
		if p.Status != "canceled" {
			live[p.CustomerID] = true
		}
	}
	m.s.mu.Unlock()
	var churned []string
	for c := range seen {
		if !live[c] {
			churned = append(churned, c)
		}
	}
	slices.Sort(churned)
	cus := m.pick(churned)
	if cus == "" {
		return
	}
	cur := seen[cus]
	m.s.CreateSubscription(Subscription{CustomerID: cus, Currency: cur, Items: []Item{{PriceID: m.price(cur), Quantity: 1}}})
}

// script goes through every kind of change once, in both currencies;
// trials end later than a demo poll interval (5s), so that the collector
// sees them trialing.
func (m *sim) script() []func() {
	c := &m.cat
	var usdNew, eurNew, trial, lapsed string
	return []func(){
		func() { trial = m.signUp("USD", c.pro["USD"], true) },
		func() { lapsed = m.signUp("EUR", c.pro["EUR"], true) },
		func() { usdNew = m.signUp("USD", c.starter["USD"], false) },
		func() { eurNew = m.signUp("EUR", c.business["EUR"], false) },
		func() { m.setPrice(usdNew, c.business) },                          // expansion
		func() { m.setPrice(eurNew, c.starter) },                           // contraction
		func() { m.status(m.pick(m.live("USD", "active")), "canceled") },   // churn
		func() { m.status(m.pick(m.live("EUR", "past_due")), "canceled") }, // churn after dunning
		func() { m.status(trial, "active") },                               // converting
		func() { m.status(lapsed, "canceled") },                            // canceled before paying
		func() {
			if id := m.pick(m.live("", "active")); id != "" {
				m.s.UpdateSubscription(id, func(p *Subscription) { p.ScheduledCancel = true })
			}
		},
		func() { m.reactivate() },
		func() { m.status(m.pick(m.live("", "active")), "paused") },
		func() { m.status(m.pick(m.live("", "active")), "past_due") },
		func() {}, func() {}, func() {},
		func() { m.status(m.pick(m.live("", "paused")), "active") }, // resumed
	}
}

func (m *sim) random() {
	c := &m.cat
	switch m.rng.IntN(12) {
	case 0, 1:
		cur := m.currency()
		m.signUp(cur, m.price(cur), false)
	case 2:
		cur := m.currency()
		m.signUp(cur, m.price(cur), true)
	case 3:
		if id := m.pick(m.live("", "trialing")); id != "" {
			if m.rng.IntN(3) == 0 {
				m.status(id, "canceled")
			} else {
				m.status(id, "active")
			}
		}
	case 4:
		m.setPrice(m.pick(m.live("", "active")), c.business)
	case 5:
		m.setPrice(m.pick(m.live("", "active")), c.starter)
	case 6:
		if id := m.pick(m.live("", "active")); id != "" {
			m.s.UpdateSubscription(id, func(p *Subscription) {
				if len(p.Items) > 0 {
					p.Items[0].Quantity = max(1, p.Items[0].Quantity+int64(m.rng.IntN(5)-2))
				}
			})
		}
	case 7:
		if id := m.pick(m.live("", "active")); id != "" {
			m.s.UpdateSubscription(id, func(p *Subscription) { p.ScheduledCancel = true })
		}
	case 8:
		if m.rng.IntN(2) == 0 {
			m.status(m.pick(m.live("", "active")), "paused")
		} else {
			m.status(m.pick(m.live("", "paused")), "active")
		}
	case 9:
		m.status(m.pick(m.live("", "active")), "canceled")
	case 10:
		if m.rng.IntN(2) == 0 {
			m.status(m.pick(m.live("", "active")), "past_due")
		} else {
			m.status(m.pick(m.live("", "past_due")), "active")
		}
	case 11:
		m.reactivate()
	}
}
