package stripe

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SimOptions configure Simulate.
type SimOptions struct {
	Seed int64
	// Tick is the time between two simulated changes (default 1s).
	Tick time.Duration
}

// catalogue is the simulated account's prices.
type catalogue struct {
	starter, pro, business       map[string]string // currency → monthly price
	proYearly, businessYearly    map[string]string // currency → yearly price
	usage                        map[string]string // metered
	forever20, once50, repeating string
}

// sim is the state of a running simulation.
type sim struct {
	s   *Server
	rng *rand.Rand
	cat catalogue
}

// Seed fills the account with history: customers, paying subscriptions in
// usd and eur (monthly and yearly), trials, a subscription set to cancel
// at period end, past_due and already-churned ones, all created days
// before the clock's now. Call it before the exporter's first sync so
// that the history is backfill; Simulate then adds live changes.
func (s *Server) Seed(o SimOptions) {
	s.newSim(o).seed()
}

func (s *Server) newSim(o SimOptions) *sim {
	m := &sim{s: s, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x5717e))}
	c := &m.cat
	c.starter, c.pro, c.business = map[string]string{}, map[string]string{}, map[string]string{}
	c.proYearly, c.businessYearly, c.usage = map[string]string{}, map[string]string{}, map[string]string{}
	for _, cur := range []string{"usd", "eur"} {
		c.starter[cur] = s.CreatePrice(Price{ID: "price_starter_" + cur, Product: "prod_starter", Nickname: "Starter", Currency: cur, UnitAmount: 1900, Interval: "month"})
		c.pro[cur] = s.CreatePrice(Price{ID: "price_pro_" + cur, Product: "prod_pro", Nickname: "Pro", Currency: cur, UnitAmount: 4900, Interval: "month"})
		c.business[cur] = s.CreatePrice(Price{ID: "price_business_" + cur, Product: "prod_business", Nickname: "Business", Currency: cur, UnitAmount: 9900, Interval: "month"})
		c.proYearly[cur] = s.CreatePrice(Price{ID: "price_pro_yearly_" + cur, Product: "prod_pro", Nickname: "Pro yearly", Currency: cur, UnitAmount: 49000, Interval: "year"})
		c.businessYearly[cur] = s.CreatePrice(Price{ID: "price_business_yearly_" + cur, Product: "prod_business", Nickname: "Business yearly", Currency: cur, UnitAmount: 99000, Interval: "year"})
		c.usage[cur] = s.CreatePrice(Price{ID: "price_api_calls_" + cur, Product: "prod_api_calls", Currency: cur, UnitAmount: 1, Interval: "month", Metered: true})
	}
	c.forever20 = s.CreateCoupon(Coupon{ID: "FOREVER20", PercentOff: 20, Duration: "forever"})
	c.once50 = s.CreateCoupon(Coupon{ID: "WELCOME50", PercentOff: 50, Duration: "once"})
	c.repeating = s.CreateCoupon(Coupon{ID: "LAUNCH3M", AmountOff: 1000, Currency: "usd", Duration: "repeating", DurationInMonths: 3})
	return m
}

func (m *sim) currency() string {
	if m.rng.IntN(3) == 0 {
		return "eur"
	}
	return "usd"
}

// monthly picks a monthly or, one time in five, yearly licensed price.
func (m *sim) price(cur string) string {
	c := &m.cat
	switch m.rng.IntN(10) {
	case 0:
		return c.proYearly[cur]
	case 1:
		return c.businessYearly[cur]
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
	past := func(days int) time.Time { return now.Add(-time.Duration(days)*24*time.Hour - time.Hour) }
	for i := range 24 {
		cur := "usd"
		if i%3 == 2 {
			cur = "eur"
		}
		cus := s.CreateCustomer()
		sub := Subscription{Customer: cus, Created: past(10 + i*7), Items: []Item{{Price: m.price(cur), Quantity: int64(1 + i%4)}}}
		switch i % 8 {
		case 1:
			sub.Coupons = []string{c.forever20}
		case 2:
			sub.Items = append(sub.Items, Item{Price: c.usage[cur]})
		case 3:
			sub.CancelAtPeriodEnd = true
			sub.CancelAt = now.AddDate(0, 0, 12)
		case 4:
			sub.Status = "past_due"
		case 5:
			sub.Status, sub.TrialStart, sub.TrialEnd = "trialing", past(3), now.AddDate(0, 0, 11)
			sub.Created = past(3)
		case 6:
			sub.Status, sub.CanceledAt, sub.EndedAt, sub.CancellationReason = "canceled", past(2), past(2), "cancellation_requested"
		case 7:
			sub.Coupons = []string{c.once50}
		}
		s.CreateSubscription(sub)
	}
}

// Simulate runs the account until ctx ends: sign-ups (some with a trial),
// trials converting or ending unpaid, upgrades, downgrades, quantity
// changes, cancellations at period end and immediate ones, payment
// failures (past_due recovering, unpaid churning), and reactivations, in
// usd and eur. The first ticks go through every kind once, so that every
// billing metric moves within seconds. Seed must have run (Simulate seeds
// an empty account itself).
func (s *Server) Simulate(ctx context.Context, o SimOptions) {
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	m := s.newSim(o)
	s.mu.Lock()
	empty := len(s.subs) == 0
	s.mu.Unlock()
	if empty {
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

// live returns the ids of subscriptions in one of statuses.
func (m *sim) live(statuses ...string) []string {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	var out []string
	for _, p := range m.s.subs {
		if slices.Contains(statuses, p.Status) {
			out = append(out, p.ID)
		}
	}
	return out
}

func (m *sim) pick(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[m.rng.IntN(len(ids))]
}

// churnedCustomers are customers whose every subscription ended.
func (m *sim) churnedCustomers() []string {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	live := map[string]bool{}
	seen := map[string]bool{}
	for _, p := range m.s.subs {
		seen[p.Customer] = true
		if p.Status != "canceled" && p.Status != "incomplete_expired" {
			live[p.Customer] = true
		}
	}
	var out []string
	for c := range seen {
		if !live[c] {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func (m *sim) signUp(cur string, trial bool) string {
	s := m.s
	cus := s.CreateCustomer()
	sub := Subscription{Customer: cus, Items: []Item{{Price: m.price(cur), Quantity: int64(1 + m.rng.IntN(3))}}}
	if trial {
		now := s.Now()
		sub.Status, sub.TrialStart, sub.TrialEnd = "trialing", now, now.AddDate(0, 0, 14)
	}
	if m.rng.IntN(5) == 0 {
		sub.Coupons = []string{m.cat.forever20}
	}
	return s.CreateSubscription(sub)
}

func (m *sim) setPrice(id string, to map[string]string) {
	m.s.UpdateSubscription(id, func(p *Subscription) {
		if len(p.Items) > 0 {
			p.Items[0].Price = to[p.Currency]
		}
	})
}

func (m *sim) cancel(id, reason string) {
	m.s.UpdateSubscription(id, func(p *Subscription) { p.Status, p.CancellationReason = "canceled", reason })
}

// script goes through every kind of change once, in both currencies.
func (m *sim) script() []func() {
	c := &m.cat
	var usdNew, eurNew, trial, lapsed string
	var churned string
	return []func(){
		func() { usdNew = m.signUp("usd", false) },                                              // new
		func() { eurNew = m.signUp("eur", false) },                                              // new, eur
		func() { m.setPrice(usdNew, c.business) },                                               // expansion
		func() { m.setPrice(eurNew, c.starter) },                                                // contraction
		func() { trial = m.signUp("usd", true) },                                                // a trial
		func() { m.s.UpdateSubscription(trial, func(p *Subscription) { p.Status = "active" }) }, // converting
		func() { lapsed = m.signUp("eur", true) },                                               // another trial
		func() { m.cancel(lapsed, "cancellation_requested") },                                   // canceled before paying
		func() { churned = m.pick(m.live("active")); m.cancel(churned, "cancellation_requested") },
		func() {
			if id := m.pick(m.liveIn("eur", "active")); id != "" {
				m.s.UpdateSubscription(id, func(p *Subscription) { p.Status = "unpaid" }) // involuntary, eur
			}
		},
		func() {
			if id := m.pick(m.live("active")); id != "" {
				at := m.s.Now().AddDate(0, 0, 20)
				m.s.UpdateSubscription(id, func(p *Subscription) { p.CancelAtPeriodEnd, p.CancelAt = true, at })
			}
		},
		func() { m.reactivate() },
	}
}

func (m *sim) liveIn(cur string, statuses ...string) []string {
	var out []string
	for _, id := range m.live(statuses...) {
		if p, ok := m.s.Subscription(id); ok && p.Currency == cur {
			out = append(out, id)
		}
	}
	return out
}

func (m *sim) reactivate() {
	cus := m.pick(m.churnedCustomers())
	if cus == "" {
		return
	}
	cur := m.currency()
	m.s.CreateSubscription(Subscription{Customer: cus, Items: []Item{{Price: m.price(cur), Quantity: 1}}})
}

// random makes one random change.
func (m *sim) random() {
	c := &m.cat
	switch m.rng.IntN(14) {
	case 0, 1:
		m.signUp(m.currency(), false)
	case 2:
		m.signUp(m.currency(), true)
	case 3: // a trial converts or ends unpaid
		if id := m.pick(m.live("trialing")); id != "" {
			if m.rng.IntN(3) == 0 {
				m.s.UpdateSubscription(id, func(p *Subscription) { p.Status = "incomplete_expired" })
			} else {
				m.s.UpdateSubscription(id, func(p *Subscription) { p.Status = "active" })
			}
		}
	case 4:
		if id := m.pick(m.live("active")); id != "" {
			m.setPrice(id, c.business)
		}
	case 5:
		if id := m.pick(m.live("active")); id != "" {
			m.setPrice(id, c.starter)
		}
	case 6:
		if id := m.pick(m.live("active")); id != "" {
			m.s.UpdateSubscription(id, func(p *Subscription) {
				if len(p.Items) > 0 {
					p.Items[0].Quantity = max(1, p.Items[0].Quantity+int64(m.rng.IntN(5)-2))
				}
			})
		}
	case 7:
		if id := m.pick(m.live("active")); id != "" {
			at := m.s.Now().AddDate(0, 0, 20)
			m.s.UpdateSubscription(id, func(p *Subscription) { p.CancelAtPeriodEnd, p.CancelAt = true, at })
		}
	case 8: // a scheduled cancellation takes effect
		for _, id := range m.live("active", "past_due") {
			if p, _ := m.s.Subscription(id); p.CancelAtPeriodEnd {
				m.cancel(id, "cancellation_requested")
				break
			}
		}
	case 9:
		if id := m.pick(m.live("active")); id != "" {
			m.cancel(id, "cancellation_requested")
		}
	case 10: // a payment fails
		if id := m.pick(m.live("active")); id != "" {
			m.s.UpdateSubscription(id, func(p *Subscription) { p.Status = "past_due" })
		}
	case 11: // past_due recovers, or becomes unpaid
		if id := m.pick(m.live("past_due")); id != "" {
			st := "active"
			if m.rng.IntN(2) == 0 {
				st = "unpaid"
			}
			m.s.UpdateSubscription(id, func(p *Subscription) { p.Status = st })
		}
	case 12: // unpaid ends for good
		if id := m.pick(m.live("unpaid")); id != "" {
			m.cancel(id, "payment_failed")
		}
	case 13:
		m.reactivate()
	}
}
