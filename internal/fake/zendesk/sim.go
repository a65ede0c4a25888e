package zendesk

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SimOptions configures SeedHistory and Simulate. Its Now (default: the
// server's Options.Now) dates the simulated events; generated_timestamp
// always comes from the server's clock.
type SimOptions = fake.SimOptions

// Small fixed sets the simulated account draws from.
var (
	simGroups    = []int64{360001001, 360001002, 360001003}
	simBrands    = []int64{360000101, 360000102}
	simChannels  = []weighted{{"email", 38}, {"web", 24}, {"chat", 11}, {"native_messaging", 8}, {"api", 6}, {"voice", 7}, {"sms", 2}, {"facebook", 2}, {"twitter", 1}, {"rule", 1}}
	simPriority  = []weighted{{"", 22}, {"normal", 48}, {"high", 15}, {"low", 10}, {"urgent", 5}}
	simTypes     = []weighted{{"", 18}, {"question", 42}, {"incident", 24}, {"problem", 5}, {"task", 11}}
	simGoodNotes = []string{"", "", "Thanks, quick and helpful!", "Great support", "Solved my problem"}
	simBadNotes  = []string{"", "Took far too long", "Problem not fixed", "Nobody answered my question"}
	simSubjects  = []struct{ subject, tag string }{
		{"Cannot reset my password", "login"},
		{"Invoice shows the wrong amount", "billing"},
		{"Refund for duplicate charge", "billing"},
		{"How do I export my data?", "how_to"},
		{"App crashes on startup", "bug"},
		{"Change the email on my account", "account"},
		{"Shipping is delayed", "shipping"},
		{"Feature request: dark mode", "feature_request"},
		{"Two-factor code never arrives", "login"},
		{"Upgrade to the annual plan", "sales"},
		{"API returns 500 on /orders", "api"},
		{"Cancel my subscription", "churn"},
	}
	simBurstSubjects = []string{"Site is down?", "Cannot log in since this morning", "Payments failing at checkout"}
)

// simGroupNames are the demo team's groups, as the groups endpoint lists them.
var simGroupNames = map[int64]string{360001001: "Frontline", 360001002: "Billing", 360001003: "Technical"}

// simAgent is an agent of the demo team: speed multiplies the time its
// first replies and resolutions take, bad is the chance a rating of its
// tickets is bad.
type simAgent struct {
	id         int64
	name       string
	group      int64
	speed, bad float64
}

// simTeam is the demo's support team: a dozen agents in three groups, fast
// and slow, loved and not, so that the agents dashboard has a leaderboard.
var simTeam = []simAgent{
	{391000001, "Ada Lovelace", 360001001, 0.5, 0.05},
	{391000002, "Grace Hopper", 360001001, 0.8, 0.10},
	{391000003, "Alan Turing", 360001001, 1.2, 0.15},
	{391000004, "Edsger Dijkstra", 360001001, 2.2, 0.35},
	{391000005, "Barbara Liskov", 360001002, 0.7, 0.08},
	{391000006, "Donald Knuth", 360001002, 1.0, 0.12},
	{391000007, "Margaret Hamilton", 360001002, 1.5, 0.20},
	{391000008, "Ken Thompson", 360001002, 2.5, 0.40},
	{391000009, "Frances Allen", 360001003, 0.6, 0.06},
	{391000010, "John Backus", 360001003, 1.1, 0.18},
	{391000011, "Radia Perlman", 360001003, 1.4, 0.25},
	{391000012, "Dennis Ritchie", 360001003, 1.9, 0.30},
}

// agent is the team member with id; the zero agent (speed 1, 20% bad) for
// none.
func agent(id int64) simAgent {
	for _, a := range simTeam {
		if a.id == id {
			return a
		}
	}
	return simAgent{speed: 1, bad: 0.2}
}

// people lists the demo team in the server's directory.
func (s *Server) people() {
	for id, name := range simGroupNames {
		s.PutGroup(fake.Person{ID: id, Name: name})
	}
	for _, a := range simTeam {
		s.PutAgent(fake.Person{ID: a.id, Name: a.name, Group: a.group})
	}
}

type weighted struct {
	value  string
	weight int
}

// The events the simulator guarantees early in a run.
const (
	evCreated = iota
	evFirstReply
	evSolved
	evReopened
	evRatedGood
	evRatedBad
	numForced
)

// sim is the state of one simulation run.
type sim struct {
	s     *Server
	rng   *rand.Rand
	now   func() time.Time
	start time.Time
	ticks int
	live  []int64 // tickets the simulator still changes (not closed, not deleted)
	done  [numForced]bool

	burstLeft    int
	burstMult    float64
	burstSubject string
}

func newSim(s *Server, o SimOptions) *sim {
	now := o.Now
	if now == nil {
		now = s.now
	}
	seed := uint64(o.Seed)
	s.people()
	return &sim{
		s:     s,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		now:   now,
		start: now(),
	}
}

// SeedHistory fills the account with a realistic history: about 300 tickets
// created over the last 14 days, most of them solved or closed, about 40
// unresolved ones aged from minutes to 10 days (some never replied to), a few
// reopened, and some satisfaction ratings (mostly good). The seeded records
// keep generated_timestamp = updated_at (in the past), as an account with
// history would, so a first export with an old start_time returns them at
// once. It returns without simulating further.
func (s *Server) SeedHistory(o SimOptions) {
	newSim(s, o).seedHistory()
}

// Simulate seeds the account (see SeedHistory), then changes it every Tick
// until ctx ends or the server is closed. It blocks.
//
// Each step behaves like a busy support team: tickets arrive at a rate that
// rises and falls sinusoidally over a four-minute period with occasional
// bursts (an "outage" with many similar incidents); agents give first
// replies, further replies, move tickets to pending or on-hold and back,
// solve them; solved tickets get closed, a few are reopened, some are rated
// (about 80% good, 20% bad, sometimes only offered) and a good rating is
// occasionally changed to bad; now and then a ticket is deleted or touched
// by a system update. The open backlog is steered to stay between about 20
// and 150.
//
// Time is deliberately compressed: events happen seconds apart on the clock,
// but the durations they record (reply_time_in_minutes, resolution times,
// wait times) are drawn from realistic distributions — first reply
// log-normal with a median of about 40 minutes and a tail of hours, full
// resolution log-normal with a median of about 5 hours and a tail of days,
// business minutes a plausible share of calendar minutes. Within the first
// few steps the simulator makes sure that at least one ticket was created,
// got a first reply, was solved, was reopened, and was rated good and bad.
func (s *Server) Simulate(ctx context.Context, o SimOptions) {
	m := newSim(s, o)
	m.seedHistory()
	fake.Run(ctx, o.Tick, s.closing, func(int) { m.step() })
}

// ---------------------------------------------------------------------------
// Random helpers

func (m *sim) uniform(lo, hi float64) float64 { return lo + (hi-lo)*m.rng.Float64() }

func (m *sim) chance(p float64) bool { return m.rng.Float64() < p }

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
	return ws[len(ws)-1].value
}

func (m *sim) pickID(ids []int64) int64 { return ids[m.rng.IntN(len(ids))] }

func (m *sim) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*m.rng.NormFloat64())
}

func (m *sim) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= m.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// businessShare is the share of a duration that falls in business hours:
// short durations mostly do, long ones span nights and weekends.
func (m *sim) businessShare(calendar int) float64 {
	switch {
	case calendar < 60:
		return m.uniform(0.6, 1)
	case calendar < 8*60:
		return m.uniform(0.4, 0.95)
	default:
		return m.uniform(0.2, 0.45)
	}
}

// pair turns calendar minutes into a MinutePair with business <= calendar.
func (m *sim) pair(calendar float64) *MinutePair {
	c := int(math.Round(calendar))
	if c < 0 {
		c = 0
	}
	b := int(float64(c) * m.businessShare(c))
	return &MinutePair{Calendar: c, Business: min(b, c)}
}

func clampf(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func addMinutes(t time.Time, minutes float64) time.Time {
	return t.Add(time.Duration(minutes * float64(time.Minute))).Truncate(time.Second)
}

func (m *sim) firstReplyMinutes() float64 { return clampf(m.lognormal(40, 1.2), 1, 5*24*60) }

func (m *sim) resolutionMinutes() float64 { return clampf(m.lognormal(300, 1.3), 5, 21*24*60) }

// newTicket draws the static attributes of a ticket.
func (m *sim) newTicket(created time.Time) Ticket {
	subj := simSubjects[m.rng.IntN(len(simSubjects))]
	t := Ticket{
		Status:    "new",
		Priority:  m.pick(simPriority),
		Type:      m.pick(simTypes),
		Channel:   m.pick(simChannels),
		BrandID:   simBrands[0],
		CreatedAt: created.Truncate(time.Second),
		Subject:   subj.subject,
		Tags:      []string{subj.tag},
	}
	if m.chance(0.2) {
		t.BrandID = simBrands[1]
	}
	if m.chance(0.75) {
		t.GroupID = m.pickID(simGroups)
	}
	if m.chance(0.6) {
		t.OrganizationID = 361000000 + int64(m.rng.IntN(30))
	}
	if m.chance(0.05) {
		t.Tags = append(t.Tags, "vip")
	}
	return t
}

// assign gives t an assignee of its group (and the agent's group when it
// had none) at time at.
func (m *sim) assign(t *Ticket, at time.Time) {
	if t.AssigneeID == 0 {
		var members []int64
		for _, a := range simTeam {
			if t.GroupID == 0 || a.group == t.GroupID {
				members = append(members, a.id)
			}
		}
		t.AssigneeID = m.pickID(members)
		if t.GroupID == 0 {
			t.GroupID = agent(t.AssigneeID).group
		}
		t.Metrics.AssignedAt = at
		if t.Metrics.InitiallyAssignedAt.IsZero() {
			t.Metrics.InitiallyAssignedAt = at
		}
	}
	if t.GroupID == 0 {
		t.GroupID = m.pickID(simGroups)
	}
}

// setWaits splits a resolution time into agent, requester and on-hold waits.
func (m *sim) setWaits(t *Ticket, full float64) {
	rw := full * m.uniform(0, 0.05)
	if t.Metrics.Replies > 1 {
		rw = full * m.uniform(0.05, 0.3)
	}
	oh := 0.0
	if m.chance(0.1) {
		oh = full * m.uniform(0.05, 0.25)
	}
	t.Metrics.RequesterWaitTime = m.pair(rw)
	t.Metrics.OnHoldTime = m.pair(oh)
	t.Metrics.AgentWaitTime = m.pair(full - rw - oh)
}

func (m *sim) rating(bad bool) (string, string) {
	if bad {
		return "bad", simBadNotes[m.rng.IntN(len(simBadNotes))]
	}
	return "good", simGoodNotes[m.rng.IntN(len(simGoodNotes))]
}

// ---------------------------------------------------------------------------
// History

func (m *sim) seedHistory() {
	now := m.now().Truncate(time.Second)
	total := 290 + m.rng.IntN(21)
	unresolved := 38 + m.rng.IntN(5)
	tickets := make([]Ticket, 0, total)

	for i := 0; i < total-unresolved; i++ {
		age := m.uniform(60, 14*24*60) // minutes since creation
		created := addMinutes(now, -age)
		t := m.newTicket(created)
		reply := m.firstReplyMinutes()
		full := m.resolutionMinutes()
		if full > age-2 {
			full = (age - 2) * m.uniform(0.3, 0.95)
		}
		full = math.Max(full, 2)
		if reply >= full {
			reply = math.Max(1, full*m.uniform(0.1, 0.9))
		}
		replies := 1
		if !m.chance(0.45) {
			replies = 2 + m.rng.IntN(5)
		}
		reopens := 0
		if r := m.rng.Float64(); r < 0.02 {
			reopens = 2
		} else if r < 0.10 {
			reopens = 1
		}
		first := full
		if reopens > 0 {
			first = math.Max(reply, full*m.uniform(0.2, 0.6))
			replies = max(replies, 2)
		}
		solved := addMinutes(created, full)
		m.assign(&t, addMinutes(created, reply*m.uniform(0.1, 0.9)))
		t.Metrics.Replies, t.Metrics.Reopens = replies, reopens
		t.Metrics.ReplyTime = m.pair(reply)
		t.Metrics.FullResolutionTime = m.pair(full)
		t.Metrics.FirstResolutionTime = m.pair(first)
		if t.Metrics.FirstResolutionTime.Business > t.Metrics.FullResolutionTime.Business {
			t.Metrics.FirstResolutionTime.Business = t.Metrics.FullResolutionTime.Business
		}
		m.setWaits(&t, full)
		t.Metrics.SolvedAt = solved
		t.Metrics.LatestCommentAddedAt = solved
		t.Status, t.Metrics.StatusUpdatedAt = "solved", solved
		if now.Sub(solved) > 96*time.Hour {
			t.Status, t.Metrics.StatusUpdatedAt = "closed", solved.Add(96*time.Hour)
		}
		t.UpdatedAt = t.Metrics.StatusUpdatedAt
		switch r := m.rng.Float64(); {
		case r < 0.2:
			t.Satisfaction, t.SatisfactionComment = m.rating(m.chance(0.2))
		case r < 0.27:
			t.Satisfaction = "offered"
		}
		if t.Satisfaction != "" {
			rated := solved.Add(time.Duration(m.uniform(10, 24*60) * float64(time.Minute))).Truncate(time.Second)
			if limit := now.Add(-time.Minute); rated.After(limit) {
				rated = limit
			}
			if rated.After(t.UpdatedAt) {
				t.UpdatedAt = rated
			}
		}
		tickets = append(tickets, t)
	}

	for i := 0; i < unresolved; i++ {
		age := math.Exp(m.uniform(math.Log(5), math.Log(10*24*60)))
		created := addMinutes(now, -age)
		t := m.newTicket(created)
		last := created
		if age < 3 || m.chance(0.3) {
			// never replied to
			if m.chance(0.3) {
				t.Status = "open"
				m.assign(&t, addMinutes(created, age*m.uniform(0, 0.5)))
				last = t.Metrics.AssignedAt
			}
		} else {
			reply := math.Min(m.firstReplyMinutes(), age*m.uniform(0.2, 0.9))
			m.assign(&t, addMinutes(created, reply*m.uniform(0.1, 1)))
			t.Metrics.Replies = 1 + m.rng.IntN(4)
			t.Metrics.ReplyTime = m.pair(reply)
			last = addMinutes(created, reply+(age-reply)*m.uniform(0.3, 0.95))
			t.Metrics.LatestCommentAddedAt = last
			switch r := m.rng.Float64(); {
			case r < 0.55:
				t.Status = "open"
			case r < 0.85:
				t.Status = "pending"
			default:
				t.Status = "hold"
			}
			if m.chance(0.08) {
				// solved once, then reopened by the requester
				firstSolve := reply + (age-reply)*m.uniform(0.05, 0.25)
				t.Metrics.Reopens = 1
				t.Metrics.SolvedAt = addMinutes(created, firstSolve)
				t.Metrics.FirstResolutionTime = m.pair(firstSolve)
				full := *t.Metrics.FirstResolutionTime
				t.Metrics.FullResolutionTime = &full
			}
		}
		t.Metrics.StatusUpdatedAt = last
		t.UpdatedAt = last
		tickets = append(tickets, t)
	}

	// Ids follow creation order; the export order follows the last change.
	sort.SliceStable(tickets, func(i, j int) bool { return tickets[i].CreatedAt.Before(tickets[j].CreatedAt) })
	s := m.s
	s.mu.Lock()
	for i := range tickets {
		s.lastID++
		tickets[i].ID = s.lastID
	}
	sort.SliceStable(tickets, func(i, j int) bool { return tickets[i].UpdatedAt.Before(tickets[j].UpdatedAt) })
	for _, t := range tickets {
		s.storeLocked(t, t.UpdatedAt.Unix())
	}
	s.mu.Unlock()

	for _, t := range tickets {
		if t.Status != "closed" {
			m.live = append(m.live, t.ID)
		}
	}
	sort.Slice(m.live, func(i, j int) bool { return m.live[i] < m.live[j] })
}

// ---------------------------------------------------------------------------
// Steps

// snapshot returns copies of the live tickets and drops from the live set
// those that were closed, deleted or removed.
func (m *sim) snapshot() []Ticket {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ticket, 0, len(m.live))
	keep := m.live[:0]
	for _, id := range m.live {
		r, ok := s.tickets[id]
		if !ok || r.t.Status == "closed" || r.t.Status == "deleted" {
			continue
		}
		keep = append(keep, id)
		out = append(out, r.t.clone())
	}
	m.live = keep
	return out
}

// arrivalRate is the expected number of new tickets this step.
func (m *sim) arrivalRate(now time.Time, backlog int) float64 {
	elapsed := now.Sub(m.start).Seconds()
	rate := 0.55 * (1 + 0.6*math.Sin(2*math.Pi*elapsed/240))
	if m.burstLeft > 0 {
		m.burstLeft--
		rate *= m.burstMult
	} else if m.chance(0.01) {
		m.burstLeft = 8 + m.rng.IntN(15)
		m.burstMult = 2.5 + 2*m.rng.Float64()
		m.burstSubject = simBurstSubjects[m.rng.IntN(len(simBurstSubjects))]
	}
	switch {
	case backlog >= 150:
		rate = 0
	case backlog > 130:
		rate *= 0.25
	case backlog < 25:
		rate *= 1.5
	}
	return rate
}

// step advances the simulation by one tick.
func (m *sim) step() {
	now := m.now().Truncate(time.Second)
	m.ticks++
	snap := m.snapshot()

	var unreplied, openReplied, pending, hold, solved, all []int64
	backlog := 0
	for _, t := range snap {
		all = append(all, t.ID)
		switch t.Status {
		case "new", "open":
			backlog++
			if t.Metrics.Replies == 0 {
				unreplied = append(unreplied, t.ID)
			} else {
				openReplied = append(openReplied, t.ID)
			}
		case "pending":
			backlog++
			pending = append(pending, t.ID)
		case "hold":
			backlog++
			hold = append(hold, t.ID)
		case "solved":
			solved = append(solved, t.ID)
		}
	}

	// Early in a run, force the first missing kind of event.
	forced := -1
	if m.ticks >= 2 {
		for k, ok := range m.done {
			if !ok {
				forced = k
				break
			}
		}
	}

	// Arrivals.
	n := m.poisson(m.arrivalRate(now, backlog))
	if forced == evCreated || (forced == evFirstReply && len(unreplied) == 0) {
		n = max(n, 1)
	}
	for range n {
		unreplied = append(unreplied, m.create(now))
	}

	// Steer the backlog: solve faster when it grows, stop solving when small.
	ctrl := clampf(float64(backlog)/60, 0.3, 3)
	if backlog <= 20 {
		ctrl = 0
	}

	for _, id := range unreplied {
		switch r := m.rng.Float64(); {
		case r < 0.05+0.02*ctrl:
			m.firstReply(id, now)
		case r < 0.07+0.02*ctrl:
			m.triage(id, now)
		}
	}
	for _, id := range openReplied {
		switch r := m.rng.Float64(); {
		case r < 0.02*ctrl:
			m.solve(id, now)
		case r < 0.02*ctrl+0.02:
			m.reply(id, now)
		case r < 0.02*ctrl+0.035:
			m.setStatus(id, now, "open", "pending")
		case r < 0.02*ctrl+0.039:
			m.setStatus(id, now, "open", "hold")
		}
	}
	for _, id := range pending {
		switch r := m.rng.Float64(); {
		case r < 0.02*ctrl:
			m.solve(id, now)
		case r < 0.02*ctrl+0.03:
			m.requesterReply(id, now, "pending")
		}
	}
	for _, id := range hold {
		if m.chance(0.03) {
			m.setStatus(id, now, "hold", "open")
		}
	}

	if forced >= 0 && m.done[forced] {
		forced = -1
	}
	switch forced {
	case evFirstReply:
		for _, id := range unreplied {
			if m.firstReply(id, now) {
				break
			}
		}
	case evSolved:
		for _, ids := range [][]int64{openReplied, pending, hold, unreplied} {
			if len(ids) > 0 && m.solve(ids[0], now) {
				break
			}
		}
	}

	// Solved tickets: close, reopen, rate.
	for _, id := range solved {
		if m.chance(0.004) {
			m.closeTicket(id, now, false)
		} else {
			m.closeTicket(id, now, true) // only if solved more than 4 days ago
		}
	}
	if len(solved) > 0 {
		if forced == evReopened && m.done[evReopened] {
			forced = -1
		}
		if m.chance(0.04) || forced == evReopened {
			m.reopen(m.pickID(solved), now)
		}
		if m.chance(0.15) {
			id := m.pickID(solved)
			m.rate(id, now, "")
		}
		if (forced == evRatedGood || forced == evRatedBad) && !m.done[forced] {
			score := "good"
			if forced == evRatedBad {
				score = "bad"
			}
			for range 20 {
				if m.rate(m.pickID(solved), now, score) {
					break
				}
			}
		}
		if m.chance(0.02) {
			m.downgrade(m.pickID(solved), now)
		}
	}

	// Deletions and system updates.
	if len(all) > 0 && m.chance(0.008) {
		m.deleteTicket(m.pickID(all), now)
	}
	if len(all) > 0 && m.chance(0.15) {
		m.s.Touch(m.pickID(all))
	}
}

// create adds a new ticket and returns its id.
func (m *sim) create(now time.Time) int64 {
	t := m.newTicket(now)
	if m.burstLeft > 0 && m.chance(0.7) {
		t.Subject, t.Type, t.Priority = m.burstSubject, "incident", "high"
		t.Tags = []string{"outage"}
	}
	if (t.Channel == "voice" || t.Channel == "chat") && m.chance(0.5) {
		// picked up live by an agent
		t.Status = "open"
		m.assign(&t, now)
	}
	t.ID = m.s.NextID()
	t.UpdatedAt = now
	t.Metrics.StatusUpdatedAt = now
	m.s.Put(t)
	m.live = append(m.live, t.ID)
	m.done[evCreated] = true
	return t.ID
}

// firstReply gives an unreplied ticket its first public agent reply.
func (m *sim) firstReply(id int64, now time.Time) bool {
	ok := m.s.modify(id, func(t *Ticket) bool {
		if t.Metrics.Replies > 0 || (t.Status != "new" && t.Status != "open") {
			return false
		}
		m.applyFirstReply(t, now)
		return true
	})
	if ok {
		m.done[evFirstReply] = true
	}
	return ok
}

func (m *sim) applyFirstReply(t *Ticket, now time.Time) {
	t.Metrics.Replies = 1
	m.assign(t, now)
	t.Metrics.ReplyTime = m.pair(m.firstReplyMinutes() * agent(t.AssigneeID).speed)
	if t.Status == "new" {
		t.Status = "open"
		t.Metrics.StatusUpdatedAt = now
	}
	t.Metrics.LatestCommentAddedAt = now
	t.UpdatedAt = now
}

// triage assigns a new ticket without replying.
func (m *sim) triage(id int64, now time.Time) bool {
	return m.s.modify(id, func(t *Ticket) bool {
		if t.Status != "new" {
			return false
		}
		m.assign(t, now)
		t.Status = "open"
		t.Metrics.StatusUpdatedAt = now
		t.UpdatedAt = now
		return true
	})
}

// reply adds a further agent reply.
func (m *sim) reply(id int64, now time.Time) bool {
	return m.s.modify(id, func(t *Ticket) bool {
		if t.Status != "open" || t.Metrics.Replies == 0 {
			return false
		}
		t.Metrics.Replies++
		t.Metrics.LatestCommentAddedAt = now
		t.UpdatedAt = now
		return true
	})
}

// requesterReply brings a pending ticket back to open.
func (m *sim) requesterReply(id int64, now time.Time, from string) bool {
	return m.s.modify(id, func(t *Ticket) bool {
		if t.Status != from {
			return false
		}
		t.Status = "open"
		t.Metrics.StatusUpdatedAt = now
		t.Metrics.LatestCommentAddedAt = now
		t.UpdatedAt = now
		return true
	})
}

// setStatus moves a ticket from one unresolved status to another.
func (m *sim) setStatus(id int64, now time.Time, from, to string) bool {
	return m.s.modify(id, func(t *Ticket) bool {
		if t.Status != from {
			return false
		}
		t.Status = to
		t.Metrics.StatusUpdatedAt = now
		t.UpdatedAt = now
		return true
	})
}

// solve solves an unresolved ticket (replying first if nobody had).
func (m *sim) solve(id int64, now time.Time) bool {
	firstReplied := false
	ok := m.s.modify(id, func(t *Ticket) bool {
		switch t.Status {
		case "new", "open", "pending", "hold":
		default:
			return false
		}
		firstReplied = false
		if t.Metrics.Replies == 0 {
			m.applyFirstReply(t, now) // solved with the first reply: one-touch
			firstReplied = true
		} else if m.chance(0.5) {
			t.Metrics.Replies++
		}
		mt := &t.Metrics
		reply := 1.0
		if mt.ReplyTime != nil {
			reply = float64(mt.ReplyTime.Calendar)
		}
		var full float64
		if mt.FirstResolutionTime == nil || mt.Reopens == 0 {
			full = math.Max(m.resolutionMinutes()*agent(t.AssigneeID).speed, reply+1)
			mt.FullResolutionTime = m.pair(full)
			first := *mt.FullResolutionTime
			mt.FirstResolutionTime = &first
		} else {
			prev := *mt.FirstResolutionTime
			if mt.FullResolutionTime != nil {
				prev = *mt.FullResolutionTime
			}
			extra := m.lognormal(120, 1.0)
			full = float64(prev.Calendar) + extra
			business := prev.Business + int(extra*m.businessShare(int(extra)))
			c := int(math.Round(full))
			mt.FullResolutionTime = &MinutePair{Calendar: c, Business: min(business, c)}
		}
		m.setWaits(t, full)
		t.Status = "solved"
		mt.SolvedAt = now
		mt.StatusUpdatedAt = now
		mt.LatestCommentAddedAt = now
		t.UpdatedAt = now
		return true
	})
	if ok {
		m.done[evSolved] = true
		if firstReplied {
			m.done[evFirstReply] = true
		}
	}
	return ok
}

// closeTicket closes a solved ticket; with onlyOld, only one solved more than
// four days ago (Zendesk's default automation).
func (m *sim) closeTicket(id int64, now time.Time, onlyOld bool) bool {
	return m.s.modify(id, func(t *Ticket) bool {
		if t.Status != "solved" || (onlyOld && now.Sub(t.Metrics.SolvedAt) < 96*time.Hour) {
			return false
		}
		t.Status = "closed"
		t.Metrics.StatusUpdatedAt = now
		t.UpdatedAt = now
		return true
	})
}

// reopen reopens a solved ticket.
func (m *sim) reopen(id int64, now time.Time) bool {
	ok := m.s.modify(id, func(t *Ticket) bool {
		if t.Status != "solved" {
			return false
		}
		t.Status = "open"
		t.Metrics.Reopens++
		t.Metrics.StatusUpdatedAt = now
		t.Metrics.LatestCommentAddedAt = now
		t.UpdatedAt = now
		return true
	})
	if ok {
		m.done[evReopened] = true
	}
	return ok
}

// rate rates a solved, not yet rated ticket; score "" draws one (sometimes
// only "offered").
func (m *sim) rate(id int64, now time.Time, score string) bool {
	var got string
	ok := m.s.modify(id, func(t *Ticket) bool {
		if t.Status != "solved" || t.Satisfaction == "good" || t.Satisfaction == "bad" {
			return false
		}
		sc := score
		comment := ""
		switch {
		case sc == "" && t.Satisfaction == "" && m.chance(0.15):
			sc = "offered"
		case sc == "":
			sc, comment = m.rating(m.chance(agent(t.AssigneeID).bad))
		case sc == "good" || sc == "bad":
			_, comment = m.rating(sc == "bad")
		}
		t.Satisfaction, t.SatisfactionComment = sc, comment
		t.UpdatedAt = now
		got = sc
		return true
	})
	if ok {
		switch got {
		case "good":
			m.done[evRatedGood] = true
		case "bad":
			m.done[evRatedBad] = true
		}
	}
	return ok
}

// downgrade changes a good rating to bad.
func (m *sim) downgrade(id int64, now time.Time) bool {
	return m.s.modify(id, func(t *Ticket) bool {
		if t.Status != "solved" || t.Satisfaction != "good" {
			return false
		}
		t.Satisfaction, t.SatisfactionComment = m.rating(true)
		t.UpdatedAt = now
		return true
	})
}

// deleteTicket soft-deletes a ticket.
func (m *sim) deleteTicket(id int64, now time.Time) bool {
	return m.s.modify(id, func(t *Ticket) bool {
		if t.Status == "deleted" {
			return false
		}
		t.Status = "deleted"
		t.UpdatedAt = now
		return true
	})
}
