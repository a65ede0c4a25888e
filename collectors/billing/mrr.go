package billing

import (
	"errors"
	"math/big"
)

// MaxMRRMinor bounds one subscription's MRR (10^15 minor units, ten
// trillion dollars a month): anything larger is a decoding error upstream,
// and the bound keeps customer and aggregate sums far from overflowing.
const MaxMRRMinor = 1_000_000_000_000_000

// monthsFactor returns f, the factor that turns one interval's amount into
// a monthly one: 1/12 for a year, 1 for a month, 52/12 for a week and
// 365/12 for a day (Stripe's normalisation). Nil for an unknown interval.
func monthsFactor(interval string) *big.Rat {
	switch interval {
	case "day":
		return big.NewRat(365, 12)
	case "week":
		return big.NewRat(52, 12)
	case "month":
		return big.NewRat(1, 1)
	case "year":
		return big.NewRat(1, 12)
	}
	return nil
}

// maxDecimalLen bounds unit_amount_decimal: Stripe sends at most 12
// decimal places on a 64-bit amount.
const maxDecimalLen = 40

// parseDecimal parses a non-negative decimal such as "1250.5" exactly.
// Signs, exponents and fractions like "1/3" are refused.
func parseDecimal(s string) (*big.Rat, error) {
	if len(s) > maxDecimalLen {
		return nil, errors.New("too long")
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return nil, errors.New("not a decimal number")
		}
	}
	if digits == 0 {
		return nil, errors.New("not a decimal number")
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, errors.New("not a decimal number")
	}
	return r, nil
}

// MRRMinor returns the subscription's monthly recurring revenue in minor
// units of its currency, as Stripe's billing analytics computes it:
//
//   - only active and past_due subscriptions count; trialing, incomplete,
//     paused, unpaid, canceled and ended ones are 0;
//   - VendorMRRMinor, when >= 0, is taken as is (the vendor already applied
//     its own rules, discounts included);
//   - otherwise, licensed recurring items only (metered excluded): unit
//     amount (UnitAmountDecimal when set) × quantity × f / interval_count,
//     f = 1/12 (year), 1 (month), 52/12 (week), 365/12 (day);
//   - forever discounts reduce it (see Discount), once and repeating ones
//     do not; it never goes below zero;
//   - the exact sum is rounded once, at the subscription level, half away
//     from zero, to whole minor units.
//
// Items or amount-off discounts in another currency than the
// subscription's, and any invalid price, return an *InvalidError (whatever
// the status, so that validity does not depend on it).
func (s *Subscription) MRRMinor() (int64, error) {
	m, err := s.listMRR()
	if err != nil {
		return 0, err
	}
	if !s.Status.countsMRR() {
		return 0, nil
	}
	return m, nil
}

// Paying reports whether the subscription is active or past_due with an
// MRR above zero.
func (s *Subscription) Paying() bool {
	m, err := s.MRRMinor()
	return err == nil && m > 0
}

// listMRR is the MRR the subscription would have if it counted,
// regardless of its status.
func (s *Subscription) listMRR() (int64, *InvalidError) {
	if err := s.checkPrices(); err != nil {
		return 0, err
	}
	if s.VendorMRRMinor >= 0 {
		if s.VendorMRRMinor > MaxMRRMinor {
			return 0, invalid("unknown_value", "subscription %s: vendor MRR out of range", s.ID)
		}
		return s.VendorMRRMinor, nil
	}
	cur := s.Currency
	total := new(big.Rat)
	var cadence *big.Rat // largest f/interval_count: the invoice cadence
	for i := range s.Items {
		it := &s.Items[i]
		if it.Currency != "" {
			if cur == "" {
				cur = it.Currency
			} else if it.Currency != cur {
				return 0, invalid("unknown_value", "subscription %s: mixed currencies %s and %s", s.ID, cur, it.Currency)
			}
		}
		if it.Metered {
			continue
		}
		perMonth := new(big.Rat).Quo(monthsFactor(it.Interval), new(big.Rat).SetInt64(it.IntervalCount))
		if cadence == nil || perMonth.Cmp(cadence) > 0 {
			cadence = perMonth
		}
		unit := new(big.Rat).SetInt64(it.UnitAmountMinor)
		if it.UnitAmountDecimal != "" {
			unit, _ = parseDecimal(it.UnitAmountDecimal) // checked by checkPrices
		}
		amount := unit.Mul(unit, new(big.Rat).SetInt64(it.Quantity))
		total.Add(total, amount.Mul(amount, perMonth))
	}
	hundred := big.NewRat(100, 1)
	for i := range s.Discounts {
		d := &s.Discounts[i]
		if d.AmountOffMinor > 0 && d.Currency != "" && cur != "" && d.Currency != cur {
			return 0, invalid("unknown_value", "subscription %s: mixed currencies %s and %s (discount)", s.ID, cur, d.Currency)
		}
		if d.Duration != DurationForever {
			continue
		}
		if d.PercentOff > 0 {
			keep := new(big.Rat).Sub(hundred, new(big.Rat).SetFloat64(d.PercentOff))
			total.Mul(total, keep.Quo(keep, hundred))
		}
		if d.AmountOffMinor > 0 && cadence != nil {
			off := new(big.Rat).SetInt64(d.AmountOffMinor)
			total.Sub(total, off.Mul(off, cadence))
		}
		if total.Sign() < 0 {
			total.SetInt64(0)
		}
	}
	// Round half away from zero (total >= 0): floor((2·num + den) / (2·den)).
	num := new(big.Int).Lsh(total.Num(), 1)
	num.Add(num, total.Denom())
	rounded := num.Quo(num, new(big.Int).Lsh(total.Denom(), 1))
	if !rounded.IsInt64() || rounded.Int64() > MaxMRRMinor {
		return 0, invalid("unknown_value", "subscription %s: MRR out of range", s.ID)
	}
	return rounded.Int64(), nil
}
