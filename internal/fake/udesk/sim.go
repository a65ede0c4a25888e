package udesk

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
	simGroups    = []int64{31001, 31002, 31003}
	simPlatforms = []string{"email", "email", "email", "im", "im", "im", "call", "wechat", "weibo", "hc", "feedback", "api", "manual_input"}
	simPriority  = []weighted{{1, 10}, {2, 20}, {3, 55}, {4, 15}}
	simScores    = []weighted{{5, 45}, {4, 25}, {3, 15}, {2, 8}, {1, 7}}
	simSubjects  = []string{"无法登录", "发票有误", "申请退款", "如何导出数据?", "App 启动崩溃", "修改邮箱", "物流延迟"}
)

type sim struct {
	s     *Server
	o     SimOptions
	rng   *rand.Rand
	start time.Time
	next  int64
}

func newSim(s *Server, o SimOptions) *sim {
	// The groups have names in the user-group list (the agents dashboard).
	for i, name := range []string{"售前组", "售后组", "技术支持"} {
		s.PutGroup(fake.Person{ID: simGroups[i], Name: name})
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.Now == nil {
		o.Now = s.opts.Now
	}
	seed := uint64(o.Seed)
	return &sim{s: s, o: o, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), start: o.Now()}
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
		ID: m.next, Subject: simSubjects[m.rng.IntN(len(simSubjects))], StatusID: 1,
		PriorityID: m.pick(simPriority), Platform: simPlatforms[m.rng.IntN(len(simPlatforms))],
		GroupID: simGroups[m.rng.IntN(len(simGroups))], CreatedAt: created.UTC().Truncate(time.Second),
	}
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
	for i := range 150 {
		age := time.Duration(m.rng.Float64()*10*24*3600) * time.Second
		if i >= 130 {
			// Recent and unanswered: their first-reply SLA state moves
			// while the demo runs.
			age = time.Duration(m.rng.Float64()*30*3600) * time.Second
		}
		created := now.Add(-age - time.Minute)
		t := m.newTicket(created)
		last := created
		at := func(frac float64) time.Time {
			return created.Add(time.Duration(frac * float64(now.Add(-30*time.Second).Sub(created)))).Truncate(time.Second)
		}
		switch r := m.rng.Float64(); {
		case i >= 130:
		case r < 0.55: // closed long ago
			t.FirstReplyAt, t.ResolvedAt, t.ClosedAt, t.StatusID = at(0.1), at(0.4), at(0.7), 3
			last = t.ClosedAt
		case r < 0.7: // resolved
			t.FirstReplyAt, t.ResolvedAt, t.StatusID = at(0.2), at(0.6), 2
			last = t.ResolvedAt
		case r < 0.85: // being solved
			t.FirstReplyAt, t.StatusID = at(0.3), 4
			last = t.FirstReplyAt
		default: // untouched
		}
		if (t.StatusID == 2 || t.StatusID == 3) && m.chance(0.4) {
			t.Satisfaction = &Satisfaction{Score: m.pick(simScores), CreatedAt: last}
		}
		t.UpdatedAt = last
		m.s.tickets[t.ID] = &t
	}
}

// Simulate runs the account until ctx ends: work orders arrive in waves,
// get first replies, are solved, resolved, reopened, closed and rated.
// With Tick 1s every metric Udesk feeds moves within 30s. An empty account
// is seeded first.
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
		m.s.notifyLocked(t.ID)
	}
	for _, t := range m.s.tickets {
		before := t.UpdatedAt
		m.advance(t, now)
		if !t.UpdatedAt.Equal(before) {
			m.s.notifyLocked(t.ID)
		}
	}
}

// advance moves one work order on by a tick; the caller holds m.s.mu.
func (m *sim) advance(t *Ticket, now time.Time) {
	switch t.StatusID {
	case 1, 4:
		switch {
		case t.FirstReplyAt.IsZero():
			p := 0.25
			if t.CreatedAt.Before(m.start) {
				p = 0.01 // the neglected history: answered slowly
			}
			if m.chance(p) {
				t.FirstReplyAt, t.UpdatedAt = now, now
				if m.chance(0.4) {
					t.StatusID = 4
				}
			}
		case m.chance(0.12):
			t.StatusID, t.ResolvedAt, t.UpdatedAt = 2, now, now
		}
	case 2:
		switch {
		case m.chance(0.01):
			t.StatusID, t.UpdatedAt = 1, now
		case m.chance(0.02):
			t.StatusID, t.ClosedAt, t.UpdatedAt = 3, now, now
		case t.Satisfaction == nil && m.chance(0.15):
			t.Satisfaction, t.UpdatedAt = &Satisfaction{Score: m.pick(simScores), CreatedAt: now}, now
		}
	}
}
