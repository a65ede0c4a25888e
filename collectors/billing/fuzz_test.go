package billing

import (
	"errors"
	"testing"
	"time"
)

// FuzzMRRMinor checks that MRRMinor never panics on any subscription a
// decoder could produce, and that its result is consistent with Validate
// and Paying.
func FuzzMRRMinor(f *testing.F) {
	f.Add("active", "usd", int64(10000), "", int64(1), "month", int64(1), false, "usd", 0.0, int64(0), "forever", "", int64(-1), int64(500), "year")
	f.Add("past_due", "jpy", int64(4980), "1250.5", int64(3), "week", int64(2), true, "", 50.0, int64(300), "forever", "jpy", int64(-1), int64(0), "day")
	f.Add("trialing", "eur", int64(-1), "1e9", int64(-3), "fortnight", int64(0), false, "usd", -1.0, int64(-5), "", "usd", int64(7), int64(1), "")
	f.Add("active", "usd", int64(9223372036854775807), "99999999999999999999.99999999999999999", int64(9223372036854775807), "day", int64(1), false, "usd", 100.0, int64(9223372036854775807), "forever", "usd", int64(-1), int64(9223372036854775807), "day")
	f.Fuzz(func(t *testing.T, status, cur string, unit int64, dec string, qty int64, interval string, count int64, metered bool,
		itemCur string, pct float64, off int64, duration, offCur string, vendor, unit2 int64, interval2 string) {
		s := Subscription{ID: "s", Customer: "c", Status: Status(status), Currency: cur, VendorMRRMinor: vendor,
			CreatedAt: time.Unix(1, 0), UpdatedAt: time.Unix(2, 0),
			Items: []Item{
				{UnitAmountMinor: unit, UnitAmountDecimal: dec, Quantity: qty, Interval: interval, IntervalCount: count, Metered: metered, Currency: itemCur},
				{UnitAmountMinor: unit2, Quantity: 1, Interval: interval2, IntervalCount: 1},
			},
			Discounts: []Discount{{PercentOff: pct, AmountOffMinor: off, Currency: offCur, Duration: duration}},
		}
		m, err := s.MRRMinor()
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || m != 0 {
				t.Fatalf("MRRMinor() = %d, %v: want 0 and an InvalidError", m, err)
			}
		} else if m < 0 || m > MaxMRRMinor {
			t.Fatalf("MRRMinor() = %d out of range", m)
		}
		verr := s.Validate()
		if verr == nil && err != nil {
			t.Fatalf("Validate() accepted what MRRMinor refused: %v", err)
		}
		if s.Paying() != (err == nil && m > 0 && s.Status.countsMRR()) {
			t.Fatalf("Paying() = %v with MRR %d, %v", s.Paying(), m, err)
		}
		if verr == nil {
			if _, _, _, err := Apply(nil, nil, &s, Rules{}); err != nil {
				t.Fatalf("Apply refused a valid subscription: %v", err)
			}
		}
	})
}
