package paddle

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// listPage is one page of a Paddle list operation.
type listPage struct {
	Data *[]json.RawMessage `json:"data"`
	Meta struct {
		Pagination *struct {
			PerPage int    `json:"per_page"`
			Next    string `json:"next"`
			HasMore bool   `json:"has_more"`
		} `json:"pagination"`
	} `json:"meta"`
}

// apiSubscription holds the fields of Paddle's subscription entity the
// collector reads.
type apiSubscription struct {
	ID           string  `json:"id"`
	Status       string  `json:"status"`
	CustomerID   string  `json:"customer_id"`
	CurrencyCode string  `json:"currency_code"`
	CreatedAt    *string `json:"created_at"`
	UpdatedAt    *string `json:"updated_at"`
	CanceledAt   *string `json:"canceled_at"`
	Items        []struct {
		Status    string `json:"status"` // active, inactive, trialing
		Quantity  int64  `json:"quantity"`
		Recurring bool   `json:"recurring"`
		Price     *struct {
			ID           string        `json:"id"`
			ProductID    string        `json:"product_id"`
			BillingCycle *apiCycle     `json:"billing_cycle"`
			UnitPrice    *apiMoney     `json:"unit_price"`
			Overrides    []apiOverride `json:"unit_price_overrides"`
		} `json:"price"`
	} `json:"items"`
	Discount *struct {
		ID     string  `json:"id"`
		EndsAt *string `json:"ends_at"`
	} `json:"discount"`
	ScheduledChange *struct {
		Action string `json:"action"` // cancel, pause, resume
	} `json:"scheduled_change"`
}

type apiCycle struct {
	Interval  string `json:"interval"`
	Frequency int64  `json:"frequency"`
}

type apiMoney struct {
	Amount       string `json:"amount"` // minor units, as a string
	CurrencyCode string `json:"currency_code"`
}

type apiOverride struct {
	UnitPrice apiMoney `json:"unit_price"`
}

// Discount is Paddle's discount entity, as GET /discounts/{id} gives it.
type Discount struct {
	ID           string `json:"id"`
	Type         string `json:"type"` // percentage, flat, flat_per_seat
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currency_code"`
	Recur        bool   `json:"recur"`
	// MaxRecurringIntervals is nil for a discount that recurs forever.
	MaxRecurringIntervals *int64 `json:"maximum_recurring_intervals"`
}

// apiEvent is one element of GET /events.
type apiEvent struct {
	EventID    string          `json:"event_id"`
	EventType  string          `json:"event_type"`
	OccurredAt string          `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

// Pending is a decoded subscription whose discount (when it has one) is
// still to be resolved.
type Pending struct {
	raw apiSubscription
}

// DiscountID is the id of the subscription's discount, "" when none.
func (p *Pending) DiscountID() string {
	if p.raw.Discount == nil {
		return ""
	}
	return p.raw.Discount.ID
}

// Page is a decoded list page of subscriptions (or of the subscriptions
// that events carry).
type Page struct {
	Subs     []*Pending
	Rejected []source.Rejection
	// Last is the id of the page's last entity (subscription or event),
	// "" on an empty page: the next page's after.
	Last    string
	HasMore bool
}

func (raw *listPage) check() error {
	if raw.Data == nil {
		return errors.New("malformed list page: no data")
	}
	if raw.Meta.Pagination == nil {
		return errors.New("malformed list page: no meta.pagination")
	}
	return nil
}

// DecodeSubscriptions parses one page of GET /subscriptions.
func DecodeSubscriptions(body []byte) (*Page, error) {
	return source.DecodePage(body, "subscription page", func(raw *listPage) (*Page, error) {
		if err := raw.check(); err != nil {
			return nil, err
		}
		p := &Page{HasMore: raw.Meta.Pagination.HasMore}
		for _, r := range *raw.Data {
			if id := source.RecordID(r); id != "" {
				p.Last = id
			}
			p.add(r)
		}
		if p.HasMore && p.Last == "" {
			return nil, errors.New("malformed list page: has_more without a last id")
		}
		return p, nil
	})
}

func (p *Page) add(r json.RawMessage) {
	var s apiSubscription
	if err := json.Unmarshal(r, &s); err != nil {
		p.Rejected = append(p.Rejected, source.Rejection{ID: source.RecordID(r), Reason: "malformed_record", Err: err})
		return
	}
	p.Subs = append(p.Subs, &Pending{raw: s})
}

// EventTypes are the events incremental syncs follow.
var EventTypes = []string{
	"subscription.created", "subscription.updated", "subscription.activated", "subscription.canceled",
	"subscription.paused", "subscription.resumed", "subscription.past_due", "subscription.trialing",
}

// DecodeEvents parses one page of GET /events: the subscriptions its
// subscription events carry, oldest first.
func DecodeEvents(body []byte) (*Page, error) {
	return source.DecodePage(body, "event page", func(raw *listPage) (*Page, error) {
		if err := raw.check(); err != nil {
			return nil, err
		}
		p := &Page{HasMore: raw.Meta.Pagination.HasMore}
		for _, r := range *raw.Data {
			var e apiEvent
			if err := json.Unmarshal(r, &e); err != nil || e.EventID == "" {
				return nil, fmt.Errorf("malformed event page: undecodable event %.64s", r)
			}
			p.Last = e.EventID
			if !strings.HasPrefix(e.EventType, "subscription.") {
				continue
			}
			p.add(e.Data)
		}
		if p.HasMore && p.Last == "" {
			return nil, errors.New("malformed event page: has_more without a last id")
		}
		return p, nil
	})
}

// statuses maps Paddle's subscription statuses onto the canonical ones.
var statuses = map[string]billing.Status{
	"active":   billing.StatusActive,
	"trialing": billing.StatusTrialing,
	"past_due": billing.StatusPastDue,
	"paused":   billing.StatusPaused,
	"canceled": billing.StatusCanceled,
}

func parseTime(s *string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, *s)
}

// Canonical maps a subscription to the canonical model. discount resolves
// the subscription's discount id (false: unknown, the subscription counts
// without it). Everything the engine checks itself is left to
// billing.Subscription.Validate.
func (p *Pending) Canonical(discount func(id string) (Discount, bool)) (billing.Subscription, *source.Rejection) {
	a := &p.raw
	s := billing.Subscription{ID: a.ID, Customer: a.CustomerID, Currency: strings.ToLower(a.CurrencyCode), VendorMRRMinor: -1}
	reject := func(reason, format string, args ...any) (billing.Subscription, *source.Rejection) {
		return s, &source.Rejection{ID: a.ID, Reason: reason, Err: fmt.Errorf("subscription %s: "+format, append([]any{a.ID}, args...)...)}
	}
	if a.ID == "" {
		return reject("missing_field", "missing id")
	}
	st, known := statuses[a.Status]
	switch {
	case a.Status == "":
		return reject("missing_field", "missing status")
	case !known:
		return reject("unknown_value", "unknown status %.40q", a.Status)
	}
	s.Status = st
	var err error
	for _, f := range []struct {
		name string
		in   *string
		out  *time.Time
	}{{"created_at", a.CreatedAt, &s.CreatedAt}, {"updated_at", a.UpdatedAt, &s.UpdatedAt}, {"canceled_at", a.CanceledAt, &s.CanceledAt}} {
		if *f.out, err = parseTime(f.in); err != nil {
			return reject("unknown_value", "%s: %v", f.name, err)
		}
	}
	if s.UpdatedAt.IsZero() {
		return reject("missing_field", "missing updated_at")
	}
	if st == billing.StatusCanceled {
		if s.CanceledAt.IsZero() {
			s.CanceledAt = s.UpdatedAt
		}
		s.EndedAt = s.CanceledAt
	} else {
		s.CanceledAt = time.Time{}
	}
	s.CancelAtPeriodEnd = a.ScheduledChange != nil && a.ScheduledChange.Action == "cancel" && st != billing.StatusCanceled
	var seats int64
	for i, it := range a.Items {
		if it.Price == nil {
			return reject("missing_field", "item %d: missing price", i)
		}
		if !it.Recurring || it.Price.BillingCycle == nil || it.Status == "inactive" {
			continue // one-time charges and removed items bill nothing recurring
		}
		amount, err := unitAmount(it.Price.UnitPrice, it.Price.Overrides, a.CurrencyCode)
		if err != nil {
			return reject("unknown_value", "item %d (%s): %v", i, it.Price.ID, err)
		}
		s.Items = append(s.Items, billing.Item{
			PriceID: it.Price.ID, UnitAmountMinor: amount, Quantity: it.Quantity,
			Interval: it.Price.BillingCycle.Interval, IntervalCount: it.Price.BillingCycle.Frequency,
		})
		seats += it.Quantity
		if s.Plan == "" {
			s.Plan = it.Price.ProductID
			if s.Plan == "" {
				s.Plan = it.Price.ID
			}
		}
	}
	if id := p.DiscountID(); id != "" {
		ends, err := parseTime(p.raw.Discount.EndsAt)
		if err != nil {
			return reject("unknown_value", "discount ends_at: %v", err)
		}
		if d, ok := discount(id); ok && (ends.IsZero() || ends.After(s.UpdatedAt)) {
			bd, err := d.canonical(seats)
			if err != nil {
				return reject("unknown_value", "discount %s: %v", id, err)
			}
			s.Discounts = append(s.Discounts, bd)
		}
	}
	return s, nil
}

// unitAmount is the price's unit amount in the subscription's currency:
// unit_price, or the first override in that currency.
func unitAmount(base *apiMoney, overrides []apiOverride, currency string) (int64, error) {
	var m *apiMoney
	if base != nil && strings.EqualFold(base.CurrencyCode, currency) {
		m = base
	}
	for i := range overrides {
		if m == nil && strings.EqualFold(overrides[i].UnitPrice.CurrencyCode, currency) {
			m = &overrides[i].UnitPrice
		}
	}
	if m == nil {
		return 0, fmt.Errorf("no unit price in %.8q", currency)
	}
	n, err := strconv.ParseInt(m.Amount, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unit price amount %.20q is not an integer", m.Amount)
	}
	return n, nil
}

// canonical maps a discount to Stripe's rules: recur false is once, recur
// with maximum_recurring_intervals is repeating, recur without is forever;
// percentage is percent_off, flat an amount off each invoice, and
// flat_per_seat that amount times the seats (recurring quantities).
func (d *Discount) canonical(seats int64) (billing.Discount, error) {
	out := billing.Discount{Duration: billing.DurationOnce, Currency: strings.ToLower(d.CurrencyCode)}
	if d.Recur {
		out.Duration = billing.DurationForever
		if d.MaxRecurringIntervals != nil {
			out.Duration = billing.DurationRepeating
		}
	}
	switch d.Type {
	case "percentage":
		f, err := strconv.ParseFloat(d.Amount, 64)
		if err != nil {
			return out, fmt.Errorf("amount %.20q is not a number", d.Amount)
		}
		out.PercentOff, out.Currency = f, ""
	case "flat", "flat_per_seat":
		n, err := strconv.ParseInt(d.Amount, 10, 64)
		if err != nil {
			return out, fmt.Errorf("amount %.20q is not an integer", d.Amount)
		}
		if d.Type == "flat_per_seat" {
			n *= max(seats, 1)
		}
		out.AmountOffMinor = n
	default:
		return out, fmt.Errorf("unknown type %.20q", d.Type)
	}
	return out, nil
}
