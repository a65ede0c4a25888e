package intercom

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SimOptions configures SeedHistory and Simulate.
type SimOptions = fake.SimOptions

type weighted struct {
	value  string
	weight int
}

var (
	simSources  = []weighted{{"conversation", 50}, {"email", 30}, {"phone_call", 6}, {"whatsapp", 5}, {"twitter", 3}, {"facebook", 3}, {"sms", 3}}
	simPriority = []weighted{{"not_priority", 80}, {"priority", 20}}
	simTeams    = []int64{5017691, 5017692, 5017693}
)

type sim struct {
	s      *Server
	rng    *rand.Rand
	now    func() time.Time
	ticks  int
	live   []string // open or snoozed conversations
	closed []string // closed conversations the simulator may reopen or rate
}

func newSim(s *Server, o SimOptions) *sim {
	now := o.Now
	if now == nil {
		now = s.opts.Now
	}
	// The teams have names in the teams list (the group label of the
	// agents dashboard).
	for i, name := range []string{"Support", "Billing", "Success"} {
		s.PutGroup(fake.Person{ID: simTeams[i], Name: name})
	}
	return &sim{s: s, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x1c0de)), now: now}
}

// SeedHistory fills the workspace with a few days of history: closed,
// replied and rated conversations, and a backlog of open and snoozed ones
// aged from minutes to two days. It returns without simulating further.
func (s *Server) SeedHistory(o SimOptions) { newSim(s, o).seedHistory() }

// Simulate seeds the workspace when it is empty (see SeedHistory), then
// changes it every Tick until ctx ends. It blocks.
//
// Each step behaves like a support team: conversations arrive, teammates
// give first replies and further replies, snooze and unsnooze, close;
// some closed conversations are reopened, some are rated (mostly 4–5,
// some 3, some 1–2). Within the first steps at least one conversation is
// created, replied to, closed after one reply, reopened and re-closed,
// and rated good, neutral and bad. Time is compressed: durations are
// drawn from realistic distributions (first reply median about 40
// minutes, resolution about 5 hours) and added to created_at, so reply
// and close timestamps may lie ahead of the clock; updated_at is always
// the clock.
func (s *Server) Simulate(ctx context.Context, o SimOptions) {
	m := newSim(s, o)
	if s.Len() == 0 {
		m.seedHistory()
	} else {
		m.adopt()
	}
	fake.Run(ctx, o.Tick, nil, func(int) { m.step() })
}

func (m *sim) pick(ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := m.rng.IntN(total)
	for _, w := range ws {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	return ws[0].value
}

func (m *sim) lognormal(median, sigma float64) time.Duration {
	min := median * math.Exp(sigma*m.rng.NormFloat64())
	return time.Duration(math.Max(1, math.Min(min, 7*24*60)) * float64(time.Minute))
}

func (m *sim) replyDelay() time.Duration   { return m.lognormal(40, 1.2) }
func (m *sim) resolveDelay() time.Duration { return m.lognormal(300, 1.3) }

func (m *sim) newConversation(created time.Time) Conversation {
	c := Conversation{
		State: "open", Priority: m.pick(simPriority), SourceType: m.pick(simSources),
		CreatedAt: created.UTC().Truncate(time.Second), FirstContactReplyAt: created.UTC().Truncate(time.Second),
	}
	if m.rng.IntN(3) > 0 {
		c.TeamID = simTeams[m.rng.IntN(len(simTeams))]
	}
	return c
}

func (m *sim) ratingFor(bad bool) int {
	switch {
	case bad:
		return 1 + m.rng.IntN(2)
	case m.rng.IntN(10) == 0:
		return 3
	default:
		return 4 + m.rng.IntN(2)
	}
}

func (m *sim) seedHistory() {
	now := m.now().UTC().Truncate(time.Second)
	for range 40 {
		created := now.Add(-time.Duration(6+m.rng.IntN(66)) * time.Hour)
		c := m.newConversation(created)
		c.ID = m.s.NextID()
		reply := created.Add(m.replyDelay())
		c.FirstAdminReplyAt, c.LastAdminReplyAt = reply, reply
		if m.rng.IntN(2) == 0 {
			c.LastAdminReplyAt = reply.Add(m.replyDelay())
		}
		closeAt := c.LastAdminReplyAt.Add(m.resolveDelay())
		if closeAt.After(now) {
			closeAt = now.Add(-time.Minute)
		}
		c.State, c.FirstCloseAt, c.LastCloseAt = "closed", closeAt, closeAt
		if m.rng.IntN(3) == 0 {
			c.Rating, c.RatingAt = m.ratingFor(m.rng.IntN(5) == 0), closeAt
		}
		c.UpdatedAt = closeAt
		m.s.Put(c)
		m.closed = append(m.closed, c.ID)
	}
	for range 25 {
		created := now.Add(-time.Duration(10+m.rng.IntN(48*60)) * time.Minute)
		c := m.newConversation(created)
		c.ID = m.s.NextID()
		c.UpdatedAt = created
		if m.rng.IntN(2) == 0 {
			reply := created.Add(m.replyDelay())
			if reply.Before(now) {
				c.FirstAdminReplyAt, c.LastAdminReplyAt, c.UpdatedAt = reply, reply, reply
			}
		}
		if m.rng.IntN(5) == 0 {
			c.State = "snoozed"
		}
		m.s.Put(c)
		m.live = append(m.live, c.ID)
	}
}

// adopt takes over the conversations already in the workspace.
func (m *sim) adopt() {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	ids := make([]string, 0, len(m.s.convs))
	for id := range m.s.convs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		switch m.s.convs[id].c.State {
		case "open", "snoozed":
			m.live = append(m.live, id)
		case "closed":
			m.closed = append(m.closed, id)
		}
	}
}

func (m *sim) get(id string) (Conversation, bool) {
	c, ok := m.s.Get(id)
	c.UpdatedAt = time.Time{} // Put stamps the clock
	return c, ok
}

func remove(ids []string, i int) []string {
	ids[i] = ids[len(ids)-1]
	return ids[:len(ids)-1]
}

// pickLive returns a live conversation matching ok, or -1.
func (m *sim) pickLive(ok func(c *Conversation) bool) (int, Conversation) {
	if len(m.live) == 0 {
		return -1, Conversation{}
	}
	start := m.rng.IntN(len(m.live))
	for k := range m.live {
		i := (start + k) % len(m.live)
		if c, found := m.get(m.live[i]); found && ok(&c) {
			return i, c
		}
	}
	return -1, Conversation{}
}

func (m *sim) create(now time.Time) {
	c := m.newConversation(now)
	c.ID = m.s.NextID()
	m.s.Put(c)
	m.live = append(m.live, c.ID)
}

func (m *sim) firstReply() bool {
	i, c := m.pickLive(func(c *Conversation) bool { return c.FirstAdminReplyAt.IsZero() })
	if i < 0 {
		return false
	}
	reply := c.CreatedAt.Add(m.replyDelay())
	c.FirstAdminReplyAt, c.LastAdminReplyAt = reply, reply
	c.State = "open"
	m.s.Put(c)
	return true
}

func (m *sim) reply() bool {
	i, c := m.pickLive(func(c *Conversation) bool { return !c.FirstAdminReplyAt.IsZero() })
	if i < 0 {
		return false
	}
	c.LastAdminReplyAt = c.LastAdminReplyAt.Add(m.replyDelay())
	m.s.Put(c)
	return true
}

// closeOne closes a replied conversation; onlyOneReply picks one with a
// single admin reply and no reopen (a first-contact resolution).
func (m *sim) closeOne(onlyOneReply bool) bool {
	i, c := m.pickLive(func(c *Conversation) bool {
		if c.FirstAdminReplyAt.IsZero() {
			return false
		}
		return !onlyOneReply || (c.LastAdminReplyAt.Equal(c.FirstAdminReplyAt) && c.CountReopens == 0)
	})
	if i < 0 {
		return false
	}
	at := c.LastAdminReplyAt
	if c.LastCloseAt.After(at) {
		at = c.LastCloseAt
	}
	at = at.Add(m.resolveDelay() / 4)
	if c.FirstCloseAt.IsZero() {
		c.FirstCloseAt = at
	}
	c.State, c.LastCloseAt = "closed", at
	m.s.Put(c)
	m.live = remove(m.live, i)
	m.closed = append(m.closed, c.ID)
	return true
}

func (m *sim) snooze() bool {
	i, c := m.pickLive(func(c *Conversation) bool { return true })
	if i < 0 {
		return false
	}
	if c.State == "snoozed" {
		c.State = "open"
	} else {
		c.State = "snoozed"
	}
	m.s.Put(c)
	return true
}

func (m *sim) reopen() bool {
	if len(m.closed) == 0 {
		return false
	}
	i := len(m.closed) - 1 - m.rng.IntN(min(len(m.closed), 20)) // recent ones
	c, ok := m.get(m.closed[i])
	if !ok {
		return false
	}
	c.State, c.CountReopens = "open", c.CountReopens+1
	m.s.Put(c)
	m.closed = remove(m.closed, i)
	m.live = append(m.live, c.ID)
	return true
}

func (m *sim) rate(rating int, now time.Time) bool {
	if len(m.closed) == 0 {
		return false
	}
	i := len(m.closed) - 1 - m.rng.IntN(min(len(m.closed), 20))
	c, ok := m.get(m.closed[i])
	if !ok {
		return false
	}
	c.Rating, c.RatingAt = rating, now
	m.s.Put(c)
	return true
}

func (m *sim) step() {
	m.ticks++
	now := m.now().UTC().Truncate(time.Second)
	// The guaranteed events, one a step.
	switch m.ticks {
	case 2:
		m.create(now)
	case 3:
		m.firstReply()
	case 4:
		m.closeOne(true)
	case 5:
		m.reopen()
	case 6:
		m.rate(5, now)
	case 7:
		m.rate(1, now)
	case 8:
		m.rate(3, now)
	case 9:
		m.closeOne(false)
	}
	// A busy team, backlog steered between about 20 and 80.
	arrivals := 0.6 + 0.4*math.Sin(float64(m.ticks)/40)
	if len(m.live) < 20 {
		arrivals += 0.5
	}
	for m.rng.Float64() < arrivals {
		m.create(now)
		arrivals--
	}
	if m.rng.Float64() < 0.6 {
		m.firstReply()
	}
	if m.rng.Float64() < 0.3 {
		m.reply()
	}
	closeP := 0.5
	if len(m.live) > 80 {
		closeP = 0.9
	}
	if m.rng.Float64() < closeP {
		m.closeOne(m.rng.IntN(2) == 0)
	}
	if m.rng.Float64() < 0.1 {
		m.snooze()
	}
	if m.rng.Float64() < 0.08 {
		m.reopen()
	}
	if m.rng.Float64() < 0.25 {
		m.rate(m.ratingFor(m.rng.IntN(5) == 0), now)
	}
}
