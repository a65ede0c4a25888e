package helpdesk

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// ageThresholds are the backlog ageing buckets of helpdesk_open_tickets_older_than.
var ageThresholds = []struct {
	label string
	d     time.Duration
}{{"1h", time.Hour}, {"4h", 4 * time.Hour}, {"1d", 24 * time.Hour}, {"3d", 72 * time.Hour}, {"7d", 168 * time.Hour}}

var slaStates = [3]string{"within", "at_risk", "breached"}

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

// The families a Collector renders.
const (
	fAwaiting = iota
	fAwaitingOldest
	fSLA
	fOpenOldest
	fOpen
	fOlderThan
	fResSLA
	fAgentWait
	fFirstReply
	fFirstReplySLA
	fOnHold
	fReplies
	fRequesterWait
	fResolution
	fResolutionSLA
	fRatings
	fCreated
	fFirstSolved
	fReopened
	fSolved
	fFirstContact
	numFamilies
)

// family is one metric family of the helpdesk_* set.
type family struct {
	name, help string
	typ        dto.MetricType
	// extra is the label that splits each label combination into several
	// series ("" for none), values its values in exposition order.
	extra  string
	values []string
}

var (
	statusValues = func() []string {
		v := make([]string, len(unresolvedStatuses))
		for i, st := range unresolvedStatuses {
			v[i] = st.String()
		}
		return v
	}()
	ageValues = func() []string {
		v := make([]string, len(ageThresholds))
		for i, a := range ageThresholds {
			v[i] = a.label
		}
		return v
	}()
	resultValues = []string{SLAMet.String(), SLABreached.String()}
	ratingValues = []string{RatingGood.String(), RatingNeutral.String(), RatingBad.String()}
)

const (
	gauge   = dto.MetricType_GAUGE
	counter = dto.MetricType_COUNTER
	histo   = dto.MetricType_HISTOGRAM
)

var families = [numFamilies]family{
	fOpen:           {"helpdesk_open_tickets", "Unresolved tickets now (the backlog).", gauge, "status", statusValues},
	fOpenOldest:     {"helpdesk_open_ticket_oldest_age_seconds", "Age of the oldest unresolved ticket.", gauge, "", nil},
	fOlderThan:      {"helpdesk_open_tickets_older_than", "Unresolved tickets created longer ago than age.", gauge, "age", ageValues},
	fAwaiting:       {"helpdesk_awaiting_first_reply_tickets", "Unresolved tickets with no agent reply yet.", gauge, "", nil},
	fSLA:            {"helpdesk_first_reply_sla_tickets", "Tickets awaiting a first reply by SLA state (at_risk: under 25% of the target left).", gauge, "state", slaStates[:]},
	fAwaitingOldest: {"helpdesk_awaiting_first_reply_oldest_age_seconds", "Age of the oldest ticket awaiting a first reply.", gauge, "", nil},
	fResSLA:         {"helpdesk_resolution_sla_tickets", "Unresolved tickets never solved yet by resolution-SLA state (at_risk: under 25% of the target left).", gauge, "state", slaStates[:]},
	fCreated:        {"helpdesk_tickets_created_total", "Tickets created.", counter, "", nil},
	fSolved:         {"helpdesk_tickets_solved_total", "Transitions into solved; a ticket solved again after a reopen counts again.", counter, "", nil},
	fReopened:       {"helpdesk_tickets_reopened_total", "Transitions from solved back to unresolved.", counter, "", nil},
	fFirstContact:   {"helpdesk_tickets_solved_first_contact_total", "Solves with exactly one agent reply and no reopen.", counter, "", nil},
	fRatings:        {"helpdesk_satisfaction_ratings_total", "Satisfaction ratings received.", counter, "rating", ratingValues},
	fFirstReply:     {"helpdesk_first_reply_seconds", "Time from creation to the first public agent reply.", histo, "hours", hoursNames[:]},
	fResolution:     {"helpdesk_resolution_seconds", "Time from creation to solve, observed at each solve.", histo, "hours", hoursNames[:]},
	fReplies:        {"helpdesk_replies_per_solved_ticket", "Public agent replies at a ticket's first solve.", histo, "", nil},
	fFirstSolved:    {"helpdesk_tickets_first_solved_total", "Tickets solved for the first time (denominator of FCR and one-touch).", counter, "", nil},
	fFirstReplySLA:  {"helpdesk_first_reply_sla_total", "Tickets by first-reply SLA result, each once: met at a first reply within target, breached when the target passed unanswered.", counter, "result", resultValues},
	fResolutionSLA:  {"helpdesk_resolution_sla_total", "Tickets by resolution SLA result, each once: met at a first solve within target, breached when the target passed unsolved.", counter, "result", resultValues},
	fRequesterWait:  {"helpdesk_requester_wait_seconds", "Time the requester waited on agents, as the vendor reports it, observed at each solve.", histo, "hours", hoursNames[:]},
	fAgentWait:      {"helpdesk_agent_wait_seconds", "Time agents waited on the requester, as the vendor reports it, observed at each solve.", histo, "hours", hoursNames[:]},
	fOnHold:         {"helpdesk_on_hold_seconds", "Time on hold, as the vendor reports it, observed at each solve.", histo, "hours", hoursNames[:]},
}

// familyOrder is the families' exposition order: by name, as a registry
// sorts them.
var familyOrder = func() []int {
	o := make([]int, numFamilies)
	for i := range o {
		o[i] = i
	}
	slices.SortFunc(o, func(a, b int) int { return strings.Compare(families[a].name, families[b].name) })
	return o
}()

// width is the number of series the family has per label combination.
func (f *family) width() int { return max(1, len(f.values)) }

// Collector renders a Tracker's aggregates and backlog as the helpdesk_*
// metrics. It never calls upstream: a scrape reads memory only.
//
// It is both a prometheus.Collector and a prometheus.Gatherer: the
// exporter gathers it directly, which spares every series the registry's
// per-metric channel hop, validation, hashing and sort; both render the
// same families. Label pairs are built once per label combination and the
// counters and histograms of a combination are rebuilt only when its
// counts changed: between syncs a scrape allocates its backlog gauges and
// little else.
type Collector struct {
	tr     *Tracker
	now    func() time.Time
	descs  [numFamilies]*prometheus.Desc
	layout [numFamilies][]int // label pair order: index into the var labels, -1 source, -2 extra
	source *dto.LabelPair

	extras [numFamilies][]*dto.LabelPair

	mu     sync.Mutex // guards the render cache below
	order  []*combo   // the label combinations, in no order
	combos map[string]*combo
	// slots are each family's series in exposition order: by label
	// values, labels in name order, as a registry sorts them.
	slots [numFamilies][]slot
}

// slot is a family's j-th series of a combination.
type slot struct {
	cb *combo
	j  int
}

// combo is the render cache of one label combination.
type combo struct {
	key string
	// labels are the label pairs of each family's series.
	labels [numFamilies][][]*dto.LabelPair
	// series and log are the combination's aggregates (nil: none) and
	// backlog in the scrape being rendered.
	series *Series
	log    *backlog
	// sig is the counts the counter and histogram metrics below were
	// rendered from; they are rebuilt when it differs.
	sig      seriesSig
	rendered bool
	metrics  [numFamilies][]*dto.Metric
}

// Collector returns the tracker's collector for source; now is the clock
// backlog ages are measured against.
func (tr *Tracker) Collector(source string, now func() time.Time) *Collector {
	names := tr.cfg.Labels.Names()
	c := &Collector{tr: tr, now: now, combos: map[string]*combo{}, source: pair("source", source)}
	for i := range families {
		f := &families[i]
		vars := names
		if f.extra != "" {
			vars = append(append([]string(nil), names...), f.extra)
		}
		c.descs[i] = prometheus.NewDesc(f.name, f.help, vars, prometheus.Labels{"source": source})
		c.layout[i] = labelLayout(names, f.extra)
		for _, v := range f.values {
			c.extras[i] = append(c.extras[i], pair(f.extra, v))
		}
	}
	return c
}

func pair(name, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: proto.String(name), Value: proto.String(value)}
}

// labelLayout is the order of a family's label pairs, sorted by name as a
// registry sorts them: indexes into names, -1 for source, -2 for extra.
func labelLayout(names []string, extra string) []int {
	type named struct {
		name string
		idx  int
	}
	slots := []named{{"source", -1}}
	for i, n := range names {
		slots = append(slots, named{n, i})
	}
	if extra != "" {
		slots = append(slots, named{extra, -2})
	}
	slices.SortFunc(slots, func(a, b named) int { return strings.Compare(a.name, b.name) })
	out := make([]int, len(slots))
	for i, s := range slots {
		out[i] = s.idx
	}
	return out
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	mfs, idx := c.render()
	for i, mf := range mfs {
		for _, m := range mf.Metric {
			ch <- rendered{c.descs[idx[i]], m}
		}
	}
}

// Gather implements prometheus.Gatherer: the families in name order, each
// series in label order, with no error (label values are made valid UTF-8,
// as ConstMetric does).
func (c *Collector) Gather() ([]*dto.MetricFamily, error) {
	mfs, _ := c.render()
	return mfs, nil
}

// rendered is one pre-built metric of a family.
type rendered struct {
	desc *prometheus.Desc
	m    *dto.Metric
}

func (r rendered) Desc() *prometheus.Desc { return r.desc }

func (r rendered) Write(out *dto.Metric) error {
	out.Label, out.Gauge, out.Counter, out.Histogram = r.m.Label, r.m.Gauge, r.m.Counter, r.m.Histogram
	return nil
}

// gaugeBox holds one scrape-time gauge sample in a single allocation.
type gaugeBox struct {
	m dto.Metric
	g dto.Gauge
	v float64
}

// render builds the families of one scrape (none without series) and
// their indexes in families. The metrics it returns are never changed
// afterwards: a combination whose counts change gets new ones, so a scrape
// still being encoded is unaffected.
func (c *Collector) render() ([]*dto.MetricFamily, []int) {
	now := c.now().Unix()
	c.tr.mu.RLock()
	defer c.tr.mu.RUnlock()
	agg := c.tr.agg
	logs := make(map[string]*backlog, len(agg.Series))
	for k := range agg.Series {
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

	c.mu.Lock()
	defer c.mu.Unlock()
	c.arrange(logs, agg)
	series := 0
	for _, cb := range c.order {
		cb.series, cb.log = agg.Series[cb.key], logs[cb.key]
		if cb.series != nil {
			c.renderSeries(cb, cb.series, agg)
			series++
		}
	}
	if len(c.order) == 0 {
		return nil, nil
	}
	// One allocation for every gauge sample of the scrape.
	boxes := make([]gaugeBox, len(c.order)*totalGaugeWidth)
	out, idx := make([]*dto.MetricFamily, 0, numFamilies), make([]int, 0, numFamilies)
	for _, f := range familyOrder {
		fam := &families[f]
		if !agg.shown(f) || fam.typ != gauge && series == 0 {
			continue
		}
		mf := &dto.MetricFamily{Name: &fam.name, Help: &fam.help, Type: fam.typ.Enum()}
		if fam.typ != dto.MetricType_GAUGE {
			mf.Metric = make([]*dto.Metric, 0, series*fam.width())
			for _, sl := range c.slots[f] {
				if sl.cb.series != nil {
					mf.Metric = append(mf.Metric, sl.cb.metrics[f][sl.j])
				}
			}
			out, idx = append(out, mf), append(idx, f)
			continue
		}
		mf.Metric = make([]*dto.Metric, 0, len(c.order)*fam.width())
		for _, sl := range c.slots[f] {
			box := &boxes[0]
			boxes = boxes[1:]
			box.v = sl.cb.log.gauge(f, sl.j, now)
			box.g.Value = &box.v
			box.m.Gauge, box.m.Label = &box.g, sl.cb.labels[f][sl.j]
			mf.Metric = append(mf.Metric, &box.m)
		}
		out, idx = append(out, mf), append(idx, f)
	}
	return out, idx
}

// totalGaugeWidth is the number of gauge series per label combination.
var totalGaugeWidth = func() int {
	n := 0
	for i := range families {
		if families[i].typ == dto.MetricType_GAUGE {
			n += families[i].width()
		}
	}
	return n
}()

// gauge is the value of gauge family f's j-th series.
func (b *backlog) gauge(f, j int, now int64) float64 {
	switch f {
	case fOpen:
		return float64(b.byStatus[unresolvedStatuses[j]])
	case fOpenOldest:
		return ageSince(b.oldest, now)
	case fOlderThan:
		return float64(b.olderThan[j])
	case fAwaiting:
		return float64(b.awaiting)
	case fSLA:
		return float64(b.sla[j])
	case fResSLA:
		return float64(b.resSLA[j])
	case fAwaitingOldest:
		return ageSince(b.awaitingOldest, now)
	}
	panic("helpdesk: not a gauge family")
}

// arrange brings the combinations in line with the keys of logs (every
// series and every backlog) and, when they changed, sorts each family's
// series anew.
func (c *Collector) arrange(logs map[string]*backlog, agg *Aggregates) {
	same := len(c.order) == len(logs)
	for _, cb := range c.order {
		if !same {
			break
		}
		_, same = logs[cb.key]
	}
	if same {
		return
	}
	order := make([]*combo, 0, len(logs))
	for k := range logs {
		cb := c.combos[k]
		if cb == nil {
			labels := c.tr.labels[k]
			if s := agg.Series[k]; s != nil {
				labels = s.Labels
			}
			cb = c.newCombo(k, labels)
			c.combos[k] = cb
		}
		order = append(order, cb)
	}
	if len(c.combos) > len(order) {
		for k := range c.combos {
			if _, ok := logs[k]; !ok {
				delete(c.combos, k)
			}
		}
	}
	c.order = order
	for f := range families {
		sl := c.slots[f][:0]
		for _, cb := range order {
			for j := range cb.labels[f] {
				sl = append(sl, slot{cb, j})
			}
		}
		slices.SortFunc(sl, func(a, b slot) int {
			return slices.CompareFunc(a.cb.labels[f][a.j], b.cb.labels[f][b.j], func(x, y *dto.LabelPair) int {
				return strings.Compare(x.GetValue(), y.GetValue())
			})
		})
		c.slots[f] = sl
	}
}

func (c *Collector) newCombo(key string, labels []string) *combo {
	labels = ValidLabelValues(labels)
	names := c.tr.cfg.Labels.names
	pairs := make([]*dto.LabelPair, len(names)) // in LabelSet order
	for i, n := range names {
		v := ""
		if i < len(labels) {
			v = labels[i]
		}
		pairs[i] = pair(n, v)
	}
	cb := &combo{key: key}
	for f := range families {
		cb.labels[f] = c.labelPairs(pairs, f)
	}
	return cb
}

// labelPairs are the label pairs of family f's series of the combination
// whose label values are pairs.
func (c *Collector) labelPairs(pairs []*dto.LabelPair, f int) [][]*dto.LabelPair {
	layout := c.layout[f]
	n := families[f].width()
	ls := make([][]*dto.LabelPair, n)
	backing := make([]*dto.LabelPair, n*len(layout))
	for j := range n {
		lp := backing[j*len(layout) : (j+1)*len(layout) : (j+1)*len(layout)]
		for i, idx := range layout {
			switch idx {
			case -1:
				lp[i] = c.source
			case -2:
				lp[i] = c.extras[f][j]
			default:
				lp[i] = pairs[idx]
			}
		}
		ls[j] = lp
	}
	return ls
}

// shown reports whether family f is exported: a vendor that counts no
// replies exports no FCR at all, rather than a ratio that says nothing,
// and wait times only come from vendors that give them.
func (a *Aggregates) shown(f int) bool {
	switch f {
	case fFirstContact, fReplies:
		return !a.RepliesUnknown
	case fRequesterWait, fAgentWait, fOnHold:
		return a.WaitsKnown
	}
	return true
}

// seriesSig is what decides a combination's counter and histogram metrics:
// its counters, each histogram's count and sum (a histogram's buckets
// change only with its count) and which families are shown.
type seriesSig struct {
	repliesUnknown, waitsKnown bool
	counts                     [12]uint64
	hists                      [11]struct {
		n   uint64
		sum float64
	}
}

func signature(s *Series, a *Aggregates) seriesSig {
	g := seriesSig{repliesUnknown: a.RepliesUnknown, waitsKnown: a.WaitsKnown}
	g.counts = [12]uint64{s.Created, s.Solved, s.Reopened, s.FirstContact, s.FirstSolved,
		s.Ratings[RatingGood], s.Ratings[RatingNeutral], s.Ratings[RatingBad],
		s.FirstReplySLA[SLAMet], s.FirstReplySLA[SLABreached], s.ResolutionSLA[SLAMet], s.ResolutionSLA[SLABreached]}
	for i, h := range []*Histogram{&s.FirstReply[0], &s.FirstReply[1], &s.Resolution[0], &s.Resolution[1], &s.Replies,
		&s.RequesterWait[0], &s.RequesterWait[1], &s.AgentWait[0], &s.AgentWait[1], &s.OnHold[0], &s.OnHold[1]} {
		g.hists[i].n, g.hists[i].sum = h.Count, h.Sum
	}
	return g
}

// renderSeries (re)builds cb's counter and histogram metrics of the shown
// families from s when its counts changed since they were last built.
func (c *Collector) renderSeries(cb *combo, s *Series, a *Aggregates) {
	sig := signature(s, a)
	if cb.rendered && sig == cb.sig {
		return
	}
	cb.sig, cb.rendered = sig, true
	set := func(f, n int, fill func(m *dto.Metric, j int)) {
		if !a.shown(f) {
			cb.metrics[f] = nil
			return
		}
		ms := make([]*dto.Metric, n)
		for j := range ms {
			ms[j] = &dto.Metric{Label: cb.labels[f][j]}
			fill(ms[j], j)
		}
		cb.metrics[f] = ms
	}
	ctr := func(f int, vals ...uint64) {
		set(f, len(vals), func(m *dto.Metric, j int) { m.Counter = &dto.Counter{Value: proto.Float64(float64(vals[j]))} })
	}
	hist := func(f int, bounds []float64, native bool, hs ...*Histogram) {
		set(f, len(hs), func(m *dto.Metric, j int) { m.Histogram = hs[j].toDTO(bounds, native) })
	}
	ctr(fCreated, s.Created)
	ctr(fSolved, s.Solved)
	ctr(fReopened, s.Reopened)
	ctr(fFirstSolved, s.FirstSolved)
	ctr(fFirstContact, s.FirstContact)
	ctr(fFirstReplySLA, s.FirstReplySLA[SLAMet], s.FirstReplySLA[SLABreached])
	ctr(fResolutionSLA, s.ResolutionSLA[SLAMet], s.ResolutionSLA[SLABreached])
	ctr(fRatings, s.Ratings[RatingGood], s.Ratings[RatingNeutral], s.Ratings[RatingBad])
	hist(fFirstReply, DurationBuckets, true, &s.FirstReply[calendar], &s.FirstReply[business])
	hist(fResolution, DurationBuckets, true, &s.Resolution[calendar], &s.Resolution[business])
	hist(fRequesterWait, DurationBuckets, true, &s.RequesterWait[calendar], &s.RequesterWait[business])
	hist(fAgentWait, DurationBuckets, true, &s.AgentWait[calendar], &s.AgentWait[business])
	hist(fOnHold, DurationBuckets, true, &s.OnHold[calendar], &s.OnHold[business])
	hist(fReplies, ReplyBuckets, false, &s.Replies)
}
