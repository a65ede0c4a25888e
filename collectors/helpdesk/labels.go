package helpdesk

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// LabelNames are the ticket labels CX_TICKET_LABELS can choose from, in
// the order State.Labels holds them.
var LabelNames = [numLabels]string{"priority", "channel", "group", "ticket_type", "brand", "assignee"}

const numLabels = 6

// labelAssignee is the index of the assignee label in LabelNames.
const labelAssignee = 5

// NoneValue is the value of a label the ticket has none of (unassigned,
// no group).
const NoneValue = "none"

// OtherValue replaces label values beyond the per-label cap.
const OtherValue = "other"

// LabelSet is the choice of ticket labels to export.
type LabelSet struct {
	idx   []int // indexes into LabelNames, in the order given
	names []string
}

// ParseLabelSet parses a comma-separated list such as "priority,channel".
func ParseLabelSet(s string) (LabelSet, error) {
	var ls LabelSet
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		i := indexOf(LabelNames[:], f)
		if i < 0 {
			return LabelSet{}, fmt.Errorf("unknown label %q, want some of %s", f, strings.Join(LabelNames[:], ","))
		}
		if seen[f] {
			return LabelSet{}, fmt.Errorf("label %q given twice", f)
		}
		seen[f] = true
		ls.idx = append(ls.idx, i)
		ls.names = append(ls.names, f)
	}
	return ls, nil
}

// Names returns a copy of the chosen label names.
func (ls LabelSet) Names() []string { return append([]string(nil), ls.names...) }

// Has reports whether the label name is chosen.
func (ls LabelSet) Has(name string) bool { return indexOf(ls.names, name) >= 0 }

// values picks the chosen label values of a ticket.
func (ls LabelSet) values(all *[numLabels]string) []string {
	out := make([]string, len(ls.idx))
	for i, j := range ls.idx {
		out[i] = all[j]
	}
	return out
}

func indexOf(set []string, v string) int {
	for i, s := range set {
		if s == v {
			return i
		}
	}
	return -1
}

// labelLimiter caps the number of distinct values per label. The values it
// has admitted are persisted with the aggregates, so a restart maps every
// value to the same series.
type labelLimiter struct {
	Max    int                 `json:"max"`
	Values map[string][]string `json:"values"`
	// Activity ranks the assignee values (nil when assignee is not
	// exported): see rankAssignees.
	Activity *activity `json:"activity,omitempty"`
}

// capValues maps a ticket's raw label values to exported ones: empty
// becomes "none", and values beyond the cap become "other".
func (l *labelLimiter) capValues(t *Ticket) [numLabels]string {
	raw := rawValues(t)
	for i, v := range raw {
		raw[i] = l.admit(LabelNames[i], v)
	}
	return raw
}

// rawValues are a ticket's label values before the cap; empty is "none".
func rawValues(t *Ticket) [numLabels]string {
	raw := [numLabels]string{t.Priority, t.Channel, t.Group, t.Type, t.Brand, t.Assignee}
	for i, v := range raw {
		if v == "" {
			raw[i] = NoneValue
		}
	}
	return raw
}

func (l *labelLimiter) admit(name, v string) string {
	if name == LabelNames[labelAssignee] && (v == NoneValue || v == OtherValue) {
		// Unassigned tickets always keep their own series, outside the cap.
		return v
	}
	vals := l.Values[name]
	if indexOf(vals, v) >= 0 {
		return v
	}
	if len(vals) >= l.Max {
		return OtherValue
	}
	l.Values[name] = append(vals, v)
	return v
}

// ActivityDays is the window the assignee cap ranks agents over.
const ActivityDays = 30

// activity tallies the events of each raw assignee value per day, so that
// the assignee cap keeps the most active agents of the last ActivityDays
// days. It is persisted with the aggregates.
type activity struct {
	// Day is the unix day (UTC) of each value's first count.
	Day int64 `json:"day"`
	// Ranked is the unix day of the last ranking; 0: never ranked.
	Ranked int64 `json:"ranked"`
	// Counts are a value's events per day, newest (Day) first.
	Counts map[string][]uint32 `json:"counts"`
}

func unixDay(t time.Time) int64 { return t.Unix() / 86400 }

// advance moves the window to day: older counts shift back, counts beyond
// the window drop, and values with none left are forgotten.
func (a *activity) advance(day int64) {
	if day <= a.Day {
		return
	}
	shift := day - a.Day
	a.Day = day
	for v, c := range a.Counts {
		if shift >= ActivityDays {
			delete(a.Counts, v)
			continue
		}
		n := min(len(c)+int(shift), ActivityDays)
		out := make([]uint32, n)
		copy(out[shift:], c)
		var any bool
		for _, x := range out {
			any = any || x > 0
		}
		if !any {
			delete(a.Counts, v)
			continue
		}
		a.Counts[v] = out
	}
}

// tally counts n events of value v on day (a day older than the window's
// newest counts on the newest: late versions do not rewrite the past).
func (a *activity) tally(v string, n int, day int64) {
	if n <= 0 || v == NoneValue {
		return
	}
	a.advance(day)
	c := a.Counts[v]
	if len(c) == 0 {
		c = make([]uint32, 1)
	}
	c[0] += uint32(n)
	a.Counts[v] = c
}

func (a *activity) total(v string) uint64 {
	var t uint64
	for _, x := range a.Counts[v] {
		t += uint64(x)
	}
	return t
}

// rankAssignees re-chooses, at most once per day, which assignee values
// keep their own series: the Max most active of the last ActivityDays
// days, ties going to values already admitted and then by name, so that
// the choice is stable between scrapes and deterministic. Until the next
// ranking, a value outside the choice is admitted only while there is room.
func (l *labelLimiter) rankAssignees(day int64) {
	a := l.Activity
	if a == nil || day <= a.Ranked {
		return
	}
	a.advance(day)
	a.Ranked = day
	name := LabelNames[labelAssignee]
	admitted := map[string]bool{}
	for _, v := range l.Values[name] {
		admitted[v] = true
	}
	vals := make([]string, 0, len(a.Counts))
	for v := range a.Counts {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(i, j int) bool {
		ti, tj := a.total(vals[i]), a.total(vals[j])
		if ti != tj {
			return ti > tj
		}
		if admitted[vals[i]] != admitted[vals[j]] {
			return admitted[vals[i]]
		}
		return vals[i] < vals[j]
	})
	if len(vals) > l.Max {
		vals = vals[:l.Max]
	}
	sort.Strings(vals)
	l.Values[name] = vals
}

// events is how many countable events ev holds: the activity of a ticket's
// assignee.
func (ev *Events) events() int {
	n := b2i(ev.Created) + b2i(ev.FirstReply) + ev.Solves + ev.Reopens
	if ev.Rating != RatingNone {
		n++
	}
	return n
}

func (a *activity) clone() *activity {
	if a == nil {
		return nil
	}
	c := &activity{Day: a.Day, Ranked: a.Ranked, Counts: make(map[string][]uint32, len(a.Counts))}
	for k, v := range a.Counts {
		c.Counts[k] = append([]uint32(nil), v...)
	}
	return c
}
