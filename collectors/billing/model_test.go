package billing

import (
	"errors"
	"math"
	"testing"
	"time"
)

func item(unitMinor, quantity int64, interval string, count int64) Item {
	return Item{UnitAmountMinor: unitMinor, Quantity: quantity, Interval: interval, IntervalCount: count, Currency: "usd"}
}

func withItems(items ...Item) func(*Subscription) {
	return func(s *Subscription) { s.Items = items }
}

func TestMRRMinor(t *testing.T) {
	metered := item(9999, 1, "month", 1)
	metered.Metered = true
	decimal := func(d string, q int64) Item { it := item(0, q, "month", 1); it.UnitAmountDecimal = d; return it }
	forever := func(pct float64, off int64) Discount {
		return Discount{PercentOff: pct, AmountOffMinor: off, Currency: "usd", Duration: DurationForever}
	}
	cases := []struct {
		name string
		s    Subscription
		want int64
	}{
		{"monthly", sb("s", "c", 0), 10000},
		{"quantity", sb("s", "c", 0, qty(3)), 30000},
		{"quantity zero", sb("s", "c", 0, qty(0)), 0},
		{"yearly /12", sb("s", "c", 0, withItems(item(120000, 1, "year", 1))), 10000},
		{"yearly rounds to minor units", sb("s", "c", 0, withItems(item(100000, 1, "year", 1))), 8333},
		{"weekly ×52/12", sb("s", "c", 0, withItems(item(1000, 1, "week", 1))), 4333},
		{"daily ×365/12", sb("s", "c", 0, withItems(item(100, 1, "day", 1))), 3042},
		{"quarterly: interval_count 3", sb("s", "c", 0, withItems(item(3000, 1, "month", 3))), 1000},
		{"every two weeks", sb("s", "c", 0, withItems(item(1000, 1, "week", 2))), 2167},
		{"every two years, quantity 5", sb("s", "c", 0, withItems(item(24000, 5, "year", 2))), 5000},
		{"unit_amount_decimal wins", sb("s", "c", 0, withItems(decimal("1250.5", 2))), 2501},
		{"rounded once per subscription, half away from zero", sb("s", "c", 0, withItems(decimal("0.25", 1), decimal("0.25", 1))), 1},
		{"half rounds up", sb("s", "c", 0, withItems(decimal("2.5", 1))), 3},
		{"below half rounds down", sb("s", "c", 0, withItems(decimal("2.4999", 1))), 2},
		{"several items add up", sb("s", "c", 0, withItems(item(10000, 1, "month", 1), item(120000, 2, "year", 1))), 30000},
		{"metered price excluded", sb("s", "c", 0, withItems(item(5000, 1, "month", 1), metered)), 5000},
		{"metered only", sb("s", "c", 0, withItems(metered)), 0},
		{"no items", sb("s", "c", 0, withItems()), 0},
		{"forever percent coupon", sb("s", "c", 0, discount(forever(50, 0))), 5000},
		{"once coupon does not change MRR", sb("s", "c", 0, discount(Discount{PercentOff: 50, Duration: DurationOnce})), 10000},
		{"repeating coupon does not change MRR", sb("s", "c", 0, discount(Discount{AmountOffMinor: 5000, Currency: "usd", Duration: DurationRepeating})), 10000},
		{"forever amount off, monthly", sb("s", "c", 0, discount(forever(0, 2000))), 8000},
		{"forever amount off normalised by a yearly interval", sb("s", "c", 0, withItems(item(120000, 1, "year", 1)), discount(forever(0, 3000))), 9750},
		{"forever amount off with mixed intervals uses the shortest", sb("s", "c", 0,
			withItems(item(1000, 1, "month", 1), item(12000, 1, "year", 1)), discount(forever(0, 1200))), 800},
		{"amount off never below zero", sb("s", "c", 0, discount(forever(0, 1_000_000))), 0},
		{"stacked forever coupons apply in order", sb("s", "c", 0, discount(forever(10, 0)), discount(forever(0, 1000))), 8000},
		{"fractional percent", sb("s", "c", 0, discount(forever(33.33, 0))), 6667},
		{"100% forever is free", sb("s", "c", 0, discount(forever(100, 0))), 0},
		{"past_due counts", sb("s", "c", 0, status(StatusPastDue)), 10000},
		{"trialing counts zero", sb("s", "c", 0, status(StatusTrialing)), 0},
		{"incomplete counts zero", sb("s", "c", 0, status(StatusIncomplete)), 0},
		{"paused counts zero", sb("s", "c", 0, status(StatusPaused)), 0},
		{"unpaid counts zero", sb("s", "c", 0, status(StatusUnpaid)), 0},
		{"canceled counts zero", sb("s", "c", 0, status(StatusCanceled)), 0},
		{"ended counts zero", sb("s", "c", 0, status(StatusEnded)), 0},
		{"vendor MRR wins", sb("s", "c", 0, func(s *Subscription) { s.VendorMRRMinor = 4242 }), 4242},
		{"vendor MRR zero", sb("s", "c", 0, func(s *Subscription) { s.VendorMRRMinor = 0 }), 0},
		{"vendor MRR still zero in trial", sb("s", "c", 0, status(StatusTrialing), func(s *Subscription) { s.VendorMRRMinor = 4242 }), 0},
		{"zero-decimal currency: minor is major", sb("s", "c", 0, currency("jpy"), unit(1000)), 1000},
		{"item currency may be left to the subscription", sb("s", "c", 0, func(s *Subscription) { s.Items[0].Currency = "" }), 10000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.s.MRRMinor()
			if err != nil || got != c.want {
				t.Fatalf("MRRMinor() = %d, %v; want %d", got, err, c.want)
			}
			if err := c.s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if paying := c.s.Paying(); paying != (c.want > 0) {
				t.Errorf("Paying() = %v with MRR %d", paying, c.want)
			}
		})
	}
}

func TestMRRMinorErrors(t *testing.T) {
	cases := []struct {
		name string
		s    Subscription
	}{
		{"mixed item currencies", sb("s", "c", 0, withItems(item(100, 1, "month", 1), Item{UnitAmountMinor: 100, Quantity: 1, Interval: "month", IntervalCount: 1, Currency: "eur"}))},
		{"item currency differs from the subscription's", sb("s", "c", 0, func(s *Subscription) { s.Items[0].Currency = "eur" })},
		{"amount-off coupon in another currency", sb("s", "c", 0, discount(Discount{AmountOffMinor: 100, Currency: "eur", Duration: DurationOnce}))},
		{"out of range", sb("s", "c", 0, withItems(item(math.MaxInt64, math.MaxInt64, "day", 1)))},
		{"vendor MRR out of range", sb("s", "c", 0, func(s *Subscription) { s.VendorMRRMinor = MaxMRRMinor + 1 })},
		{"bad decimal", sb("s", "c", 0, func(s *Subscription) { s.Items[0].UnitAmountDecimal = "1e5" })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Errors do not depend on the status.
			for _, st := range []Status{StatusActive, StatusTrialing, StatusCanceled} {
				c.s.Status = st
				m, err := c.s.MRRMinor()
				var inv *InvalidError
				if !errors.As(err, &inv) || m != 0 {
					t.Fatalf("%s: MRRMinor() = %d, %v; want an InvalidError", st, m, err)
				}
				if c.s.Paying() {
					t.Errorf("%s: Paying() with an invalid price", st)
				}
				if c.s.Validate() == nil {
					t.Errorf("%s: Validate() accepted it", st)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name, reason string
		mut          func(*Subscription)
	}{
		{"valid", "", func(*Subscription) {}},
		{"missing id", "missing_field", func(s *Subscription) { s.ID = "" }},
		{"missing customer", "missing_field", func(s *Subscription) { s.Customer = "" }},
		{"missing status", "missing_field", func(s *Subscription) { s.Status = "" }},
		{"unknown status", "unknown_value", func(s *Subscription) { s.Status = "incomplete_expired" }},
		{"missing currency", "missing_field", func(s *Subscription) { s.Currency = "" }},
		{"upper-case currency", "unknown_value", func(s *Subscription) { s.Currency = "USD" }},
		{"missing created_at", "missing_field", func(s *Subscription) { s.CreatedAt = time.Time{} }},
		{"unknown cancel reason", "unknown_value", func(s *Subscription) { s.CancelReason = "payment_failed" }},
		{"negative vendor MRR", "negative_value", func(s *Subscription) { s.VendorMRRMinor = -2 }},
		{"canceled before created", "inconsistent_time", func(s *Subscription) { s.CanceledAt = s.CreatedAt.Add(-time.Second) }},
		{"ended before created", "inconsistent_time", func(s *Subscription) { s.EndedAt = s.CreatedAt.Add(-time.Second) }},
		{"missing interval", "missing_field", func(s *Subscription) { s.Items[0].Interval = "" }},
		{"unknown interval", "unknown_value", func(s *Subscription) { s.Items[0].Interval = "fortnight" }},
		{"missing interval_count", "missing_field", func(s *Subscription) { s.Items[0].IntervalCount = 0 }},
		{"negative interval_count", "negative_value", func(s *Subscription) { s.Items[0].IntervalCount = -1 }},
		{"negative quantity", "negative_value", func(s *Subscription) { s.Items[0].Quantity = -1 }},
		{"negative unit amount", "negative_value", func(s *Subscription) { s.Items[0].UnitAmountMinor = -1 }},
		{"negative decimal", "unknown_value", func(s *Subscription) { s.Items[0].UnitAmountDecimal = "-1" }},
		{"fraction decimal", "unknown_value", func(s *Subscription) { s.Items[0].UnitAmountDecimal = "1/3" }},
		{"empty decimal digits", "unknown_value", func(s *Subscription) { s.Items[0].UnitAmountDecimal = "." }},
		{"bad item currency", "unknown_value", func(s *Subscription) { s.Items[0].Currency = "dollars" }},
		{"mixed currencies", "unknown_value", func(s *Subscription) { s.Items[0].Currency = "eur" }},
		{"percent above 100", "unknown_value", func(s *Subscription) { s.Discounts = []Discount{{PercentOff: 101, Duration: DurationForever}} }},
		{"percent NaN", "unknown_value", func(s *Subscription) { s.Discounts = []Discount{{PercentOff: math.NaN(), Duration: DurationForever}} }},
		{"negative percent", "negative_value", func(s *Subscription) { s.Discounts = []Discount{{PercentOff: -1, Duration: DurationForever}} }},
		{"negative amount off", "negative_value", func(s *Subscription) { s.Discounts = []Discount{{AmountOffMinor: -1, Duration: DurationForever}} }},
		{"missing duration", "missing_field", func(s *Subscription) { s.Discounts = []Discount{{PercentOff: 10}} }},
		{"unknown duration", "unknown_value", func(s *Subscription) { s.Discounts = []Discount{{PercentOff: 10, Duration: "always"}} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := sb("s1", "c1", 0, c.mut)
			err := s.Validate()
			if c.reason == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Reason != c.reason || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want reason %s", err, c.reason)
			}
			if inv.Detail == "" || inv.Error() != inv.Detail {
				t.Errorf("detail %q", inv.Detail)
			}
		})
	}
}

func TestMajor(t *testing.T) {
	for _, c := range []struct {
		cur   string
		minor int64
		want  float64
	}{{"usd", 12345, 123.45}, {"eur", 100, 1}, {"jpy", 4980, 4980}, {"krw", 10000, 10000}, {"xof", 5, 5}, {"kwd", 1500, 1.5}} {
		if got := Major(c.cur, c.minor); got != c.want {
			t.Errorf("Major(%s, %d) = %v, want %v", c.cur, c.minor, got, c.want)
		}
	}
}
