package helpdesk

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ageThresholds are the backlog ageing buckets of helpdesk_open_tickets_older_than.
var ageThresholds = []struct {
	label string
	d     time.Duration
}{{"1h", time.Hour}, {"4h", 4 * time.Hour}, {"1d", 24 * time.Hour}, {"3d", 72 * time.Hour}, {"7d", 168 * time.Hour}}

var slaStates = [3]string{"within", "at_risk", "breached"}

type descs struct {
	open, oldest, olderThan, awaiting, sla, awaitingOldest *prometheus.Desc
	created, solved, reopened, firstContact, ratings       *prometheus.Desc
	firstReply, resolution, replies                        *prometheus.Desc
	firstSolved, firstReplySLA, resolutionSLA, resSLA      *prometheus.Desc
	requesterWait, agentWait, onHold                       *prometheus.Desc
}

func newDescs(source string, labels []string) descs {
	src := prometheus.Labels{"source": source}
	d := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(append([]string(nil), labels...), extra...), src)
	}
	return descs{
		open:           d("helpdesk_open_tickets", "Unresolved tickets now (the backlog).", "status"),
		oldest:         d("helpdesk_open_ticket_oldest_age_seconds", "Age of the oldest unresolved ticket."),
		olderThan:      d("helpdesk_open_tickets_older_than", "Unresolved tickets created longer ago than age.", "age"),
		awaiting:       d("helpdesk_awaiting_first_reply_tickets", "Unresolved tickets with no agent reply yet."),
		sla:            d("helpdesk_first_reply_sla_tickets", "Tickets awaiting a first reply by SLA state (at_risk: under 25% of the target left).", "state"),
		awaitingOldest: d("helpdesk_awaiting_first_reply_oldest_age_seconds", "Age of the oldest ticket awaiting a first reply."),
		created:        d("helpdesk_tickets_created_total", "Tickets created."),
		solved:         d("helpdesk_tickets_solved_total", "Transitions into solved; a ticket solved again after a reopen counts again."),
		reopened:       d("helpdesk_tickets_reopened_total", "Transitions from solved back to unresolved."),
		firstContact:   d("helpdesk_tickets_solved_first_contact_total", "Solves with exactly one agent reply and no reopen."),
		ratings:        d("helpdesk_satisfaction_ratings_total", "Satisfaction ratings received.", "rating"),
		firstReply:     d("helpdesk_first_reply_seconds", "Time from creation to the first public agent reply.", "hours"),
		resolution:     d("helpdesk_resolution_seconds", "Time from creation to solve, observed at each solve.", "hours"),
		replies:        d("helpdesk_replies_per_solved_ticket", "Public agent replies at a ticket's first solve."),
		firstSolved:    d("helpdesk_tickets_first_solved_total", "Tickets solved for the first time (denominator of FCR and one-touch)."),
		firstReplySLA:  d("helpdesk_first_reply_sla_total", "Tickets by first-reply SLA result, each once: met at a first reply within target, breached when the target passed unanswered.", "result"),
		resolutionSLA:  d("helpdesk_resolution_sla_total", "Tickets by resolution SLA result, each once: met at a first solve within target, breached when the target passed unsolved.", "result"),
		resSLA:         d("helpdesk_resolution_sla_tickets", "Unresolved tickets never solved yet by resolution-SLA state (at_risk: under 25% of the target left).", "state"),
		requesterWait:  d("helpdesk_requester_wait_seconds", "Time the requester waited on agents, as the vendor reports it, observed at each solve.", "hours"),
		agentWait:      d("helpdesk_agent_wait_seconds", "Time agents waited on the requester, as the vendor reports it, observed at each solve.", "hours"),
		onHold:         d("helpdesk_on_hold_seconds", "Time on hold, as the vendor reports it, observed at each solve.", "hours"),
	}
}

// Collector renders a Tracker's aggregates and backlog as the helpdesk_*
// metrics. It never calls upstream: a scrape reads memory only.
type Collector struct {
	tr  *Tracker
	d   descs
	now func() time.Time
}

// Collector returns the tracker's collector for source; now is the clock
// backlog ages are measured against.
func (tr *Tracker) Collector(source string, now func() time.Time) *Collector {
	return &Collector{tr: tr, d: newDescs(source, tr.cfg.Labels.Names()), now: now}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.d.open, c.d.oldest, c.d.olderThan, c.d.awaiting, c.d.sla, c.d.awaitingOldest,
		c.d.created, c.d.solved, c.d.reopened, c.d.firstContact, c.d.ratings, c.d.firstReply, c.d.resolution, c.d.replies,
		c.d.firstSolved, c.d.firstReplySLA, c.d.resolutionSLA, c.d.resSLA, c.d.requesterWait, c.d.agentWait, c.d.onHold} {
		ch <- d
	}
}

// backlog is the live state of one label combination's unresolved tickets.
type backlog struct {
	byStatus       [StatusDeleted + 1]int
	olderThan      [5]int
	awaiting       int
	sla            [3]int
	resSLA         [3]int
	oldest         int64 // unix seconds, 0: none
	awaitingOldest int64
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	now := c.now().Unix()
	c.tr.mu.RLock()
	defer c.tr.mu.RUnlock()
	logs := map[string]*backlog{}
	for k := range c.tr.agg.Series {
		logs[k] = &backlog{}
	}
	for _, o := range c.tr.open {
		b := logs[o.key]
		if b == nil {
			b = &backlog{}
			logs[o.key] = b
		}
		b.add(&o, now)
	}
	for k, b := range logs {
		labels := c.tr.labels[k]
		if s := c.tr.agg.Series[k]; s != nil {
			labels = s.Labels
		}
		c.collectBacklog(ch, b, labels, now)
	}
	for _, s := range c.tr.agg.Series {
		c.collectSeries(ch, s)
	}
}

func (b *backlog) add(o *openTicket, now int64) {
	b.byStatus[o.status]++
	age := time.Duration(now-o.created) * time.Second
	for i, a := range ageThresholds {
		if age > a.d {
			b.olderThan[i]++
		}
	}
	if b.oldest == 0 || o.created < b.oldest {
		b.oldest = o.created
	}
	slaState(&b.resSLA, o.resRiskAt, o.resBreachAt, now)
	if !o.awaiting {
		return
	}
	b.awaiting++
	if b.awaitingOldest == 0 || o.created < b.awaitingOldest {
		b.awaitingOldest = o.created
	}
	slaState(&b.sla, o.riskAt, o.breachAt, now)
}

// slaState counts a ticket into within, at_risk or breached; a zero
// breachAt means no target.
func slaState(states *[3]int, riskAt, breachAt, now int64) {
	switch {
	case breachAt == 0:
	case now >= breachAt:
		states[2]++
	case now >= riskAt:
		states[1]++
	default:
		states[0]++
	}
}

func ageSince(ts, now int64) float64 {
	if ts == 0 || now < ts {
		return 0
	}
	return float64(now - ts)
}

func (c *Collector) collectBacklog(ch chan<- prometheus.Metric, b *backlog, labels []string, now int64) {
	g := func(d *prometheus.Desc, v float64, extra ...string) {
		ch <- ConstMetric(d, prometheus.GaugeValue, v, append(append([]string(nil), labels...), extra...)...)
	}
	for _, st := range unresolvedStatuses {
		g(c.d.open, float64(b.byStatus[st]), st.String())
	}
	g(c.d.oldest, ageSince(b.oldest, now))
	for i, a := range ageThresholds {
		g(c.d.olderThan, float64(b.olderThan[i]), a.label)
	}
	g(c.d.awaiting, float64(b.awaiting))
	for i, st := range slaStates {
		g(c.d.sla, float64(b.sla[i]), st)
	}
	for i, st := range slaStates {
		g(c.d.resSLA, float64(b.resSLA[i]), st)
	}
	g(c.d.awaitingOldest, ageSince(b.awaitingOldest, now))
}

func (c *Collector) collectSeries(ch chan<- prometheus.Metric, s *Series) {
	ctr := func(d *prometheus.Desc, v uint64, extra ...string) {
		ch <- ConstMetric(d, prometheus.CounterValue, float64(v), append(append([]string(nil), s.Labels...), extra...)...)
	}
	ctr(c.d.created, s.Created)
	ctr(c.d.solved, s.Solved)
	ctr(c.d.reopened, s.Reopened)
	ctr(c.d.firstSolved, s.FirstSolved)
	for _, r := range []SLAResult{SLAMet, SLABreached} {
		ctr(c.d.firstReplySLA, s.FirstReplySLA[r], r.String())
		ctr(c.d.resolutionSLA, s.ResolutionSLA[r], r.String())
	}
	for _, r := range []Rating{RatingGood, RatingNeutral, RatingBad} {
		ctr(c.d.ratings, s.Ratings[r], r.String())
	}
	hist := func(d *prometheus.Desc, h *Histogram, bounds []float64, native bool, extra ...string) {
		ch <- h.metric(d, bounds, native, append(append([]string(nil), s.Labels...), extra...))
	}
	for i, name := range hoursNames {
		hist(c.d.firstReply, &s.FirstReply[i], DurationBuckets, true, name)
		hist(c.d.resolution, &s.Resolution[i], DurationBuckets, true, name)
		if c.tr.agg.WaitsKnown {
			hist(c.d.requesterWait, &s.RequesterWait[i], DurationBuckets, true, name)
			hist(c.d.agentWait, &s.AgentWait[i], DurationBuckets, true, name)
			hist(c.d.onHold, &s.OnHold[i], DurationBuckets, true, name)
		}
	}
	// A vendor that counts no replies exports no FCR at all, rather than
	// a ratio that says nothing.
	if !c.tr.agg.RepliesUnknown {
		ctr(c.d.firstContact, s.FirstContact)
		hist(c.d.replies, &s.Replies, ReplyBuckets, false)
	}
}
