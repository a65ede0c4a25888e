package helpscout

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SimOptions configures SeedHistory and Simulate.
type SimOptions = fake.SimOptions

var (
	simMailboxes = []int64{201001, 201002, 201003}
	simSources   = []string{"email", "email", "email", "chat", "phone", "beacon-v2", "api"}
)

type sim struct {
	s      *Server
	rng    *rand.Rand
	now    func() time.Time
	nextID int64
	ticks  int
}

func newSim(s *Server, o SimOptions) *sim {
	now := o.Now
	if now == nil {
		now = s.now
	}
	// The mailboxes have names in the mailboxes list (the group label of
	// the agents dashboard).
	for i, name := range []string{"Support", "Billing", "Sales"} {
		s.PutGroup(fake.Person{ID: simMailboxes[i], Name: name})
	}
	m := &sim{s: s, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x4853)), now: now, nextID: 1000}
	s.mu.Lock()
	for id := range s.convs {
		m.nextID = max(m.nextID, id)
	}
	s.mu.Unlock()
	return m
}

// SeedHistory fills the account with ten days of conversations: closed ones
// with replies and ratings, and a backlog of every age.
func (s *Server) SeedHistory(o SimOptions) {
	m := newSim(s, o)
	m.seed()
}

func (m *sim) seed() {
	now := m.now().UTC()
	for i := range 60 {
		created := now.Add(-time.Duration(m.rng.Float64()*240*float64(time.Hour)) - time.Hour)
		id := m.create(created)
		if i%3 == 0 {
			// backlog: some replied, some not
			if m.rng.IntN(2) == 0 {
				m.s.AddThread(id, Thread{CreatedAt: created.Add(time.Duration(m.rng.IntN(120)+1) * time.Minute)})
			}
			if m.rng.IntN(3) == 0 {
				m.setStatus(id, "pending")
			}
			continue
		}
		m.s.AddThread(id, Thread{CreatedAt: created.Add(time.Duration(m.rng.IntN(240)+1) * time.Minute)})
		closed := created.Add(time.Duration(m.rng.IntN(600)+300) * time.Minute)
		if closed.After(now) {
			closed = now
		}
		m.close(id, closed)
		if m.rng.IntN(2) == 0 {
			m.s.RateAt(id, []string{"great", "great", "okay", "not_good"}[m.rng.IntN(4)], closed)
		}
	}
	// A few very fresh ones, so the youngest backlog buckets fill.
	for range 3 {
		m.create(now.Add(-time.Duration(m.rng.IntN(50)+5) * time.Minute))
	}
}

func (m *sim) create(at time.Time) int64 {
	m.nextID++
	id := m.nextID
	m.s.Put(Conversation{ID: id, Status: "active", MailboxID: simMailboxes[m.rng.IntN(len(simMailboxes))],
		Source: simSources[m.rng.IntN(len(simSources))], CreatedAt: at})
	m.s.AddThread(id, Thread{Type: "customer", CreatedBy: "customer", CreatedAt: at})
	return id
}

func (m *sim) modify(id int64, fn func(c *Conversation)) {
	c, ok := m.s.Get(id)
	if !ok {
		return
	}
	fn(&c)
	c.ModifiedAt = time.Time{}
	m.s.Put(c)
}

func (m *sim) setStatus(id int64, st string) { m.modify(id, func(c *Conversation) { c.Status = st }) }

func (m *sim) close(id int64, at time.Time) {
	m.modify(id, func(c *Conversation) { c.Status, c.ClosedAt = "closed", at })
}

// pick returns a random conversation matching cond, or 0.
func (m *sim) pick(cond func(r *record) bool) int64 {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	var ids []int64
	for id, r := range m.s.convs {
		if r.c.State == "published" && cond(r) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return 0
	}
	// map order is random; sort-free pick keeps it simple but seeded enough for a demo
	return ids[m.rng.IntN(len(ids))]
}

func replied(r *record) bool {
	for _, t := range r.threads {
		if t.Type == "reply" && t.CreatedBy == "user" {
			return true
		}
	}
	return false
}

func open(r *record) bool { return r.c.Status == "active" || r.c.Status == "pending" }

// step is one tick: the first ticks force every kind of event, then
// changes are random.
func (m *sim) step() {
	m.ticks++
	now := m.now().UTC()
	forced := m.ticks <= 12
	if forced || m.rng.Float64() < 0.6 {
		m.create(now)
	}
	if id := m.pick(func(r *record) bool { return open(r) && !replied(r) }); id != 0 && (forced || m.rng.Float64() < 0.5) {
		m.s.AddThread(id, Thread{})
	}
	if id := m.pick(func(r *record) bool { return open(r) && replied(r) }); id != 0 && (forced || m.rng.Float64() < 0.4) {
		m.close(id, now)
	}
	if id := m.pick(func(r *record) bool { return r.c.Status == "closed" }); id != 0 && (m.ticks%6 == 3 || m.rng.Float64() < 0.08) {
		m.s.AddThread(id, Thread{Type: "customer", CreatedBy: "customer"})
		m.modify(id, func(c *Conversation) { c.Status = "active" })
	}
	if id := m.pick(func(r *record) bool { return r.c.Status == "closed" && r.rating == "" }); id != 0 && (forced || m.rng.Float64() < 0.3) {
		m.s.Rate(id, []string{"great", "okay", "not_good"}[m.ticks%3])
	}
	if id := m.pick(func(r *record) bool { return open(r) && replied(r) }); id != 0 && m.rng.Float64() < 0.3 {
		m.s.AddThread(id, Thread{})
		if m.rng.IntN(2) == 0 {
			m.setStatus(id, "pending")
		}
	}
	if id := m.pick(open); id != 0 && m.rng.Float64() < 0.02 {
		m.setStatus(id, "spam")
	}
}

// Simulate seeds the history (unless the account has conversations), then changes the account every Tick until
// ctx ends. Within the first dozen ticks every kind of event happens.
func (s *Server) Simulate(ctx context.Context, o SimOptions) {
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	m := newSim(s, o)
	if s.Len() == 0 {
		m.seed()
	}
	fake.Run(ctx, o.Tick, nil, func(int) { m.step() })
}
