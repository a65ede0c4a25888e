package billing

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

var wm = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

// sb builds a subscription of customer cus created at the given offset from
// the watermark: active, plan "pro", one licensed monthly price of 100.00 usd.
func sb(id, cus string, created time.Duration, mut ...func(*Subscription)) Subscription {
	s := Subscription{ID: id, Customer: cus, Status: StatusActive, Plan: "pro", Currency: "usd",
		Items:          []Item{{PriceID: "price_pro", UnitAmountMinor: 10000, Quantity: 1, Interval: "month", IntervalCount: 1, Currency: "usd"}},
		VendorMRRMinor: -1, CreatedAt: wm.Add(created), UpdatedAt: wm.Add(created)}
	for _, m := range mut {
		m(&s)
	}
	return s
}

func at(d time.Duration) func(*Subscription) {
	return func(s *Subscription) { s.UpdatedAt = wm.Add(d) }
}
func status(st Status) func(*Subscription) { return func(s *Subscription) { s.Status = st } }
func plan(p string) func(*Subscription)    { return func(s *Subscription) { s.Plan = p } }
func unit(minor int64) func(*Subscription) {
	return func(s *Subscription) { s.Items[0].UnitAmountMinor = minor }
}
func qty(n int64) func(*Subscription)     { return func(s *Subscription) { s.Items[0].Quantity = n } }
func reason(r string) func(*Subscription) { return func(s *Subscription) { s.CancelReason = r } }
func cancelAtPeriodEnd(s *Subscription)   { s.CancelAtPeriodEnd = true }
func discount(d Discount) func(*Subscription) {
	return func(s *Subscription) { s.Discounts = append(s.Discounts, d) }
}
func currency(c string) func(*Subscription) {
	return func(s *Subscription) {
		s.Currency = c
		for i := range s.Items {
			s.Items[i].Currency = c
		}
	}
}
func every(interval string, count int64) func(*Subscription) {
	return func(s *Subscription) { s.Items[0].Interval, s.Items[0].IntervalCount = interval, count }
}

func mv(cur string, k MovementKind, minor int64) Movement {
	return Movement{Currency: cur, Kind: k, AmountMinor: minor}
}

// world is the stored states Apply reads and writes, as Batch keeps them.
type world struct {
	subs map[string]*SubState
	cus  map[string]*CustomerState
}

func newWorld() *world { return &world{subs: map[string]*SubState{}, cus: map[string]*CustomerState{}} }

func (w *world) apply(s *Subscription, r Rules) (Events, error) {
	next, cus, ev, err := Apply(w.subs[s.ID], w.cus[s.Customer], s, r)
	if err != nil || ev.Stale {
		return ev, err
	}
	w.subs[s.ID], w.cus[s.Customer] = &next, &cus
	return ev, nil
}

func TestApplyTransitions(t *testing.T) {
	r := Rules{Watermark: wm}
	type step struct {
		s    Subscription
		want Events
	}
	day := 24 * time.Hour
	churn := func(reason, cur string, minor int64) Events {
		return Events{Churned: true, ChurnReason: reason, CustomerChurned: true, Movements: []Movement{mv(cur, MovementChurn, minor)}}
	}
	// started: a subscription began paying; its customer is new when the
	// movement is.
	started := func(mvs ...Movement) Events {
		ev := Events{Started: true, Movements: mvs}
		for _, m := range mvs {
			ev.CustomerNew = ev.CustomerNew || m.Kind == MovementNew
		}
		return ev
	}
	converted := func(ev Events) Events { ev.TrialConverted = true; return ev }
	cases := []struct {
		name  string
		steps []step
	}{
		{"subscription starting paid", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
		}},
		{"trial converting", []step{
			{sb("s1", "c1", time.Minute, status(StatusTrialing)), Events{TrialStarted: true}},
			{sb("s1", "c1", time.Minute, status(StatusActive), at(14*day)), converted(started(mv("usd", MovementNew, 10000)))},
		}},
		{"trial converting into past_due converts", []step{
			{sb("s1", "c1", time.Minute, status(StatusTrialing)), Events{TrialStarted: true}},
			{sb("s1", "c1", time.Minute, status(StatusPastDue), at(14*day)), converted(started(mv("usd", MovementNew, 10000)))},
		}},
		{"trial ending unpaid never starts nor churns", []step{
			{sb("s1", "c1", time.Minute, status(StatusTrialing)), Events{TrialStarted: true}},
			{sb("s1", "c1", time.Minute, status(StatusPaused), at(14*day)), Events{TrialCanceled: true}},
			{sb("s1", "c1", time.Minute, status(StatusCanceled), at(20*day)), Events{}},
		}},
		{"trial canceled before paying", []step{
			{sb("s1", "c1", time.Minute, status(StatusTrialing)), Events{TrialStarted: true}},
			{sb("s1", "c1", time.Minute, status(StatusTrialing), at(day)), Events{}},
			{sb("s1", "c1", time.Minute, status(StatusCanceled), at(3*day)), Events{TrialCanceled: true}},
		}},
		{"trial ending on a free price is canceled", []step{
			{sb("s1", "c1", time.Minute, status(StatusTrialing)), Events{TrialStarted: true}},
			{sb("s1", "c1", time.Minute, unit(0), at(14*day)), Events{TrialCanceled: true}},
		}},
		{"a paying subscription granted a trial starts none", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, status(StatusTrialing), at(day)), Events{CustomerChurned: true, Movements: []Movement{mv("usd", MovementChurn, 10000)}}},
			{sb("s1", "c1", time.Minute, at(2*day)), Events{Movements: []Movement{mv("usd", MovementReactivation, 10000)}}},
		}},
		{"backfilled trial canceled after the watermark", []step{
			{sb("s1", "c1", -day, status(StatusTrialing)), Events{Backfill: true}},
			{sb("s1", "c1", -day, status(StatusCanceled), at(2*day)), Events{TrialCanceled: true}},
		}},
		{"incomplete subscription expiring never starts", []step{
			{sb("s1", "c1", time.Minute, status(StatusIncomplete)), Events{}},
			{sb("s1", "c1", time.Minute, status(StatusEnded), at(day)), Events{}},
		}},
		{"upgrade then downgrade", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, plan("max"), unit(15000), at(day)), Events{Movements: []Movement{mv("usd", MovementExpansion, 5000)}}},
			{sb("s1", "c1", time.Minute, plan("lite"), unit(8000), at(2*day)), Events{Movements: []Movement{mv("usd", MovementContraction, 7000)}}},
		}},
		{"quantity change", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, qty(3), at(day)), Events{Movements: []Movement{mv("usd", MovementExpansion, 20000)}}},
			{sb("s1", "c1", time.Minute, qty(2), at(2*day)), Events{Movements: []Movement{mv("usd", MovementContraction, 10000)}}},
		}},
		{"cancel at period end, then the period ends", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, cancelAtPeriodEnd, at(day)), Events{}},
			{sb("s1", "c1", time.Minute, cancelAtPeriodEnd, status(StatusEnded), at(30*day)), churn(ReasonVoluntary, "usd", 10000)},
		}},
		{"immediate cancel", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, status(StatusCanceled), at(day)), churn(ReasonVoluntary, "usd", 10000)},
			{sb("s1", "c1", time.Minute, status(StatusCanceled), at(2*day)), Events{}},
		}},
		{"cancel for payment failure is involuntary", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, status(StatusCanceled), reason(ReasonInvoluntary), at(day)), churn(ReasonInvoluntary, "usd", 10000)},
		}},
		{"past_due stays paying", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, status(StatusPastDue), at(day)), Events{}},
			{sb("s1", "c1", time.Minute, status(StatusActive), at(2*day)), Events{}},
		}},
		{"unpaid churns involuntarily", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, status(StatusPastDue), at(day)), Events{}},
			{sb("s1", "c1", time.Minute, status(StatusUnpaid), at(20*day)), churn(ReasonInvoluntary, "usd", 10000)},
			// paid after all: no new start, the customer is back
			{sb("s1", "c1", time.Minute, status(StatusActive), at(21*day)), Events{Movements: []Movement{mv("usd", MovementReactivation, 10000)}}},
		}},
		{"reactivation of a churned customer", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, status(StatusCanceled), at(day)), churn(ReasonVoluntary, "usd", 10000)},
			{sb("s2", "c1", 40*day, unit(12000)), started(mv("usd", MovementReactivation, 12000))},
		}},
		{"customer with two subscriptions loses one then the other", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s2", "c1", time.Hour, plan("addon"), unit(5000)), started(mv("usd", MovementExpansion, 5000))},
			{sb("s1", "c1", time.Minute, status(StatusCanceled), at(day)), Events{Churned: true, ChurnReason: ReasonVoluntary,
				Movements: []Movement{mv("usd", MovementContraction, 10000)}}},
			{sb("s2", "c1", time.Hour, plan("addon"), unit(5000), status(StatusCanceled), at(2*day)), churn(ReasonVoluntary, "usd", 5000)},
		}},
		{"several currencies are never summed", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s2", "c1", time.Hour, currency("eur"), unit(9000)), started(mv("eur", MovementExpansion, 9000))},
			{sb("s2", "c1", time.Hour, currency("eur"), unit(9500), at(day)), Events{Movements: []Movement{mv("eur", MovementExpansion, 500)}}},
			{sb("s1", "c1", time.Minute, status(StatusCanceled), at(2*day)), Events{Churned: true, ChurnReason: ReasonVoluntary,
				Movements: []Movement{mv("usd", MovementContraction, 10000)}}},
			{sb("s2", "c1", time.Hour, currency("eur"), unit(9500), status(StatusCanceled), at(3*day)), churn(ReasonVoluntary, "eur", 9500)},
		}},
		{"zero-decimal currency", []step{
			{sb("s1", "c1", time.Minute, currency("jpy"), unit(4980)), started(mv("jpy", MovementNew, 4980))},
		}},
		{"forever coupon lowers MRR, a once coupon does not", []step{
			{sb("s1", "c1", time.Minute, discount(Discount{PercentOff: 50, Duration: DurationOnce})), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, discount(Discount{PercentOff: 20, Duration: DurationForever}), at(day)),
				Events{Movements: []Movement{mv("usd", MovementContraction, 2000)}}},
		}},
		{"free plan never starts", []step{
			{sb("s1", "c1", time.Minute, discount(Discount{PercentOff: 100, Duration: DurationForever})), Events{}},
			{sb("s1", "c1", time.Minute, status(StatusCanceled), at(day)), Events{}},
		}},
		{"metered-only subscription never starts", []step{
			{sb("s1", "c1", time.Minute, func(s *Subscription) { s.Items[0].Metered = true }), Events{}},
		}},
		{"pausing the last paying subscription churns the customer, not the subscription", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, status(StatusPaused), at(day)), Events{CustomerChurned: true, Movements: []Movement{mv("usd", MovementChurn, 10000)}}},
			{sb("s1", "c1", time.Minute, at(2*day)), Events{Movements: []Movement{mv("usd", MovementReactivation, 10000)}}},
		}},
		{"stale version ignored", []step{
			{sb("s1", "c1", time.Minute, at(2*time.Hour)), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, status(StatusCanceled), at(time.Hour)), Events{Stale: true}},
			{sb("s1", "c1", time.Minute, at(2*time.Hour)), Events{}},
		}},
		{"repeated identical versions count nothing", []step{
			{sb("s1", "c1", time.Minute, status(StatusTrialing)), Events{TrialStarted: true}},
			{sb("s1", "c1", time.Minute, at(time.Hour)), converted(started(mv("usd", MovementNew, 10000)))},
			{sb("s1", "c1", time.Minute, at(time.Hour)), Events{}},
			{sb("s1", "c1", time.Minute, at(time.Hour)), Events{}},
		}},
		{"backfill counts nothing, later changes count", []step{
			{sb("s1", "c1", -90*day, at(-day)), Events{Backfill: true}},
			{sb("s1", "c1", -90*day, unit(12000), at(day)), Events{Movements: []Movement{mv("usd", MovementExpansion, 2000)}}},
			{sb("s1", "c1", -90*day, unit(12000), status(StatusCanceled), at(2*day)), churn(ReasonVoluntary, "usd", 12000)},
		}},
		{"backfilled trial converting after the watermark starts", []step{
			{sb("s1", "c1", -day, status(StatusTrialing)), Events{Backfill: true}},
			{sb("s1", "c1", -day, at(13*day)), converted(started(mv("usd", MovementNew, 10000)))},
		}},
		{"backfilled customer adding a subscription expands", []step{
			{sb("s1", "c1", -90*day), Events{Backfill: true}},
			{sb("s2", "c1", day, unit(3000)), started(mv("usd", MovementExpansion, 3000))},
		}},
		{"backfilled unpaid customer paying again is a reactivation, not a start", []step{
			{sb("s1", "c1", -90*day, status(StatusUnpaid)), Events{Backfill: true}},
			{sb("s1", "c1", -90*day, at(day)), Events{Movements: []Movement{mv("usd", MovementReactivation, 10000)}}},
		}},
		{"subscription moving to another currency", []step{
			{sb("s1", "c1", time.Minute), started(mv("usd", MovementNew, 10000))},
			{sb("s1", "c1", time.Minute, currency("eur"), unit(9000), at(day)), Events{Movements: []Movement{
				mv("eur", MovementExpansion, 9000), mv("usd", MovementContraction, 10000)}}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld()
			for i, st := range c.steps {
				got, err := w.apply(&st.s, r)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				got.Spell = Spell{} // TestApplySpells checks spells
				if !reflect.DeepEqual(got, st.want) {
					t.Errorf("step %d: events\n got %+v\nwant %+v", i, got, st.want)
				}
			}
		})
	}
}

// TestApplyCustomerState checks the customer memory behind the
// classification: per-currency MRR of paying subscriptions, ever-paid.
func TestApplyCustomerState(t *testing.T) {
	w := newWorld()
	r := Rules{Watermark: wm}
	for _, s := range []Subscription{
		sb("s1", "c1", time.Minute),
		sb("s2", "c1", time.Minute, currency("eur"), unit(5000)),
		sb("s3", "c1", time.Minute, status(StatusTrialing), unit(7000)),
		sb("s4", "c1", time.Minute, currency("eur"), unit(2500), cancelAtPeriodEnd),
	} {
		if _, err := w.apply(&s, r); err != nil {
			t.Fatal(err)
		}
	}
	want := CustomerState{MRRMinor: map[string]int64{"usd": 10000, "eur": 7500}, EverPaid: true, Spell: Spell{New: true}}
	if got := *w.cus["c1"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("customer state %+v, want %+v", got, want)
	}
	if s := w.subs["s3"]; s.Paying || s.EverPaid || s.MRRMinor != 0 {
		t.Errorf("trialing state %+v: want not paying, no MRR", s)
	}
	if s := w.subs["s4"]; !s.Paying || !s.CancelAtPeriodEnd || s.MRRMinor != 2500 || s.Plan != "pro" {
		t.Errorf("state %+v", s)
	}
}

// TestApplySpells checks the paying spells the 30-day ratios rely on:
// when a customer's spell began, whether it is a new customer's, and that
// events carry the spell they end or change.
func TestApplySpells(t *testing.T) {
	const d0 = 20000 // a UTC day number
	w := newWorld()
	step := func(day int64, s Subscription, want Spell, wantCus Spell) {
		t.Helper()
		ev, err := w.apply(&s, Rules{Watermark: wm, Day: day})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Spell != want {
			t.Errorf("day %d %s: event spell %+v, want %+v", day-d0, s.ID, ev.Spell, want)
		}
		if got := w.cus[s.Customer].Spell; got != wantCus {
			t.Errorf("day %d %s: customer spell %+v, want %+v", day-d0, s.ID, got, wantCus)
		}
	}
	day := 24 * time.Hour
	// Backfilled: active before the day of the sync that found it.
	step(d0, sb("b1", "B", -90*day), Spell{}, Spell{StartDay: d0 - 1})
	step(d0+2, sb("b1", "B", -90*day, unit(12000), at(2*day)), Spell{StartDay: d0 - 1}, Spell{StartDay: d0 - 1})
	step(d0+3, sb("b1", "B", -90*day, status(StatusCanceled), at(3*day)), Spell{StartDay: d0 - 1}, Spell{})
	// New on day 1; churns on day 4; back on day 6 (a reactivation).
	step(d0+1, sb("n1", "N", day), Spell{}, Spell{StartDay: d0 + 1, New: true})
	step(d0+4, sb("n1", "N", day, status(StatusCanceled), at(4*day)), Spell{StartDay: d0 + 1, New: true}, Spell{})
	step(d0+6, sb("n2", "N", 6*day), Spell{}, Spell{StartDay: d0 + 6})
	step(d0+7, sb("n2", "N", 6*day, qty(2), at(7*day)), Spell{StartDay: d0 + 6}, Spell{StartDay: d0 + 6})
	// A trial does not begin a spell; its conversion does.
	step(d0+1, sb("t1", "T", day, status(StatusTrialing)), Spell{}, Spell{})
	step(d0+5, sb("t1", "T", day, at(5*day)), Spell{}, Spell{StartDay: d0 + 5, New: true})
}

func TestApplyInvalid(t *testing.T) {
	s := sb("s1", "", time.Minute)
	_, _, _, err := Apply(nil, nil, &s, Rules{Watermark: wm})
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Reason != "missing_field" || !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want missing_field InvalidError", err)
	}
}

func TestStateEncoding(t *testing.T) {
	subs := []SubState{
		{},
		{Status: StatusPastDue, Paying: true, EverPaid: true, CancelAtPeriodEnd: true, MRRMinor: 123456789, Currency: "usd",
			Plan: "pro ✓", CreatedAt: wm.Unix(), UpdatedAt: wm.UnixNano()},
		{Status: StatusEnded, CreatedAt: -5, UpdatedAt: -1, Currency: "jpy", Plan: "none"},
	}
	subs[0].Status = StatusTrialing
	for _, s := range subs {
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got SubState
		if err := got.UnmarshalBinary(b); err != nil || got != s {
			t.Errorf("round trip %+v: got %+v, %v", s, got, err)
		}
		for n := range len(b) {
			if err := new(SubState).UnmarshalBinary(b[:n]); err == nil {
				t.Errorf("truncated %d/%d bytes decoded without error", n, len(b))
			}
		}
	}
	if _, err := (&SubState{Status: "bogus"}).MarshalBinary(); err == nil {
		t.Error("unknown status encoded")
	}
	// Version 1 (before spells) decodes as a spell begun before the history.
	var v1 CustomerState
	if err := v1.UnmarshalBinary([]byte{1, flagEverPaid, 1, 3, 'u', 's', 'd', 20}); err != nil ||
		!reflect.DeepEqual(v1, CustomerState{MRRMinor: map[string]int64{"usd": 10}, EverPaid: true}) {
		t.Errorf("version 1: %+v, %v", v1, err)
	}
	for _, c := range []CustomerState{{}, {EverPaid: true}, {MRRMinor: map[string]int64{"usd": 1, "eur": 1 << 40}, EverPaid: true},
		{MRRMinor: map[string]int64{"usd": 5}, EverPaid: true, Spell: Spell{StartDay: 20500, New: true}}} {
		b, _ := c.MarshalBinary()
		var got CustomerState
		if err := got.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("round trip %+v: got %+v, %v", c, got, err)
		}
		for n := range len(b) {
			if err := new(CustomerState).UnmarshalBinary(b[:n]); err == nil {
				t.Errorf("truncated customer %d/%d bytes decoded without error", n, len(b))
			}
		}
	}
}
