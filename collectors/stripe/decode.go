package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// list is Stripe's list envelope: {object: "list", data, has_more, url}.
type list struct {
	Object  string            `json:"object"`
	Data    []json.RawMessage `json:"data"`
	HasMore *bool             `json:"has_more"`
	URL     string            `json:"url"`
}

// decodeList decodes a list envelope, refusing anything that is not one.
func decodeList(b []byte) (*list, error) {
	var l list
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("decoding list: %w", err)
	}
	if l.Object != "list" {
		return nil, fmt.Errorf("not a list (object %q)", l.Object)
	}
	if l.HasMore == nil {
		return nil, errors.New("list without has_more")
	}
	return &l, nil
}

// idOrObject is a field Stripe renders as an id or, expanded, as the object.
type idOrObject struct {
	ID  string
	Raw json.RawMessage // the object when expanded, nil otherwise
}

func (v *idOrObject) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*v = idOrObject{}
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &v.ID)
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	v.ID, v.Raw = o.ID, append(json.RawMessage(nil), b...)
	return nil
}

type subscriptionJSON struct {
	ID                  string     `json:"id"`
	Object              string     `json:"object"`
	Customer            idOrObject `json:"customer"`
	Status              string     `json:"status"`
	Currency            string     `json:"currency"`
	Created             int64      `json:"created"`
	TrialStart          *int64     `json:"trial_start"`
	TrialEnd            *int64     `json:"trial_end"`
	CanceledAt          *int64     `json:"canceled_at"`
	EndedAt             *int64     `json:"ended_at"`
	CancelAtPeriodEnd   bool       `json:"cancel_at_period_end"`
	CancellationDetails *struct {
		Reason *string `json:"reason"`
	} `json:"cancellation_details"`
	Items *struct {
		Data    []json.RawMessage `json:"data"`
		HasMore bool              `json:"has_more"`
	} `json:"items"`
	Discounts []idOrObject  `json:"discounts"`
	Discount  *discountJSON `json:"discount"` // legacy API versions
}

type itemJSON struct {
	ID       string     `json:"id"`
	Quantity *int64     `json:"quantity"`
	Price    *priceJSON `json:"price"`
}

type priceJSON struct {
	ID                string     `json:"id"`
	Nickname          *string    `json:"nickname"`
	Product           idOrObject `json:"product"`
	Currency          string     `json:"currency"`
	UnitAmount        *int64     `json:"unit_amount"`
	UnitAmountDecimal *string    `json:"unit_amount_decimal"`
	Recurring         *struct {
		Interval      string `json:"interval"`
		IntervalCount int64  `json:"interval_count"`
		UsageType     string `json:"usage_type"`
	} `json:"recurring"`
}

type discountJSON struct {
	ID     string      `json:"id"`
	Coupon *couponJSON `json:"coupon"` // legacy, and pre-basil discounts
	Source *struct {
		Coupon idOrObject `json:"coupon"`
	} `json:"source"` // 2025-03-31.basil and later
}

type couponJSON struct {
	ID         string   `json:"id"`
	PercentOff *float64 `json:"percent_off"`
	AmountOff  *int64   `json:"amount_off"`
	Currency   *string  `json:"currency"`
	Duration   string   `json:"duration"`
}

func (c *couponJSON) discount() billing.Discount {
	d := billing.Discount{Duration: c.Duration}
	if c.PercentOff != nil {
		d.PercentOff = *c.PercentOff
	}
	if c.AmountOff != nil {
		d.AmountOffMinor = *c.AmountOff
	}
	if c.Currency != nil {
		d.Currency = *c.Currency
	}
	return d
}

// mapStatus maps Stripe's statuses onto the canonical ones.
func mapStatus(s string) (billing.Status, bool) {
	switch s {
	case "trialing", "active", "past_due", "paused", "unpaid", "incomplete", "canceled":
		return billing.Status(s), true
	case "incomplete_expired":
		return billing.StatusEnded, true
	}
	return "", false
}

// mapReason maps cancellation_details.reason: payment failures and
// disputes are involuntary, a requested cancellation voluntary, none
// unknown (the engine counts unknown as voluntary).
func mapReason(r *string) (string, bool) {
	if r == nil {
		return "", true
	}
	switch *r {
	case "payment_failed", "payment_disputed":
		return billing.ReasonInvoluntary, true
	case "cancellation_requested", "":
		return billing.ReasonVoluntary, true
	}
	return "", false
}

func unixTime(p *int64) time.Time {
	if p == nil || *p == 0 {
		return time.Time{}
	}
	return time.Unix(*p, 0).UTC()
}

// rejected is a record dropped while decoding.
func reject(id, reason, format string, args ...any) *source.Rejection {
	return &source.Rejection{ID: id, Reason: reason, Err: fmt.Errorf(format, args...)}
}

// pending is a decoded subscription whose items or discounts may still
// need requests before it maps to the canonical model.
type pending struct {
	raw          subscriptionJSON
	items        []itemJSON
	itemsHasMore bool
	updatedAt    time.Time
}

// decodeSubscription decodes one subscription object.
func decodeSubscription(b json.RawMessage) (*pending, *source.Rejection) {
	var s subscriptionJSON
	if err := json.Unmarshal(b, &s); err != nil {
		var id struct {
			ID any `json:"id"`
		}
		_ = json.Unmarshal(b, &id)
		sid, _ := id.ID.(string)
		return nil, reject(sid, "malformed_record", "subscription %s: %v", sid, err)
	}
	if s.Object != "" && s.Object != "subscription" {
		return nil, reject(s.ID, "malformed_record", "object %q is not a subscription", s.Object)
	}
	p := &pending{raw: s}
	if s.Items != nil {
		for _, r := range s.Items.Data {
			var it itemJSON
			if err := json.Unmarshal(r, &it); err != nil {
				return nil, reject(s.ID, "malformed_record", "subscription %s: item: %v", s.ID, err)
			}
			p.items = append(p.items, it)
		}
		p.itemsHasMore = s.Items.HasMore
	}
	return p, nil
}

// discountTerms resolves one discount to its coupon's terms. lookup finds
// what an id alone does not say (a discount rendered as its id, a coupon
// not expanded); it returns false when it cannot.
type discountLookup interface {
	discount(id string) (billing.Discount, bool)
	coupon(id string) (billing.Discount, bool)
}

// toCanonical maps a decoded subscription. plan is the product id of its
// first licensed recurring item (see the package doc).
func (p *pending) toCanonical(look discountLookup) (billing.Subscription, *source.Rejection) {
	s := &p.raw
	out := billing.Subscription{
		ID:                s.ID,
		Customer:          s.Customer.ID,
		Currency:          strings.ToLower(s.Currency),
		VendorMRRMinor:    -1,
		CreatedAt:         unixTime(&s.Created),
		CanceledAt:        unixTime(s.CanceledAt),
		EndedAt:           unixTime(s.EndedAt),
		CancelAtPeriodEnd: s.CancelAtPeriodEnd,
		UpdatedAt:         p.updatedAt,
	}
	if s.ID == "" {
		return out, reject("", "missing_field", "subscription without id")
	}
	if s.Created <= 0 {
		return out, reject(s.ID, "missing_field", "subscription %s: missing created", s.ID)
	}
	st, ok := mapStatus(s.Status)
	if !ok {
		return out, reject(s.ID, "unknown_value", "subscription %s: unknown status %q", s.ID, s.Status)
	}
	out.Status = st
	var reason *string
	if s.CancellationDetails != nil {
		reason = s.CancellationDetails.Reason
	}
	if out.CancelReason, ok = mapReason(reason); !ok {
		return out, reject(s.ID, "unknown_value", "subscription %s: unknown cancellation reason %q", s.ID, *reason)
	}
	for i, it := range p.items {
		if it.Price == nil {
			return out, reject(s.ID, "missing_field", "subscription %s: item %d: missing price", s.ID, i)
		}
		pr := it.Price
		if pr.Recurring == nil {
			continue // a one-off price: not recurring revenue
		}
		item := billing.Item{
			PriceID:       pr.ID,
			Quantity:      1,
			Interval:      pr.Recurring.Interval,
			IntervalCount: pr.Recurring.IntervalCount,
			Metered:       pr.Recurring.UsageType == "metered",
			Currency:      strings.ToLower(pr.Currency),
		}
		if it.Quantity != nil {
			item.Quantity = *it.Quantity
		}
		switch {
		case pr.UnitAmountDecimal != nil && *pr.UnitAmountDecimal != "":
			item.UnitAmountDecimal = *pr.UnitAmountDecimal
		case pr.UnitAmount != nil:
			item.UnitAmountMinor = *pr.UnitAmount
		case !item.Metered:
			return out, reject(s.ID, "missing_field", "subscription %s: item %d: price %s has no unit amount (tiered prices are not supported)", s.ID, i, pr.ID)
		}
		if pr.UnitAmount != nil {
			item.UnitAmountMinor = *pr.UnitAmount
		}
		if out.Plan == "" && !item.Metered {
			out.Plan = pr.Product.ID
		}
		out.Items = append(out.Items, item)
	}
	if out.Plan == "" && len(p.items) > 0 && p.items[0].Price != nil {
		out.Plan = p.items[0].Price.Product.ID
	}
	for _, d := range s.Discounts {
		if d.ID == "" && d.Raw == nil {
			continue
		}
		dis, rj := resolveDiscount(s.ID, d, look)
		if rj != nil {
			return out, rj
		}
		out.Discounts = append(out.Discounts, dis)
	}
	if s.Discount != nil && len(s.Discounts) == 0 {
		raw, _ := json.Marshal(s.Discount)
		dis, rj := resolveDiscount(s.ID, idOrObject{ID: s.Discount.ID, Raw: raw}, look)
		if rj != nil {
			return out, rj
		}
		out.Discounts = append(out.Discounts, dis)
	}
	return out, nil
}

// resolveDiscount turns a discount (an id, or the object with its coupon
// at coupon or source.coupon, itself an id or the object) into its terms.
func resolveDiscount(sub string, d idOrObject, look discountLookup) (billing.Discount, *source.Rejection) {
	if d.Raw == nil {
		if dis, ok := look.discount(d.ID); ok {
			return dis, nil
		}
		return billing.Discount{}, reject(sub, "missing_field", "subscription %s: discount %s: cannot resolve its coupon", sub, d.ID)
	}
	var dj discountJSON
	if err := json.Unmarshal(d.Raw, &dj); err != nil {
		return billing.Discount{}, reject(sub, "malformed_record", "subscription %s: discount: %v", sub, err)
	}
	if dj.Coupon != nil {
		return dj.Coupon.discount(), nil
	}
	if dj.Source != nil {
		c := dj.Source.Coupon
		if c.Raw != nil {
			var cj couponJSON
			if err := json.Unmarshal(c.Raw, &cj); err != nil {
				return billing.Discount{}, reject(sub, "malformed_record", "subscription %s: coupon: %v", sub, err)
			}
			return cj.discount(), nil
		}
		if dis, ok := look.coupon(c.ID); ok {
			return dis, nil
		}
	}
	return billing.Discount{}, reject(sub, "missing_field", "subscription %s: discount %s: no coupon", sub, dj.ID)
}

// discountCoupons extracts, from a subscription's expanded discounts, the
// discount id → coupon pairs worth remembering for events (which render
// discounts as ids only).
func discountCoupons(s *subscriptionJSON) map[string]couponJSON {
	out := map[string]couponJSON{}
	for _, d := range s.Discounts {
		if d.Raw == nil {
			continue
		}
		var dj discountJSON
		if json.Unmarshal(d.Raw, &dj) != nil || dj.ID == "" {
			continue
		}
		switch {
		case dj.Coupon != nil:
			out[dj.ID] = *dj.Coupon
		case dj.Source != nil && dj.Source.Coupon.Raw != nil:
			var cj couponJSON
			if json.Unmarshal(dj.Source.Coupon.Raw, &cj) == nil {
				out[dj.ID] = cj
			}
		}
	}
	return out
}

// eventJSON is one event of /v1/events.
type eventJSON struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Data    struct {
		Object             json.RawMessage `json:"object"`
		PreviousAttributes json.RawMessage `json:"previous_attributes"`
	} `json:"data"`
}
