package freshdesk

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SimOptions configures SeedHistory and Simulate.
type SimOptions = fake.SimOptions

type weighted struct {
	v int
	w int
}

var (
	simGroups   = []int64{43000000101, 43000000102, 43000000103}
	simSources  = []weighted{{1, 40}, {2, 22}, {3, 8}, {7, 15}, {9, 5}, {10, 5}, {5, 3}, {6, 2}}
	simPriority = []weighted{{1, 20}, {2, 50}, {3, 20}, {4, 10}}
	simTypes    = []string{"", "Question", "Question", "Incident", "Problem", "Feature Request", "Refund"}
	simScores   = []weighted{{103, 35}, {102, 25}, {101, 10}, {100, 15}, {-101, 6}, {-102, 5}, {-103, 4}}
	simSubjects = []string{"Cannot log in", "Invoice is wrong", "Refund please", "How do I export my data?",
		"App crashes on startup", "Change my email", "Shipping delayed", "Feature request: dark mode"}
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
	// The groups have names in the groups list (the agents dashboard).
	for i, name := range []string{"Sales", "Support", "Returns"} {
		s.PutGroup(fake.Person{ID: simGroups[i], Name: name})
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

func (m *sim) pick(ws []weighted) int {
	total := 0
	for _, w := range ws {
		total += w.w
	}
	n := m.rng.IntN(total)
	for _, w := range ws {
		if n < w.w {
			return w.v
		}
		n -= w.w
	}
	return ws[0].v
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

func (m *sim) newTicket(created time.Time) Ticket {
	m.next++
	return Ticket{
		ID: m.next, Subject: simSubjects[m.rng.IntN(len(simSubjects))], Status: 2,
		Priority: m.pick(simPriority), Source: m.pick(simSources), Type: simTypes[m.rng.IntN(len(simTypes))],
		GroupID: simGroups[m.rng.IntN(len(simGroups))], CreatedAt: created.UTC().Truncate(time.Second),
		Stats: Stats{StatusUpdatedAt: created.UTC().Truncate(time.Second)},
	}
}

// SeedHistory fills an empty account with a week of history, all dated
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
			// (within → at risk → breached) while the demo runs.
			age = time.Duration(m.rng.Float64()*30*3600) * time.Second
		}
		created := now.Add(-age - time.Minute)
		t := m.newTicket(created)
		last := created
		at := func(frac float64) time.Time {
			v := created.Add(time.Duration(frac * float64(now.Add(-30*time.Second).Sub(created))))
			return v.Truncate(time.Second)
		}
		switch r := m.rng.Float64(); {
		case i >= 160:
		case r < 0.55: // closed long ago
			t.Stats.FirstRespondedAt, t.Stats.ResolvedAt = at(0.1), at(0.4)
			t.Stats.ClosedAt, t.Status = at(0.7), 5
			last = t.Stats.ClosedAt
		case r < 0.7: // resolved
			t.Stats.FirstRespondedAt, t.Stats.ResolvedAt, t.Status = at(0.2), at(0.6), 4
			last = t.Stats.ResolvedAt
		case r < 0.8: // waiting for the customer
			t.Stats.FirstRespondedAt, t.Stats.PendingSince, t.Status = at(0.3), at(0.5), 3
			last = t.Stats.PendingSince
		case r < 0.85: // custom status
			t.Stats.FirstRespondedAt, t.Status = at(0.3), 6
			last = t.Stats.FirstRespondedAt
		default: // untouched
		}
		t.Stats.AgentRespondedAt = t.Stats.FirstRespondedAt
		t.UpdatedAt = last
		if (t.Status == 4 || t.Status == 5) && m.chance(0.4) {
			m.s.rateLocked(t.ID, m.pick(simScores), last)
		}
		m.s.tickets[t.ID] = &t
	}
}

// Simulate runs the account until ctx ends: tickets arrive in waves (the
// backlog breathes over a few minutes), get first responses, are resolved,
// reopened, closed, rated and sometimes deleted. With Tick 1s every
// helpdesk metric moves within 30s. An empty account is seeded first.
func (s *Server) Simulate(ctx context.Context, o SimOptions) {
	m := newSim(s, o)
	m.seed()
	fake.Run(ctx, m.o.Tick, nil, func(int) { m.step() })
}

func (m *sim) step() {
	now := m.o.Now().UTC().Truncate(time.Second)
	phase := now.Sub(m.start).Seconds() / 180 * 2 * math.Pi
	arrivals := m.poisson(1.0 + 0.8*math.Sin(phase))
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	for range arrivals {
		t := m.newTicket(now)
		t.UpdatedAt = now
		m.s.tickets[t.ID] = &t
	}
	touch := func(t *Ticket) { t.UpdatedAt, t.Stats.StatusUpdatedAt = now, now }
	for _, t := range m.s.tickets {
		if t.Deleted {
			continue
		}
		switch t.Status {
		case 2, 6:
			switch {
			case t.Stats.FirstRespondedAt.IsZero():
				p := 0.25
				if t.CreatedAt.Before(m.start) {
					p = 0.01 // the neglected history: answered slowly
				}
				if m.chance(p) {
					t.Stats.FirstRespondedAt, t.Stats.AgentRespondedAt = now, now
					if m.chance(0.3) {
						t.Status, t.Stats.PendingSince = 3, now
					}
					touch(t)
				} else if m.chance(0.01) { // solved without a reply (spam, duplicate)
					t.Status, t.Stats.ResolvedAt = 4, now
					touch(t)
				}
			case m.chance(0.12):
				t.Status, t.Stats.ResolvedAt = 4, now
				touch(t)
			}
		case 3:
			if m.chance(0.1) { // the customer answered
				t.Status, t.Stats.RequesterRespondedAt, t.Stats.PendingSince = 2, now, time.Time{}
				touch(t)
			} else if m.chance(0.05) {
				t.Status, t.Stats.ResolvedAt = 4, now
				touch(t)
			}
		case 4:
			switch {
			case m.chance(0.01):
				t.Status, t.Stats.ReopenedAt = 2, now
				touch(t)
			case m.chance(0.02):
				t.Status, t.Stats.ClosedAt = 5, now
				touch(t)
			case !m.rated[t.ID] && m.chance(0.15):
				m.rated[t.ID] = true
				m.s.rateLocked(t.ID, m.pick(simScores), now)
			}
		}
	}
	if m.chance(0.02) {
		for _, t := range m.s.tickets {
			if !t.Deleted && t.Status == 2 {
				t.Deleted, t.UpdatedAt = true, now
				break
			}
		}
	}
}
