package billing

import (
	"strconv"
	"testing"
	"time"
)

func benchSub(i int, updated time.Time) Subscription {
	st := []Status{StatusActive, StatusActive, StatusActive, StatusPastDue, StatusTrialing, StatusCanceled}[i%6]
	return Subscription{ID: strconv.Itoa(i), Customer: strconv.Itoa(i / 2), Status: st, Plan: "plan" + strconv.Itoa(i%7),
		Currency: "usd", VendorMRRMinor: -1, CreatedAt: wm.Add(time.Minute), UpdatedAt: updated,
		Items: []Item{
			{PriceID: "p", UnitAmountMinor: int64(1000 + i%50*100), Quantity: int64(1 + i%3), Interval: "month", IntervalCount: 1, Currency: "usd"},
			{PriceID: "y", UnitAmountMinor: 120000, Quantity: 1, Interval: "year", IntervalCount: 1, Currency: "usd"},
		},
		Discounts: []Discount{{PercentOff: 10, Duration: DurationForever}}}
}

// BenchmarkApply measures the pure core: one subscription version against
// stored states, MRR computation included.
func BenchmarkApply(b *testing.B) {
	r := Rules{Watermark: wm}
	prev := SubState{Status: StatusActive, Paying: true, EverPaid: true, MRRMinor: 10000, Currency: "usd", Plan: "plan1", UpdatedAt: wm.UnixNano()}
	cus := CustomerState{MRRMinor: map[string]int64{"usd": 20000}, EverPaid: true}
	s := benchSub(1, wm.Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := Apply(&prev, &cus, &s, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}

// BenchmarkBatchApply measures subscription versions folded per second
// through the whole page path (Begin, Apply with state decode/encode for
// the subscription and its customer, aggregates encoding, Publish), pages
// of 100 as Stripe sends them, storage in memory.
func BenchmarkBatchApply(b *testing.B) {
	tr := NewTracker(Config{Watermark: wm})
	rec := memRecords{}
	const page = 100
	subs := make([]Subscription, page)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		batch := tr.Begin(wm.Add(time.Duration(n) * time.Second))
		for i := range subs {
			subs[i] = benchSub((n*page+i)%20000, wm.Add(time.Duration(n)*time.Second))
		}
		if err := batch.ApplyAll(rec, subs, func(*Subscription, *InvalidError) { b.Fatal("rejected") }); err != nil {
			b.Fatal(err)
		}
		if _, err := batch.Aggregates(); err != nil {
			b.Fatal(err)
		}
		tr.Publish(batch)
		n++
	}
	b.ReportMetric(float64(n*page)/b.Elapsed().Seconds(), "updates/s")
}

// BenchmarkBatchApplyFullHistory is BenchmarkBatchApply with the daily
// history at its largest: 31 days, each with churns and movements of
// spells begun on every one of the previous 30 days, in three currencies.
// It measures what the stored history costs each page (it is encoded with
// the aggregates at every commit), and reports the encoded size.
func BenchmarkBatchApplyFullHistory(b *testing.B) {
	tr := NewTracker(Config{Watermark: wm})
	today := dayOf(wm)
	for d := today - windowDays; d <= today; d++ {
		day := Day{Day: d, ActiveCustomers: 10000, NewCustomers: 50, CustomersChurned: 40,
			MRR: map[string]int64{}, MRRLost: map[string]int64{}, SpellChurned: map[int64]int64{},
			Retained: map[string]map[int64]*[3]int64{}}
		for _, cur := range []string{"usd", "eur", "gbp"} {
			day.MRR[cur], day.MRRLost[cur] = 100_000_000, 1_000_000
			byDay := map[int64]*[3]int64{0: {1, 2, 3}}
			for s := d - windowDays; s < d; s++ {
				byDay[s] = &[3]int64{12345, 2345, 3456}
				day.SpellChurned[s] = 3
			}
			day.Retained[cur] = byDay
		}
		tr.agg.History = append(tr.agg.History, day)
	}
	rec := memRecords{}
	const page = 100
	subs := make([]Subscription, page)
	b.ReportAllocs()
	n, size := 0, 0
	for b.Loop() {
		batch := tr.Begin(wm)
		for i := range subs {
			subs[i] = benchSub((n*page+i)%20000, wm.Add(time.Duration(n)*time.Second))
		}
		if err := batch.ApplyAll(rec, subs, func(*Subscription, *InvalidError) { b.Fatal("rejected") }); err != nil {
			b.Fatal(err)
		}
		agg, err := batch.Aggregates()
		if err != nil {
			b.Fatal(err)
		}
		size = len(agg)
		tr.Publish(batch)
		n++
	}
	b.ReportMetric(float64(n*page)/b.Elapsed().Seconds(), "updates/s")
	b.ReportMetric(float64(size), "aggregate-bytes")
}
