package helpdesk

import (
	"strings"
)

// hours indexes the calendar and business variants of a duration.
const (
	calendar = iota
	business
)

var hoursNames = [2]string{"calendar", "business"}

// Series is the counters and histograms of one combination of exported
// ticket label values.
type Series struct {
	Labels       []string     `json:"labels"`
	Created      uint64       `json:"created"`
	Solved       uint64       `json:"solved"`
	Reopened     uint64       `json:"reopened"`
	FirstContact uint64       `json:"first_contact"`
	FirstSolved  uint64       `json:"first_solved"`
	Ratings      [4]uint64    `json:"ratings"` // indexed by Rating
	FirstReply   [2]Histogram `json:"first_reply"`
	Resolution   [2]Histogram `json:"resolution"`
	Replies      Histogram    `json:"replies"`
	// FirstReplySLA and ResolutionSLA count results, indexed by SLAResult.
	FirstReplySLA [3]uint64    `json:"first_reply_sla"`
	ResolutionSLA [3]uint64    `json:"resolution_sla"`
	RequesterWait [2]Histogram `json:"requester_wait"`
	AgentWait     [2]Histogram `json:"agent_wait"`
	OnHold        [2]Histogram `json:"on_hold"`
}

// Aggregates are everything the engine has counted for one source. They
// are persisted whole with every page, in the same transaction as the
// ticket states, so counters never reset and never count twice.
type Aggregates struct {
	LabelNames []string           `json:"label_names"`
	Series     map[string]*Series `json:"series"`
	Limits     labelLimiter       `json:"limits"`
	// RepliesUnknown: the vendor counts no agent replies, so first-contact
	// resolution and replies per ticket are not exported (never a constant).
	RepliesUnknown bool `json:"replies_unknown,omitempty"`
	// WaitsKnown: the vendor gives wait and on-hold times, so their
	// histograms are exported.
	WaitsKnown bool `json:"waits_known,omitempty"`
}

func newAggregates(ls LabelSet, maxValues int) *Aggregates {
	a := &Aggregates{
		LabelNames: ls.Names(),
		Series:     map[string]*Series{},
		Limits:     labelLimiter{Max: maxValues, Values: map[string][]string{}},
	}
	a.trackActivity(ls)
	return a
}

// trackActivity starts the assignee activity tally when assignee is
// exported (and drops it when it no longer is).
func (a *Aggregates) trackActivity(ls LabelSet) {
	switch {
	case !ls.Has(LabelNames[labelAssignee]):
		a.Limits.Activity = nil
	case a.Limits.Activity == nil:
		a.Limits.Activity = &activity{Counts: map[string][]uint32{}}
	case a.Limits.Activity.Counts == nil:
		a.Limits.Activity.Counts = map[string][]uint32{}
	}
}

func seriesKey(values []string) string { return strings.Join(values, "\x00") }

func (a *Aggregates) series(values []string) *Series {
	k := seriesKey(values)
	s := a.Series[k]
	if s == nil {
		s = &Series{Labels: values}
		a.Series[k] = s
	}
	return s
}

// add counts the events of one ticket into the series of its labels.
func (a *Aggregates) add(values []string, ev *Events) {
	if !ev.Created && !ev.FirstReply && ev.Solves == 0 && ev.Reopens == 0 && ev.Rating == RatingNone &&
		ev.FirstReplySLA == SLANone && ev.ResolutionSLA == SLANone {
		return
	}
	s := a.series(values)
	if ev.Created {
		s.Created++
	}
	if ev.FirstReply {
		observeDurations(&s.FirstReply, ev.FirstReplyTime)
	}
	s.Reopened += uint64(ev.Reopens)
	s.Solved += uint64(ev.Solves)
	if ev.RepliesAtSolve >= 0 {
		s.FirstContact += uint64(ev.FirstContact)
	}
	for range ev.Solves {
		observeDurations(&s.Resolution, ev.ResolutionTime)
		observeDurations(&s.RequesterWait, ev.RequesterWait)
		observeDurations(&s.AgentWait, ev.AgentWait)
		observeDurations(&s.OnHold, ev.OnHold)
	}
	if ev.FirstSolve {
		// FCR and one-touch are per ticket: replies are observed at its
		// first solve only.
		s.FirstSolved++
		if ev.RepliesAtSolve >= 0 {
			s.Replies.Observe(float64(ev.RepliesAtSolve), ReplyBuckets, false)
		}
	}
	if ev.Rating != RatingNone {
		s.Ratings[ev.Rating]++
	}
	if ev.FirstReplySLA != SLANone {
		s.FirstReplySLA[ev.FirstReplySLA]++
	}
	if ev.ResolutionSLA != SLANone {
		s.ResolutionSLA[ev.ResolutionSLA]++
	}
}

// note records what the vendor of a ticket gives, which decides whether
// the reply and wait families are exported at all.
func (a *Aggregates) note(t *Ticket) {
	if t.AgentReplies < 0 {
		a.RepliesUnknown = true
	}
	for _, d := range []Durations{t.RequesterWait, t.AgentWait, t.OnHold} {
		if d.CalendarKnown || d.BusinessKnown {
			a.WaitsKnown = true
		}
	}
}

func observeDurations(h *[2]Histogram, d Durations) {
	if d.CalendarKnown {
		h[calendar].Observe(d.Calendar.Seconds(), DurationBuckets, true)
	}
	if d.BusinessKnown {
		h[business].Observe(d.Business.Seconds(), DurationBuckets, true)
	}
}

func (a *Aggregates) clone() *Aggregates {
	c := &Aggregates{
		LabelNames:     a.LabelNames,
		Series:         make(map[string]*Series, len(a.Series)),
		Limits:         labelLimiter{Max: a.Limits.Max, Values: make(map[string][]string, len(a.Limits.Values)), Activity: a.Limits.Activity.clone()},
		RepliesUnknown: a.RepliesUnknown,
		WaitsKnown:     a.WaitsKnown,
	}
	for k, v := range a.Limits.Values {
		c.Limits.Values[k] = append([]string(nil), v...)
	}
	for k, s := range a.Series {
		n := *s
		for i := range 2 {
			n.FirstReply[i] = s.FirstReply[i].clone()
			n.Resolution[i] = s.Resolution[i].clone()
			n.RequesterWait[i] = s.RequesterWait[i].clone()
			n.AgentWait[i] = s.AgentWait[i].clone()
			n.OnHold[i] = s.OnHold[i].clone()
		}
		n.Replies = s.Replies.clone()
		c.Series[k] = &n
	}
	return c
}

// rekey rebuilds the series index from each series' own labels: the map
// keys of a decoded blob are not trusted.
func (a *Aggregates) rekey() {
	old := a.Series
	a.Series = make(map[string]*Series, len(old))
	for _, s := range old {
		a.Series[seriesKey(s.Labels)] = s
	}
}

// relabel re-keys aggregates persisted under another label choice: labels
// no longer chosen are merged away, newly chosen ones get the value
// "unknown" for what was counted before.
func (a *Aggregates) relabel(ls LabelSet) {
	if strings.Join(a.LabelNames, ",") == strings.Join(ls.Names(), ",") {
		return
	}
	old := a.Series
	a.Series = map[string]*Series{}
	for _, s := range old {
		vals := make([]string, len(ls.names))
		for i, n := range ls.names {
			vals[i] = "unknown"
			if j := indexOf(a.LabelNames, n); j >= 0 {
				vals[i] = s.Labels[j]
			}
		}
		d := a.series(vals)
		d.Created += s.Created
		d.Solved += s.Solved
		d.Reopened += s.Reopened
		d.FirstContact += s.FirstContact
		d.FirstSolved += s.FirstSolved
		for i := range s.Ratings {
			d.Ratings[i] += s.Ratings[i]
		}
		for i := range s.FirstReplySLA {
			d.FirstReplySLA[i] += s.FirstReplySLA[i]
			d.ResolutionSLA[i] += s.ResolutionSLA[i]
		}
		for i := range 2 {
			d.FirstReply[i].merge(s.FirstReply[i])
			d.Resolution[i].merge(s.Resolution[i])
			d.RequesterWait[i].merge(s.RequesterWait[i])
			d.AgentWait[i].merge(s.AgentWait[i])
			d.OnHold[i].merge(s.OnHold[i])
		}
		d.Replies.merge(s.Replies)
	}
	a.LabelNames = ls.Names()
}
