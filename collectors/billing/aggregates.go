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
	// Trials started, converted (first paid period) and canceled (ended
	// without paying).
	TrialsStarted   uint64 `json:"trials_started,omitempty"`
	TrialsConverted uint64 `json:"trials_converted,omitempty"`
	TrialsCanceled  uint64 `json:"trials_canceled,omitempty"`
}

var churnReasons = [2]string{ReasonVoluntary, ReasonInvoluntary}

// Day is one UTC day of the history the 30-day ratios are computed from.
// Start values are those at 00:00 UTC: nothing changes between batches,
// so they are the values the day's first batch began with, plus what the
// day's backfill brought in (those subscriptions existed before the day
// started; the exporter just had not seen them yet).
//
// The customer churn ratio and the revenue retention only count what
// happened to the customers that were active when their window began (and,
// for the churn ratio, the customers new in it): the day's churns and
// movements are kept by the start of the paying spell they belong to (see
// Spell), so that each window can keep those of the spells that began
// before it.
type Day struct {
	Day             int64 `json:"day"`              // days since 1970-01-01 UTC
	ActiveCustomers int64 `json:"active_customers"` // at the day's start
	// CustomersChurned are the day's customer churns that every window
	// holding the day counts: those ending a new customer's spell (new
	// in the window, or active at its start) or a spell older than any
	// such window.
	CustomersChurned int64 `json:"customers_churned"`
	// SpellChurned are the day's other churns (ending a reactivated or
	// backfilled customer's spell), by the day the spell began: a window
	// counts them when it began after that day (the customer was active
	// at its start).
	SpellChurned map[int64]int64 `json:"spell_churned,omitempty"`
	// NewCustomers became active for the first time during the day.
	NewCustomers int64            `json:"new_customers"`
	MRR          map[string]int64 `json:"mrr"`      // per currency at the day's start, minor units
	MRRLost      map[string]int64 `json:"mrr_lost"` // churn + contraction during the day, minor units
	// Retained are the day's expansion, contraction and churn movements
	// (indexed like retainedKinds) per currency and per start day of the
	// spell they belong to, 0 for spells older than any window holding
	// the day: a window counts those of spells that began before it.
	Retained map[string]map[int64]*[3]int64 `json:"retained,omitempty"`
}

// retainedKinds index Day.Retained.
var retainedKinds = [3]MovementKind{MovementExpansion, MovementContraction, MovementChurn}

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

// today is the history's latest day: the one events count into. A day's
// entry exists: the batch rolled over when it began (a clock gone
// backwards counts into the latest day).
func (a *Aggregates) today() *Day { return &a.History[len(a.History)-1] }

// count adds the events of one subscription version.
func (a *Aggregates) count(plan string, ev *Events) {
	p := a.plan(plan)
	if ev.Started {
		p.Started++
	}
	if ev.Churned {
		p.Churned[slices.Index(churnReasons[:], ev.ChurnReason)]++
	}
	p.TrialsStarted += uint64(b2i(ev.TrialStarted))
	p.TrialsConverted += uint64(b2i(ev.TrialConverted))
	p.TrialsCanceled += uint64(b2i(ev.TrialCanceled))
	today := a.today()
	// A spell that began before any window holding today does not need
	// its day: every window counts it.
	spellDay := ev.Spell.StartDay
	if spellDay < today.Day-windowDays {
		spellDay = 0
	}
	if ev.CustomerNew {
		today.NewCustomers++
	}
	if ev.CustomerChurned {
		a.CustomersChurned++
		if ev.Spell.New || spellDay == 0 {
			today.CustomersChurned++
		} else {
			if today.SpellChurned == nil {
				today.SpellChurned = map[int64]int64{}
			}
			today.SpellChurned[spellDay]++
		}
	}
	for _, m := range ev.Movements {
		a.currency(m.Currency)[m.Kind.index()] += m.AmountMinor
		if m.Kind == MovementChurn || m.Kind == MovementContraction {
			today.MRRLost[m.Currency] += m.AmountMinor
		}
		if i := slices.Index(retainedKinds[:], m.Kind); i >= 0 {
			if today.Retained == nil {
				today.Retained = map[string]map[int64]*[3]int64{}
			}
			byDay := today.Retained[m.Currency]
			if byDay == nil {
				byDay = map[int64]*[3]int64{}
				today.Retained[m.Currency] = byDay
			}
			v := byDay[spellDay]
			if v == nil {
				v = new([3]int64)
				byDay[spellDay] = v
			}
			v[i] += m.AmountMinor
		}
	}
}

// backfill adds a backfilled subscription to the start values of the
// current day; activated says it made its customer active.
func (a *Aggregates) backfill(s *SubState, activated bool) {
	today := a.today()
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

// Ratios are the 30-day ratios at one moment (see Aggregates.ratios).
type Ratios struct {
	// Customers is the customer churn ratio.
	Customers float64
	// MRR is the MRR churn ratio per currency.
	MRR map[string]float64
	// NetRetention and GrossRetention are the revenue retention ratios,
	// per currency with MRR at the window's start.
	NetRetention, GrossRetention map[string]float64
}

// ratios computes the 30-day ratios at day today. The window starts at
// 00:00 UTC of day today-30 and ends now. Its start values are those of
// the first day recorded in it (a day without a batch changed nothing, so
// it starts with the values of the next recorded day); before 30 days of
// history exist, that is the oldest day recorded: call that day F.
//
//   - Customers: customers churned in the window / (customers active at
//     its start + customers new in it), Stripe's subscriber churn rate.
//     Each customer of that base counts once however often it churns, and
//     a customer that reactivated in the window and churns again is not
//     of the base: a churn counts when it ends a new customer's spell, or
//     another spell that began before F. So the ratio never exceeds 1.
//     A zero denominator gives 0.
//   - MRR: (churn + contraction MRR in the window) / MRR at its start, per
//     currency; 0 when there was no MRR in that currency at the start.
//   - NetRetention: (MRR at the start + expansion − contraction − churn of
//     the customers active at the start) / MRR at the start, per currency:
//     only the movements of paying spells that began before F count, so
//     new and reactivated customers are left out. GrossRetention leaves
//     out expansion, and is at least 0 (a customer that expanded, then
//     churned, loses more than it started with) and at most 1. Both are
//     absent for a currency without MRR at the window's start.
//
// With no day recorded in the window nothing happened in it: the churn
// ratios are 0 and the retention ratios absent.
func (a *Aggregates) ratios(today int64) Ratios {
	r := Ratios{MRR: map[string]float64{}, NetRetention: map[string]float64{}, GrossRetention: map[string]float64{}}
	first := today - windowDays
	i := 0
	for i < len(a.History) && a.History[i].Day < first {
		i++
	}
	if i == len(a.History) {
		return r
	}
	start := &a.History[i]
	var churned, base int64 = 0, start.ActiveCustomers
	lost := map[string]int64{}
	retained := map[string]*[3]int64{}
	for _, d := range a.History[i:] {
		churned += d.CustomersChurned
		base += d.NewCustomers
		for spell, n := range d.SpellChurned {
			if spell < start.Day {
				churned += n
			}
		}
		for c, v := range d.MRRLost {
			lost[c] += v
		}
		for c, byDay := range d.Retained {
			for spell, v := range byDay {
				if spell >= start.Day {
					continue
				}
				sum := retained[c]
				if sum == nil {
					sum = new([3]int64)
					retained[c] = sum
				}
				for k := range v {
					sum[k] += v[k]
				}
			}
		}
	}
	if base > 0 {
		r.Customers = float64(churned) / float64(base)
	}
	for c, v := range lost {
		if mrr := start.MRR[c]; mrr > 0 {
			r.MRR[c] = float64(v) / float64(mrr)
		}
	}
	for c, mrr := range start.MRR {
		if mrr <= 0 {
			continue
		}
		var m [3]int64
		if v := retained[c]; v != nil {
			m = *v
		}
		expansion, contraction, churn := m[0], m[1], m[2]
		r.NetRetention[c] = float64(mrr+expansion-contraction-churn) / float64(mrr)
		r.GrossRetention[c] = max(0, float64(mrr-contraction-churn)/float64(mrr))
	}
	return r
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
		d.MRR, d.MRRLost, d.SpellChurned = maps.Clone(d.MRR), maps.Clone(d.MRRLost), maps.Clone(d.SpellChurned)
		if d.Retained != nil {
			r := make(map[string]map[int64]*[3]int64, len(d.Retained))
			for cur, byDay := range d.Retained {
				m := make(map[int64]*[3]int64, len(byDay))
				for k, v := range byDay {
					n := *v
					m[k] = &n
				}
				r[cur] = m
			}
			d.Retained = r
		}
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
		d := &a.History[i]
		if d.MRRLost == nil {
			d.MRRLost = map[string]int64{}
		}
		for _, byDay := range d.Retained {
			for k, v := range byDay {
				if v == nil {
					delete(byDay, k)
				}
			}
		}
	}
}
