package main_test

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

// Fixed durations of the soak's tickets, in minutes: the same at every
// version, so that the truth does not depend on which versions a sync saw.
const (
	soakFirstReply = 10 // 600 s
	soakResolution = 60 // 3600 s
)

// soakTicket is one scripted ticket and the events applied to it so far.
type soakTicket struct {
	t       fakezendesk.Ticket
	plan    []string // steps still to apply
	replied bool
	solves  int
	rating  string
}

// soakPlans are the storylines a ticket follows, step by step. They are
// chosen so that the counted truth is the same whether a sync sees every
// version or only the last one: a ticket that will be reopened has two
// replies before its first solve (never first-contact), durations and
// reply counts do not change between solves, and a ticket is rated once,
// last.
var soakPlans = []struct {
	weight float64
	steps  []string
}{
	{0.40, []string{"reply1", "solve", "rate"}},                             // one touch
	{0.20, []string{"reply2", "solve", "reopen", "touch", "solve", "rate"}}, // reopened and solved again
	{0.20, []string{"pending", "reply1", "touch"}},                          // still open
	{0.10, []string{"touch"}},                                               // still new
	{0.10, []string{"reply1", "solve"}},                                     // solved, never rated
}

// TestE2EChaosSoak runs a scripted Zendesk account through the real binary
// with random 429, 500, truncated and slow answers and SIGKILLs at random
// points, and checks that no counter ever goes backwards and that, once
// the faults stop, every helpdesk counter, histogram and gauge equals the
// scripted truth exactly, with no record rejected. CX_SOAK_SEED replays a
// run; the seed is logged.
func TestE2EChaosSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak of about a minute")
	}
	t.Parallel()
	const minEvents, minKills = 1000, 5
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CX_SOAK_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (CX_SOAK_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x50a4))
	started := time.Now()

	s := newScenario(t)
	s.env = append(s.env, "CX_ZENDESK_PAGE_SIZE=20", "CX_ZENDESK_EXPORT_RATE=6000", "CX_LOG_LEVEL=info")
	s.zd.SetRetryAfter(1)
	s.zd.SetSlowDelay(400 * time.Millisecond)
	s.start()
	s.Synced() // the watermark is set: every ticket below is created after it

	var tickets []*soakTicket
	var active []*soakTicket
	high := map[string]float64{} // highest value seen of every counter sample
	check := func() {
		m := s.Samples()
		e2e.ExpectCountersNotBackwards(t, high, m)
		for k, v := range m {
			if strings.HasPrefix(k, "helpdesk_") && v > high[k] {
				high[k] = v
			}
		}
	}
	faults := []fakezendesk.Fault{fakezendesk.Fault429, fakezendesk.Fault500, fakezendesk.FaultTruncated, fakezendesk.FaultSlow}
	injected, events, kills := 0, 0, 0
	nextKill := 100 + rng.IntN(120)
	priorities, channels := []string{"low", "normal"}, []string{"web", "email"}

	for events < minEvents || kills < minKills {
		if len(active) == 0 || len(active) < 40 && rng.Float64() < 0.3 {
			now := time.Now().UTC()
			st := &soakTicket{t: fakezendesk.Ticket{ID: int64(len(tickets) + 1), Status: "new",
				Priority: priorities[rng.IntN(2)], Channel: channels[rng.IntN(2)], CreatedAt: now}}
			r := rng.Float64()
			for i, p := range soakPlans {
				if r -= p.weight; r < 0 || i == len(soakPlans)-1 {
					st.plan = append([]string(nil), p.steps...)
					break
				}
			}
			tickets = append(tickets, st)
			active = append(active, st)
			s.zd.Put(st.t)
		} else {
			i := rng.IntN(len(active))
			st := active[i]
			step := st.plan[0]
			st.plan = st.plan[1:]
			if len(st.plan) == 0 {
				active = append(active[:i], active[i+1:]...)
			}
			soakApply(s.zd, st, step, rng)
		}
		events++

		if rng.IntN(30) == 0 {
			s.zd.InjectFault(faults[rng.IntN(len(faults))], 1+rng.IntN(2))
			injected++
		}
		if events >= nextKill {
			s.Exp.Kill()
			kills++
			s.start()
			nextKill = events + 100 + rng.IntN(120)
		}
		if events%25 == 0 {
			check()
		}
		time.Sleep(time.Duration(5+rng.IntN(15)) * time.Millisecond)
	}
	s.zd.ClearFaults()
	s.Synced()
	got := s.Synced()
	check()
	t.Logf("%d events on %d tickets, %d SIGKILLs, %d faults injected, %s", events, len(tickets), kills, injected, time.Since(started).Round(time.Second))

	e2e.ExpectHelpdesk(t, got, soakTruth(tickets, time.Now()), "zendesk")
	for k, v := range got {
		if strings.HasPrefix(k, "cx_exporter_records_rejected_total{") && v != 0 {
			t.Errorf("%s = %v: a fault was counted as a rejected record", k, v)
		}
	}
	if up := e2e.Series("cx_exporter_source_up", "source", "zendesk", "kind", "zendesk"); got[up] != 1 {
		t.Errorf("%s = %v, want 1", up, got[up])
	}
	if strings.Contains(s.Exp.Logs(), e2eToken) {
		t.Error("the API token appears in the logs")
	}
	if err := s.Exp.Stop(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}

// soakApply applies one step of a ticket's plan to the fake account.
func soakApply(zd *fakezendesk.Server, st *soakTicket, step string, rng *rand.Rand) {
	t := &st.t
	switch step {
	case "touch":
		zd.Touch(t.ID)
		return
	case "pending":
		t.Status = "pending"
	case "reply1", "reply2":
		t.Status, t.Metrics.Replies = "open", 1
		if step == "reply2" {
			t.Metrics.Replies = 2
		}
		t.Metrics.ReplyTime = &fakezendesk.MinutePair{Calendar: soakFirstReply, Business: soakFirstReply}
		st.replied = true
	case "solve":
		t.Status, t.Metrics.SolvedAt = "solved", time.Now().UTC()
		t.Metrics.FullResolutionTime = &fakezendesk.MinutePair{Calendar: soakResolution, Business: soakResolution}
		st.solves++
	case "reopen":
		t.Status, t.Metrics.Reopens = "open", t.Metrics.Reopens+1
	case "rate":
		st.rating = "good"
		if rng.Float64() < 0.3 {
			st.rating = "bad"
		}
		t.Satisfaction = st.rating
	}
	t.UpdatedAt = time.Time{}
	zd.Put(*t)
}

// soakTruth is every non-zero helpdesk series the scripted tickets must
// have produced.
func soakTruth(tickets []*soakTicket, now time.Time) map[string]float64 {
	want := map[string]float64{}
	type combo struct{ priority, channel string }
	type agg struct {
		created, replied, solves, reopens, firstContact int
		firstSolves                                     int
		repliesAtFirstSolve                             []int
		ratings, open                                   map[string]int
		awaiting, unsolved                              int
		oldest, oldestAwaiting                          time.Time
	}
	aggs := map[combo]*agg{}
	for _, st := range tickets {
		c := combo{st.t.Priority, st.t.Channel}
		a := aggs[c]
		if a == nil {
			a = &agg{ratings: map[string]int{}, open: map[string]int{}}
			aggs[c] = a
		}
		a.created++
		if st.replied {
			a.replied++
		}
		a.solves += st.solves
		a.reopens += st.t.Metrics.Reopens
		if st.solves > 0 {
			// Replies are observed once per ticket, at its first solve
			// (the count never changes between solves); first contact is
			// a first solve after one reply, never reopened before it.
			a.firstSolves++
			a.repliesAtFirstSolve = append(a.repliesAtFirstSolve, st.t.Metrics.Replies)
			if st.t.Metrics.Replies == 1 && st.t.Metrics.Reopens == 0 {
				a.firstContact++
			}
		}
		if st.rating != "" {
			a.ratings[st.rating]++
		}
		if st.t.Status != "solved" {
			a.open[st.t.Status]++
			if a.oldest.IsZero() || st.t.CreatedAt.Before(a.oldest) {
				a.oldest = st.t.CreatedAt
			}
			if st.solves == 0 {
				a.unsolved++ // a reopened ticket is in no resolution SLA state
			}
			if !st.replied {
				a.awaiting++
				if a.oldestAwaiting.IsZero() || st.t.CreatedAt.Before(a.oldestAwaiting) {
					a.oldestAwaiting = st.t.CreatedAt
				}
			}
		}
	}
	for c, a := range aggs {
		key := func(name string, kv ...string) string { return hd(name, c.priority, c.channel, kv...) }
		set := func(k string, v float64) {
			if v != 0 {
				want[k] = v
			}
		}
		set(key("helpdesk_tickets_created_total"), float64(a.created))
		set(key("helpdesk_tickets_solved_total"), float64(a.solves))
		set(key("helpdesk_tickets_reopened_total"), float64(a.reopens))
		set(key("helpdesk_tickets_first_solved_total"), float64(a.firstSolves))
		set(key("helpdesk_tickets_solved_first_contact_total"), float64(a.firstContact))
		// Each SLA judged once per ticket, all within target: first replies
		// after 10m (of 24h low, 8h normal), first solves after 60m (of 7d,
		// 3d); no target passes during the soak, so nothing is breached.
		set(key("helpdesk_first_reply_sla_total", "result", "met"), float64(a.replied))
		set(key("helpdesk_resolution_sla_total", "result", "met"), float64(a.firstSolves))
		for r, n := range a.ratings {
			set(key("helpdesk_satisfaction_ratings_total", "rating", r), float64(n))
		}
		for _, hours := range []string{"calendar", "business"} {
			for _, h := range []struct {
				name string
				n    int
				v    float64
			}{{"helpdesk_first_reply_seconds", a.replied, soakFirstReply * 60}, {"helpdesk_resolution_seconds", a.solves, soakResolution * 60}} {
				if h.n == 0 {
					continue
				}
				set(key(h.name+"_count", "hours", hours), float64(h.n))
				set(key(h.name+"_sum", "hours", hours), float64(h.n)*h.v)
				e2e.AddBuckets(want, func(le string) string { return key(h.name+"_bucket", "hours", hours, "le", le) }, []float64{h.v}, h.n)
			}
		}
		if len(a.repliesAtFirstSolve) > 0 {
			sum := 0
			for _, r := range a.repliesAtFirstSolve {
				sum += r
			}
			set(key("helpdesk_replies_per_solved_ticket_count"), float64(len(a.repliesAtFirstSolve)))
			set(key("helpdesk_replies_per_solved_ticket_sum"), float64(sum))
			for _, le := range []string{"1", "2", "3", "4", "5", "7", "10", "15", "20", "+Inf"} {
				n := 0
				for _, r := range a.repliesAtFirstSolve {
					if b, err := strconv.ParseFloat(le, 64); le == "+Inf" || err == nil && float64(r) <= b {
						n++
					}
				}
				set(key("helpdesk_replies_per_solved_ticket_bucket", "le", le), float64(n))
			}
		}
		for status, n := range a.open {
			set(key("helpdesk_open_tickets", "status", status), float64(n))
		}
		if !a.oldest.IsZero() {
			want[key("helpdesk_open_ticket_oldest_age_seconds")] = now.Sub(a.oldest).Seconds()
		}
		set(key("helpdesk_awaiting_first_reply_tickets"), float64(a.awaiting))
		set(key("helpdesk_first_reply_sla_tickets", "state", "within"), float64(a.awaiting))
		set(key("helpdesk_resolution_sla_tickets", "state", "within"), float64(a.unsolved))
		if !a.oldestAwaiting.IsZero() {
			want[key("helpdesk_awaiting_first_reply_oldest_age_seconds")] = now.Sub(a.oldestAwaiting).Seconds()
		}
	}
	return want
}
