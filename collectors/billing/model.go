// Package billing is the vendor-neutral billing engine: it turns successive
// versions of canonical subscriptions into events (subscription start and
// churn, customer churn, MRR movements), keeps them as aggregates that
// survive restarts, and renders them as the billing_* metrics. It never
// imports a vendor package and never reads a clock: callers pass time in.
//
// MRR follows Stripe's billing-analytics definition (see MRRMinor). Amounts
// are kept in the currency's minor units and exported in major units; one
// series never mixes currencies and nothing is ever summed across them.
package billing

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Status is a subscription's canonical status.
type Status string

// The canonical statuses. Vendors map theirs onto these (Stripe's
// incomplete_expired is ended; Chargebee's in_trial is trialing,
// non_renewing is active with CancelAtPeriodEnd, cancelled is canceled).
const (
	StatusTrialing   Status = "trialing"
	StatusActive     Status = "active"
	StatusPastDue    Status = "past_due"
	StatusPaused     Status = "paused"
	StatusUnpaid     Status = "unpaid"
	StatusIncomplete Status = "incomplete"
	StatusCanceled   Status = "canceled"
	StatusEnded      Status = "ended"
)

// statusOrder fixes the compact encoding of a status in SubState (its index).
var statusOrder = [...]Status{StatusTrialing, StatusActive, StatusPastDue, StatusPaused, StatusUnpaid, StatusIncomplete, StatusCanceled, StatusEnded}

// Statuses lists the canonical statuses.
var Statuses = statusOrder[:len(statusOrder):len(statusOrder)]

// liveStatuses are the statuses billing_subscriptions counts, in
// exposition order: every status but canceled and ended.
var liveStatuses = []Status{StatusTrialing, StatusActive, StatusPastDue, StatusPaused, StatusUnpaid, StatusIncomplete}

func (s Status) index() int {
	for i, v := range statusOrder {
		if v == s {
			return i
		}
	}
	return -1
}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool { return s.index() >= 0 }

// Live reports whether the subscription still exists (not canceled, not ended).
func (s Status) Live() bool { return s.Valid() && s != StatusCanceled && s != StatusEnded }

// countsMRR reports whether a subscription in this status contributes its
// MRR: Stripe counts active and past_due subscriptions only (trials,
// incomplete, paused, unpaid, canceled and ended count zero).
func (s Status) countsMRR() bool { return s == StatusActive || s == StatusPastDue }

// churns reports whether a paying subscription entering this status churns.
func (s Status) churns() bool {
	return s == StatusCanceled || s == StatusEnded || s == StatusUnpaid
}

// Intervals lists the canonical billing intervals.
var Intervals = []string{"day", "week", "month", "year"}

// Discount durations.
const (
	DurationForever   = "forever"
	DurationOnce      = "once"
	DurationRepeating = "repeating"
)

// Cancellation reasons, also the values of the churn reason label.
const (
	ReasonVoluntary   = "voluntary"
	ReasonInvoluntary = "involuntary"
)

// Item is one price of a subscription.
type Item struct {
	PriceID         string
	UnitAmountMinor int64 // minor units per unit; UnitAmountDecimal wins when set
	// UnitAmountDecimal is Stripe's unit_amount_decimal (minor units, may
	// have a fraction, e.g. "1250.5"); "" when not given.
	UnitAmountDecimal string
	Quantity          int64
	Interval          string // one of Intervals
	IntervalCount     int64  // >= 1
	Metered           bool   // usage_type metered: excluded from MRR
	Currency          string // lower-case ISO 4217; "" means the subscription's
}

// Discount is a coupon applied to the whole subscription.
//
// Only forever discounts change MRR. PercentOff reduces it by that share.
// AmountOffMinor is, as in Stripe, an amount taken off each invoice: it
// reduces the subscription's monthly MRR by the amount normalised to a
// month by the subscription's billing interval (the shortest interval of its
// licensed items, i.e. its invoice cadence): 30 off a yearly subscription
// takes 2.50 a month off its MRR, 30 off a monthly one 30. Several forever
// discounts apply in the order given, each to what the previous left, and
// MRR never goes below zero.
type Discount struct {
	PercentOff     float64 // 0..100
	AmountOffMinor int64
	Currency       string // of AmountOffMinor; "" means the subscription's
	Duration       string // DurationForever, DurationOnce or DurationRepeating
}

// Subscription is the canonical subscription that every billing collector
// produces.
type Subscription struct {
	ID, Customer string
	Status       Status
	Plan         string // label value: product or price nickname/id; "" becomes "none"
	Currency     string // lower-case ISO 4217
	Items        []Item
	Discounts    []Discount
	// VendorMRRMinor is the vendor's own MRR in minor units (Chargebee's
	// mrr), used instead of Items when >= 0; -1 when absent.
	VendorMRRMinor int64

	CreatedAt, CanceledAt, EndedAt time.Time
	CancelAtPeriodEnd              bool
	// CancelReason is ReasonVoluntary or ReasonInvoluntary; "" (unknown)
	// counts as voluntary, except that becoming unpaid is always involuntary.
	CancelReason string
	// UpdatedAt orders versions: a version older than the one applied is ignored.
	UpdatedAt time.Time
}

// InvalidError says why a subscription was rejected. Reason is a short
// label value for cx_exporter_records_rejected_total.
type InvalidError struct {
	Reason string // missing_field, unknown_value, negative_value, inconsistent_time
	Detail string
}

func (e *InvalidError) Error() string { return e.Detail }

// Is makes errors.Is(err, ErrInvalid) true for every InvalidError.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// ErrInvalid wraps every reason a subscription is rejected for.
var ErrInvalid = errors.New("invalid subscription")

func invalid(reason, format string, args ...any) *InvalidError {
	return &InvalidError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Validate reports the first thing that makes s unusable, as an
// *InvalidError.
func (s *Subscription) Validate() error {
	if err := s.validateFields(); err != nil {
		return err
	}
	if _, err := s.listMRR(); err != nil {
		return err
	}
	return nil
}

// validateFields checks everything but the prices (see listMRR).
func (s *Subscription) validateFields() *InvalidError {
	switch {
	case s.ID == "":
		return invalid("missing_field", "missing id")
	case s.Customer == "":
		return invalid("missing_field", "subscription %s: missing customer", s.ID)
	case s.Status == "":
		return invalid("missing_field", "subscription %s: missing status", s.ID)
	case !s.Status.Valid():
		return invalid("unknown_value", "subscription %s: unknown status %q", s.ID, s.Status)
	case s.Currency == "":
		return invalid("missing_field", "subscription %s: missing currency", s.ID)
	case !isCurrency(s.Currency):
		return invalid("unknown_value", "subscription %s: currency %q is not a lower-case ISO code", s.ID, s.Currency)
	case s.CreatedAt.IsZero():
		return invalid("missing_field", "subscription %s: missing created_at", s.ID)
	case s.CancelReason != "" && s.CancelReason != ReasonVoluntary && s.CancelReason != ReasonInvoluntary:
		return invalid("unknown_value", "subscription %s: unknown cancel reason %q", s.ID, s.CancelReason)
	case s.VendorMRRMinor < -1:
		return invalid("negative_value", "subscription %s: negative vendor MRR", s.ID)
	case !s.CanceledAt.IsZero() && s.CanceledAt.Before(s.CreatedAt):
		return invalid("inconsistent_time", "subscription %s: canceled before creation", s.ID)
	case !s.EndedAt.IsZero() && s.EndedAt.Before(s.CreatedAt):
		return invalid("inconsistent_time", "subscription %s: ended before creation", s.ID)
	}
	return nil
}

// MaxClockSkew is how far past the exporter's clock a vendor's time may
// be before a stored version dated so stops making later versions stale
// (see Rules.Now). Subscriptions are not rejected by date: billing vendors'
// replays and simulators date versions by their own clock.
const MaxClockSkew = 5 * time.Minute

// checkPrices validates what the MRR computation reads: items and discounts.
func (s *Subscription) checkPrices() *InvalidError {
	for i := range s.Items {
		it := &s.Items[i]
		switch {
		case it.Interval == "":
			return invalid("missing_field", "subscription %s: item %d: missing interval", s.ID, i)
		case monthsFactor(it.Interval) == nil:
			return invalid("unknown_value", "subscription %s: item %d: unknown interval %q", s.ID, i, it.Interval)
		case it.IntervalCount == 0:
			return invalid("missing_field", "subscription %s: item %d: missing interval_count", s.ID, i)
		case it.IntervalCount < 0:
			return invalid("negative_value", "subscription %s: item %d: negative interval_count", s.ID, i)
		case it.Quantity < 0:
			return invalid("negative_value", "subscription %s: item %d: negative quantity", s.ID, i)
		case it.UnitAmountMinor < 0:
			return invalid("negative_value", "subscription %s: item %d: negative unit amount", s.ID, i)
		case it.Currency != "" && !isCurrency(it.Currency):
			return invalid("unknown_value", "subscription %s: item %d: currency %q is not a lower-case ISO code", s.ID, i, it.Currency)
		}
		if it.UnitAmountDecimal != "" {
			if _, err := parseDecimal(it.UnitAmountDecimal); err != nil {
				return invalid("unknown_value", "subscription %s: item %d: unit_amount_decimal: %v", s.ID, i, err)
			}
		}
	}
	for i := range s.Discounts {
		d := &s.Discounts[i]
		switch {
		case math.IsNaN(d.PercentOff) || d.PercentOff > 100:
			return invalid("unknown_value", "subscription %s: discount %d: percent_off %v out of 0..100", s.ID, i, d.PercentOff)
		case d.PercentOff < 0:
			return invalid("negative_value", "subscription %s: discount %d: negative percent_off", s.ID, i)
		case d.AmountOffMinor < 0:
			return invalid("negative_value", "subscription %s: discount %d: negative amount_off", s.ID, i)
		case d.Duration == "":
			return invalid("missing_field", "subscription %s: discount %d: missing duration", s.ID, i)
		case d.Duration != DurationForever && d.Duration != DurationOnce && d.Duration != DurationRepeating:
			return invalid("unknown_value", "subscription %s: discount %d: unknown duration %q", s.ID, i, d.Duration)
		case d.Currency != "" && !isCurrency(d.Currency):
			return invalid("unknown_value", "subscription %s: discount %d: currency %q is not a lower-case ISO code", s.ID, i, d.Currency)
		}
	}
	return nil
}

// isCurrency reports whether c looks like a lower-case ISO 4217 code.
func isCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'a' || c[i] > 'z' {
			return false
		}
	}
	return true
}

// zeroDecimal are the currencies whose minor unit is the major unit
// (Stripe's zero-decimal currencies): 500 jpy is ¥500, not ¥5.
var zeroDecimal = map[string]bool{
	"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true, "krw": true, "mga": true,
	"pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true, "xof": true, "xpf": true,
}

// threeDecimal are the currencies Stripe counts in thousandths.
var threeDecimal = map[string]bool{"bhd": true, "jod": true, "kwd": true, "omr": true, "tnd": true}

// MinorPerMajor returns how many minor units make one major unit of
// currency: 1 for zero-decimal currencies (jpy, krw, …), 1000 for the
// three-decimal ones (bhd, jod, kwd, omr, tnd), 100 otherwise.
func MinorPerMajor(currency string) int64 {
	switch {
	case zeroDecimal[currency]:
		return 1
	case threeDecimal[currency]:
		return 1000
	}
	return 100
}

// Major converts an amount in minor units of currency to major units.
func Major(currency string, minor int64) float64 {
	return float64(minor) / float64(MinorPerMajor(currency))
}
