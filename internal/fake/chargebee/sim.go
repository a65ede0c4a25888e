package chargebee

import (
	"context"
	"fmt"
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

// simPrice is one item price of the simulated catalogue (product catalog
// 2.0 ids: <item>-<currency>-<period>).
type simPrice struct {
	id     string
	amount int64 // minor units per unit and billing period
	unit   string
}

// simSim is the state of a running simulation.
type simSim struct {
	s      *Server
	rng    *rand.Rand
	ids    int
	prices map[string]map[string]simPrice // plan → currency → price
}

var simPlans = []string{"starter", "pro", "business", "pro-yearly"}

// Seed fills the site with history: paying subscriptions in USD and EUR
// (monthly and yearly), trials, a non_renewing one, a paused one and
// already-cancelled ones, all created days before the clock's now. Call
// it before the exporter's first sync so that the history is backfill;
// Simulate then adds live changes.
func (s *Server) Seed(o SimOptions) { s.newSim(o).seed() }

func (s *Server) newSim(o SimOptions) *simSim {
	m := &simSim{s: s, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0xcb)), prices: map[string]map[string]simPrice{}}
	for _, cur := range []string{"USD", "EUR"} {
		for plan, p := range map[string]simPrice{
			"starter":    {amount: 1900, unit: "month"},
			"pro":        {amount: 4900, unit: "month"},
			"business":   {amount: 9900, unit: "month"},
			"pro-yearly": {amount: 49000, unit: "year"},
		} {
			if m.prices[plan] == nil {
				m.prices[plan] = map[string]simPrice{}
			}
			p.id = fmt.Sprintf("%s-%s-%sly", plan, cur, p.unit)
			if plan == "pro-yearly" {
				p.id = "pro-" + cur + "-yearly"
			}
			m.prices[plan][cur] = p
		}
	}
	return m
}

// follow moves the site's clock to the wall clock, so that simulated
// changes are dated when they happen.
func (m *simSim) follow() {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if now := time.Now().UTC().Truncate(time.Second); now.After(m.s.now) {
		m.s.now = now
	}
}

func (m *simSim) nextID(prefix string) string {
	m.s.mu.Lock()
	m.ids++
	n, total := m.ids, len(m.s.subs)
	m.s.mu.Unlock()
	return fmt.Sprintf("%s_sim%04d_%d", prefix, total, n)
}

func (m *simSim) item(plan, cur string, qty int64) Item {
	p := m.prices[plan][cur]
	return Item{ItemPriceID: p.id, Quantity: qty, UnitPrice: Int64(p.amount), BillingPeriod: 1, BillingPeriodUnit: p.unit}
}

func (m *simSim) currency() string {
	if m.rng.IntN(3) == 0 {
		return "EUR"
	}
	return "USD"
}

func (m *simSim) plan() string { return simPlans[m.rng.IntN(len(simPlans))] }

func (m *simSim) sub(cur, plan string, qty int64, status string) Subscription {
	return Subscription{
		ID: m.nextID("sub"), CustomerID: m.nextID("cus"), Status: status, CurrencyCode: cur,
		Items: []Item{m.item(plan, cur, qty)},
	}
}

func (m *simSim) seed() {
	m.follow()
	now := m.s.Now()
	for i := range 20 {
		cur := "USD"
		if i%3 == 2 {
			cur = "EUR"
		}
		sub := m.sub(cur, simPlans[i%len(simPlans)], int64(1+i%3), "active")
		sub.CreatedAt = now.Add(-time.Duration(10+i*6) * 24 * time.Hour)
		sub.StartedAt, sub.ActivatedAt = sub.CreatedAt, sub.CreatedAt
		switch i % 7 {
		case 3:
			sub.Status = "non_renewing"
			sub.CancelledAt = now.AddDate(0, 0, 12)
		case 4:
			sub.Status, sub.ActivatedAt = "in_trial", time.Time{}
			sub.CreatedAt = now.Add(-3 * 24 * time.Hour)
			sub.StartedAt = sub.CreatedAt
		case 5:
			sub.Status = "paused"
		case 6:
			sub.Status, sub.CancelledAt, sub.CancelReason = "cancelled", now.Add(-48*time.Hour), "no_card"
		}
		m.s.Put(sub)
	}
}

// Simulate runs the site until ctx ends: sign-ups (some with a trial),
// trials converting or being cancelled, upgrades, downgrades, quantity
// changes, non_renewing subscriptions, pauses and resumes, voluntary and
// unpaid (not_paid) cancellations and reactivations, in USD and EUR. The
// first ticks go through every kind once, so that every billing metric
// moves within seconds. The site's clock follows the wall clock. Simulate
// seeds an empty site itself.
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
		m.follow()
		if i < len(script) {
			script[i]()
			return
		}
		m.random()
	})
}

// live returns the ids of subscriptions in one of statuses (in currency
// cur, unless "").
func (m *simSim) live(cur string, statuses ...string) []string {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	var out []string
	for id, r := range m.s.subs {
		if !r.s.Deleted && slices.Contains(statuses, r.s.Status) && (cur == "" || r.s.CurrencyCode == cur) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (m *simSim) pick(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[m.rng.IntN(len(ids))]
}

// update changes a stored subscription and stamps it.
func (m *simSim) update(id string, fn func(*Subscription)) {
	if id == "" {
		return
	}
	sub, ok := m.s.Get(id)
	if !ok {
		return
	}
	sub.Items = slices.Clone(sub.Items)
	fn(&sub)
	m.s.Put(sub)
}

func (m *simSim) signUp(cur, plan string, trial bool) string {
	sub := m.sub(cur, plan, int64(1+m.rng.IntN(3)), "active")
	now := m.s.Now()
	sub.StartedAt, sub.ActivatedAt = now, now
	if trial {
		sub.Status, sub.ActivatedAt = "in_trial", time.Time{}
	}
	m.s.Put(sub)
	return sub.ID
}

func (m *simSim) setPlan(id, plan string) {
	m.update(id, func(p *Subscription) {
		if len(p.Items) > 0 {
			p.Items[0] = m.item(plan, p.CurrencyCode, p.Items[0].Quantity)
		}
	})
}

func (m *simSim) activate(id string) {
	now := m.s.Now()
	m.update(id, func(p *Subscription) { p.Status, p.ActivatedAt = "active", now })
}

func (m *simSim) cancel(id, reason string) {
	now := m.s.Now()
	m.update(id, func(p *Subscription) { p.Status, p.CancelledAt, p.CancelReason = "cancelled", now, reason })
}

func (m *simSim) nonRenewing(id string) {
	at := m.s.Now().AddDate(0, 0, 20)
	m.update(id, func(p *Subscription) { p.Status, p.CancelledAt = "non_renewing", at })
}

// reactivate starts a new subscription for a customer whose every
// subscription was cancelled.
func (m *simSim) reactivate() {
	m.s.mu.Lock()
	live, seen := map[string]bool{}, map[string]string{}
	for _, r := range m.s.subs {
		seen[r.s.CustomerID] = r.s.CurrencyCode
		if r.s.Status != "cancelled" && !r.s.Deleted {
			live[r.s.CustomerID] = true
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
	sub := m.sub(seen[cus], m.plan(), 1, "active")
	sub.CustomerID = cus
	now := m.s.Now()
	sub.StartedAt, sub.ActivatedAt = now, now
	m.s.Put(sub)
}

// script goes through every kind of change once, in both currencies.
func (m *simSim) script() []func() {
	var usdNew, eurNew, trial, lapsed string
	// Trials are started first and end later than a demo poll interval
	// (5s), so that the collector sees them trialing.
	return []func(){
		func() { trial = m.signUp("USD", "pro", true) },                  // a trial
		func() { lapsed = m.signUp("EUR", "pro", true) },                 // another trial
		func() { usdNew = m.signUp("USD", "starter", false) },            // new
		func() { eurNew = m.signUp("EUR", "business", false) },           // new, EUR
		func() { m.setPlan(usdNew, "business") },                         // expansion
		func() { m.setPlan(eurNew, "starter") },                          // contraction
		func() { m.cancel(m.pick(m.live("USD", "active")), "other") },    // voluntary churn
		func() { m.cancel(m.pick(m.live("EUR", "active")), "not_paid") }, // involuntary churn, EUR
		func() { m.activate(trial) },                                     // converting
		func() { m.cancel(lapsed, "other") },                             // cancelled before paying
		func() { m.nonRenewing(m.pick(m.live("", "active"))) },           // scheduled churn
		func() { m.reactivate() },                                        // reactivation
		func() { m.update(m.pick(m.live("", "active")), pause) },         // paused
		func() {},
		func() {},
		func() {},
		func() {},
		func() {},
		func() { m.update(m.pick(m.live("", "paused")), resume) }, // resumed
	}
}

func pause(p *Subscription)  { p.Status = "paused" }
func resume(p *Subscription) { p.Status = "active" }

// random makes one random change.
func (m *simSim) random() {
	switch m.rng.IntN(12) {
	case 0, 1:
		m.signUp(m.currency(), m.plan(), false)
	case 2:
		m.signUp(m.currency(), m.plan(), true)
	case 3: // a trial converts or is cancelled
		if id := m.pick(m.live("", "in_trial")); id != "" {
			if m.rng.IntN(3) == 0 {
				m.cancel(id, "other")
			} else {
				m.activate(id)
			}
		}
	case 4:
		m.setPlan(m.pick(m.live("", "active")), "business")
	case 5:
		m.setPlan(m.pick(m.live("", "active")), "starter")
	case 6:
		m.update(m.pick(m.live("", "active")), func(p *Subscription) {
			if len(p.Items) > 0 {
				p.Items[0].Quantity = max(1, p.Items[0].Quantity+int64(m.rng.IntN(5)-2))
			}
		})
	case 7:
		m.nonRenewing(m.pick(m.live("", "active")))
	case 8: // a non_renewing term ends
		m.cancel(m.pick(m.live("", "non_renewing")), "other")
	case 9:
		if m.rng.IntN(2) == 0 {
			m.update(m.pick(m.live("", "active")), pause)
		} else {
			m.update(m.pick(m.live("", "paused")), resume)
		}
	case 10:
		reason := "other"
		if m.rng.IntN(2) == 0 {
			reason = "not_paid"
		}
		m.cancel(m.pick(m.live("", "active")), reason)
	case 11:
		m.reactivate()
	}
}
