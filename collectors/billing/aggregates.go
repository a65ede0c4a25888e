package billing

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Window is the ratio window: billing_*_churn_ratio{window="30d"}.
const (
	windowDays  = 30
	windowLabel = "30d"
	// historyDays is how many UTC days of history are kept: the window's
	// first day (today-30) through today.
	historyDays = windowDays + 1
)

// PlanCounters are the subscription counters of one plan label value.
type PlanCounters struct {
	Started uint64    `json:"started"`
	Churned [2]uint64 `json:"churned"` // indexed like churnReasons
}

var churnReasons = [2]string{ReasonVoluntary, ReasonInvoluntary}

// Day is one UTC day of the history the 30-day ratios are computed from.
// Start values are those at 00:00 UTC: nothing changes between batches,
// so they are the values the day's first batch began with, plus what the
// day's backfill brought in (those subscriptions existed before the day
// started; the exporter just had not seen them yet).
type Day struct {
	Day              int64            `json:"day"`               // days since 1970-01-01 UTC
	ActiveCustomers  int64            `json:"active_customers"`  // at the day's start
	CustomersChurned int64            `json:"customers_churned"` // during the day
	MRR              map[string]int64 `json:"mrr"`               // per currency at the day's start, minor units
	MRRLost          map[string]int64 `json:"mrr_lost"`          // churn + contraction during the day, minor units
}

// Aggregates are everything the engine has counted for one source. They
// are persisted whole with every page, in the same transaction as the
// subscription and customer states, so counters never reset and never
// count twice. Gauges are not here: they are rebuilt from the states.
type Aggregates struct {
	Plans            map[string]*PlanCounters `json:"plans"`
	CustomersChurned uint64                   `json:"customers_churned"`
	// Movements are the MRR movements per currency in minor units,
	// indexed like MovementKinds. Every currency seen has an entry.
	Movements map[string]*[5]int64 `json:"movements"`
	History   []Day                `json:"history"` // ascending, at most historyDays
	Limits    labelLimiter         `json:"limits"`
}

func newAggregates(maxValues int) *Aggregates {
	return &Aggregates{
		Plans:     map[string]*PlanCounters{},
		Movements: map[string]*[5]int64{},
		Limits:    labelLimiter{Max: maxValues, Values: map[string][]string{}},
	}
}

// dayOf is the UTC day number of t.
func dayOf(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

func (a *Aggregates) plan(label string) *PlanCounters {
	p := a.Plans[label]
	if p == nil {
		p = &PlanCounters{}
		a.Plans[label] = p
	}
	return p
}

func (a *Aggregates) currency(c string) *[5]int64 {
	m := a.Movements[c]
	if m == nil {
		m = new([5]int64)
		a.Movements[c] = m
	}
	return m
}

// rollover starts the history entry of day with the given start values,
// unless it exists, and forgets days that left the window.
func (a *Aggregates) rollover(day, active int64, mrr map[string]int64) {
	if n := len(a.History); n == 0 || a.History[n-1].Day < day {
		a.History = append(a.History, Day{Day: day, ActiveCustomers: active, MRR: mrr, MRRLost: map[string]int64{}})
	}
	first := a.History[len(a.History)-1].Day - windowDays
	i := 0
	for i < len(a.History) && a.History[i].Day < first {
		i++
	}
	a.History = slices.Delete(a.History, 0, i)
}

// count adds the events of one subscription version. A day's entry exists:
// the batch rolled over when it began (a clock gone backwards counts into
// the latest day).
func (a *Aggregates) count(plan string, ev *Events) {
	p := a.plan(plan)
	if ev.Started {
		p.Started++
	}
	if ev.Churned {
		p.Churned[slices.Index(churnReasons[:], ev.ChurnReason)]++
	}
	today := &a.History[len(a.History)-1]
	if ev.CustomerChurned {
		a.CustomersChurned++
		today.CustomersChurned++
	}
	for _, m := range ev.Movements {
		a.currency(m.Currency)[m.Kind.index()] += m.AmountMinor
		if m.Kind == MovementChurn || m.Kind == MovementContraction {
			today.MRRLost[m.Currency] += m.AmountMinor
		}
	}
}

// backfill adds a backfilled subscription to the start values of the
// current day; activated says it made its customer active.
func (a *Aggregates) backfill(s *SubState, activated bool) {
	today := &a.History[len(a.History)-1]
	if activated {
		today.ActiveCustomers++
	}
	if s.Paying {
		if today.MRR == nil {
			today.MRR = map[string]int64{}
		}
		today.MRR[s.Currency] += s.MRRMinor
	}
}

// ratios computes the 30-day churn ratios at day today. The window starts
// at 00:00 UTC of day today-30 and ends now. Its start values are those of
// the first day recorded in it (a day without a batch changed nothing, so
// it starts with the values of the next recorded day); before 30 days of
// history exist, that is the oldest day recorded. With no day recorded in
// the window, nothing churned in it: both ratios are 0. A ratio whose
// denominator is 0 (no active customer, no MRR in that currency at the
// window's start) is 0.
func (a *Aggregates) ratios(today int64) (customers float64, mrr map[string]float64) {
	mrr = map[string]float64{}
	first := today - windowDays
	i := 0
	for i < len(a.History) && a.History[i].Day < first {
		i++
	}
	if i == len(a.History) {
		return 0, mrr
	}
	start := &a.History[i]
	var churned int64
	lost := map[string]int64{}
	for _, d := range a.History[i:] {
		churned += d.CustomersChurned
		for c, v := range d.MRRLost {
			lost[c] += v
		}
	}
	if start.ActiveCustomers > 0 {
		customers = float64(churned) / float64(start.ActiveCustomers)
	}
	for c, v := range lost {
		if base := start.MRR[c]; base > 0 {
			mrr[c] = float64(v) / float64(base)
		}
	}
	return customers, mrr
}

func (a *Aggregates) clone() *Aggregates {
	c := &Aggregates{
		Plans:            make(map[string]*PlanCounters, len(a.Plans)),
		CustomersChurned: a.CustomersChurned,
		Movements:        make(map[string]*[5]int64, len(a.Movements)),
		History:          make([]Day, len(a.History), len(a.History)+1),
		Limits:           a.Limits.clone(),
	}
	for k, p := range a.Plans {
		n := *p
		c.Plans[k] = &n
	}
	for k, m := range a.Movements {
		n := *m
		c.Movements[k] = &n
	}
	for i, d := range a.History {
		d.MRR, d.MRRLost = maps.Clone(d.MRR), maps.Clone(d.MRRLost)
		c.History[i] = d
	}
	return c
}

// sanitize repairs what a decoded blob may lack (nil maps, a history out
// of order): the blob is not trusted further than that.
func (a *Aggregates) sanitize() {
	if a.Plans == nil {
		a.Plans = map[string]*PlanCounters{}
	}
	for k, p := range a.Plans {
		if p == nil {
			a.Plans[k] = &PlanCounters{}
		}
	}
	if a.Movements == nil {
		a.Movements = map[string]*[5]int64{}
	}
	for k, m := range a.Movements {
		if m == nil {
			a.Movements[k] = new([5]int64)
		}
	}
	if a.Limits.Values == nil {
		a.Limits.Values = map[string][]string{}
	}
	slices.SortStableFunc(a.History, func(x, y Day) int { return cmp.Compare(x.Day, y.Day) })
	for i := range a.History {
		if a.History[i].MRRLost == nil {
			a.History[i].MRRLost = map[string]int64{}
		}
	}
}
