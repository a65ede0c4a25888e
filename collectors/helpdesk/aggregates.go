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
	Ratings      [4]uint64    `json:"ratings"` // indexed by Rating
	FirstReply   [2]Histogram `json:"first_reply"`
	Resolution   [2]Histogram `json:"resolution"`
	Replies      Histogram    `json:"replies"`
}

// Aggregates are everything the engine has counted for one source. They
// are persisted whole with every page, in the same transaction as the
// ticket states, so counters never reset and never count twice.
type Aggregates struct {
	LabelNames []string           `json:"label_names"`
	Series     map[string]*Series `json:"series"`
	Limits     labelLimiter       `json:"limits"`
}

func newAggregates(ls LabelSet, maxValues int) *Aggregates {
	return &Aggregates{
		LabelNames: ls.Names(),
		Series:     map[string]*Series{},
		Limits:     labelLimiter{Max: maxValues, Values: map[string][]string{}},
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
	if !ev.Created && !ev.FirstReply && ev.Solves == 0 && ev.Reopens == 0 && ev.Rating == RatingNone {
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
	s.FirstContact += uint64(ev.FirstContact)
	for range ev.Solves {
		observeDurations(&s.Resolution, ev.ResolutionTime)
		s.Replies.Observe(float64(ev.RepliesAtSolve), ReplyBuckets, false)
	}
	if ev.Rating != RatingNone {
		s.Ratings[ev.Rating]++
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
		LabelNames: a.LabelNames,
		Series:     make(map[string]*Series, len(a.Series)),
		Limits:     labelLimiter{Max: a.Limits.Max, Values: make(map[string][]string, len(a.Limits.Values))},
	}
	for k, v := range a.Limits.Values {
		c.Limits.Values[k] = append([]string(nil), v...)
	}
	for k, s := range a.Series {
		n := *s
		for i := range 2 {
			n.FirstReply[i] = s.FirstReply[i].clone()
			n.Resolution[i] = s.Resolution[i].clone()
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
		for i := range s.Ratings {
			d.Ratings[i] += s.Ratings[i]
		}
		for i := range 2 {
			d.FirstReply[i].merge(s.FirstReply[i])
			d.Resolution[i].merge(s.Resolution[i])
		}
		d.Replies.merge(s.Replies)
	}
	a.LabelNames = ls.Names()
}
