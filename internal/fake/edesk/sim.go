package edesk

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SimOptions configures SeedHistory and Simulate.
type SimOptions = fake.SimOptions

var (
	simTypes    = []string{"Query", "ProductQuery", "OrderQuery", "ShippingQuery", "ReturnRequest", "Refund", "DefectiveItemReceived", "Incident"}
	simRatings  = []string{"Good", "Good", "Good", "Neutral", "Bad", "5", "4", "3", "1"}
	simSubjects = []string{"Where is my order?", "Item arrived broken", "Refund please", "Wrong size",
		"Can I change my address?", "Invoice request", "Product question", "Cancel my order"}
	simOwners = []int64{0, 71, 72, 73}
)

type sim struct {
	s     *Server
	o     SimOptions
	rng   *rand.Rand
	start time.Time
	next  int64
	rated map[int64]bool // tickets rated by the simulation: once each
}

func newSim(s *Server, o SimOptions) *sim {
	// The owners have names in the users list (the agents dashboard).
	for i, name := range []string{"Sam Carter", "Priya Nair", "Tom Becker"} {
		s.PutAgent(fake.Person{ID: simOwners[i+1], Name: name})
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.Now == nil {
		o.Now = s.opts.Now
	}
	seed := uint64(o.Seed)
	return &sim{s: s, o: o, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), start: o.Now(), rated: map[int64]bool{}}
}

func (m *sim) chance(p float64) bool { return m.rng.Float64() < p }

func (m *sim) poisson(lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= m.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// newTicketLocked stores a new open ticket with the customer's message.
func (m *sim) newTicketLocked(created time.Time) *Ticket {
	m.next++
	created = created.UTC().Truncate(time.Second)
	t := &Ticket{ID: m.next, Subject: simSubjects[m.rng.IntN(len(simSubjects))], Type: simTypes[m.rng.IntN(len(simTypes))],
		ChannelID: DefaultChannels[m.rng.IntN(len(DefaultChannels))].ID, Status: "Open",
		OwnerUserID: simOwners[m.rng.IntN(len(simOwners))], ContactID: 9000 + m.next, CreatedAt: created, UpdatedAt: created}
	m.s.tickets[t.ID] = t
	m.s.addItemLocked(t, Item{Type: TypeMessage, Direction: Incoming, Body: t.Subject, CreatedAt: created}, created)
	m.s.notifyLocked(t.ID)
	return t
}

// add adds an item dated at and makes it the ticket's last change.
func (m *sim) add(t *Ticket, it Item, at time.Time) {
	it.CreatedAt = at
	if at.After(t.UpdatedAt) {
		t.UpdatedAt = at
	}
	m.s.addItemLocked(t, it, at)
	m.s.notifyLocked(t.ID)
}

func (m *sim) reply(t *Ticket, at time.Time) {
	m.add(t, Item{Type: TypeMessage, Direction: Outgoing, Body: "Thanks, we are on it."}, at)
}

func (m *sim) status(t *Ticket, status string, at time.Time) {
	t.Status = status
	m.add(t, Item{Type: TypeStatus, Direction: Other, Body: status}, at)
}

// SeedHistory fills an empty account with ten days of history, all dated
// before now: backfill for an exporter started afterwards.
func (s *Server) SeedHistory(o SimOptions) {
	m := newSim(s, o)
	m.seed()
}

func (m *sim) seed() {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if len(m.s.tickets) > 0 {
		for id := range m.s.tickets {
			m.next = max(m.next, id)
		}
		return
	}
	now := m.o.Now().UTC().Truncate(time.Second)
	for i := range 180 {
		age := time.Duration(m.rng.Float64()*10*24*3600) * time.Second
		if i >= 160 {
			// Recent and unanswered: their first-reply SLA state moves
			// while the demo runs.
			age = time.Duration(m.rng.Float64()*30*3600) * time.Second
		}
		created := now.Add(-age - time.Minute)
		t := m.newTicketLocked(created)
		at := func(frac float64) time.Time {
			return created.Add(time.Duration(frac * float64(now.Add(-30*time.Second).Sub(created)))).Truncate(time.Second)
		}
		switch r := m.rng.Float64(); {
		case i >= 160:
		case r < 0.55: // closed long ago
			m.reply(t, at(0.1))
			m.status(t, "Closed", at(0.4))
			if m.chance(0.3) {
				m.s.addItemLocked(t, Item{Type: TypeRating, Direction: Incoming, Body: simRatings[m.rng.IntN(len(simRatings))], CreatedAt: at(0.5)}, at(0.5))
				t.UpdatedAt = at(0.5)
			}
		case r < 0.65:
			m.reply(t, at(0.2))
			m.status(t, "Archived", at(0.7))
		case r < 0.8: // waiting for the customer
			m.reply(t, at(0.3))
			m.status(t, "Pending", at(0.5))
		case r < 0.85: // snoozed
			m.reply(t, at(0.3))
			m.status(t, "Scheduled", at(0.4))
		default: // untouched
		}
	}
}

// Simulate runs the account until ctx ends: tickets arrive in waves, get
// replies, are closed, reopened by the customer, rated and sometimes
// marked spam. With Tick 1s every helpdesk metric eDesk feeds moves within
// 30s. An empty account is seeded first.
func (s *Server) Simulate(ctx context.Context, o SimOptions) {
	m := newSim(s, o)
	m.seed()
	fake.Run(ctx, m.o.Tick, nil, func(int) { m.step() })
}

func (m *sim) replies(t *Ticket) int {
	n := 0
	for _, it := range t.Items {
		if it.Type == TypeMessage && it.Direction == Outgoing {
			n++
		}
	}
	return n
}

func (m *sim) step() {
	now := m.o.Now().UTC().Truncate(time.Second)
	phase := now.Sub(m.start).Seconds() / 180 * 2 * math.Pi
	arrivals := m.poisson(1.0 + 0.8*math.Sin(phase))
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	for range arrivals {
		m.newTicketLocked(now)
	}
	for _, t := range m.s.tickets {
		switch t.Status {
		case "Open":
			switch n := m.replies(t); {
			case n == 0:
				p := 0.25
				if t.CreatedAt.Before(m.start) {
					p = 0.01 // the neglected history: answered slowly
				}
				if m.chance(p) {
					m.reply(t, now)
					if m.chance(0.3) {
						m.status(t, "Pending", now)
					}
				}
			case m.chance(0.12):
				if m.chance(0.2) {
					m.reply(t, now) // a second answer before closing
				}
				m.status(t, "Closed", now)
			}
		case "Pending":
			if m.chance(0.1) { // the customer answered: open again
				t.Status = "Open"
				m.add(t, Item{Type: TypeMessage, Direction: Incoming, Body: "Any news?"}, now)
			} else if m.chance(0.05) {
				m.status(t, "Closed", now)
			}
		case "Closed":
			switch {
			case m.chance(0.01): // the customer writes again
				m.status(t, "Open", now)
				m.add(t, Item{Type: TypeMessage, Direction: Incoming, Body: "Still broken"}, now)
			case !m.rated[t.ID] && m.chance(0.15):
				m.rated[t.ID] = true
				m.add(t, Item{Type: TypeRating, Direction: Incoming, Body: simRatings[m.rng.IntN(len(simRatings))]}, now)
			}
		}
	}
	if m.chance(0.02) {
		for _, t := range m.s.tickets {
			if t.Status == "Open" {
				m.status(t, "Spam", now)
				break
			}
		}
	}
}
