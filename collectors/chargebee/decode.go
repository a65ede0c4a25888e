package chargebee

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

// listPage is one page of GET /api/v2/subscriptions.
type listPage struct {
	List       *[]json.RawMessage `json:"list"`
	NextOffset json.RawMessage    `json:"next_offset"`
}

// apiEntry is one element of list: the subscription and its customer.
type apiEntry struct {
	Subscription *apiSubscription `json:"subscription"`
	Customer     *struct {
		ID string `json:"id"`
	} `json:"customer"`
}

// apiSubscription holds the fields of Chargebee's subscription resource the
// collector reads, for both product catalog versions: 2.0 with
// subscription_items, 1.0 with plan_* and addons.
type apiSubscription struct {
	ID           string    `json:"id"`
	CustomerID   string    `json:"customer_id"`
	Status       string    `json:"status"`
	CurrencyCode string    `json:"currency_code"`
	MRR          *int64    `json:"mrr"`
	Items        []apiItem `json:"subscription_items"`

	// Product catalog 1.0.
	PlanID            string     `json:"plan_id"`
	PlanQuantity      *int64     `json:"plan_quantity"`
	PlanUnitPrice     *int64     `json:"plan_unit_price"`
	PlanAmount        *int64     `json:"plan_amount"`
	BillingPeriod     *int64     `json:"billing_period"`
	BillingPeriodUnit string     `json:"billing_period_unit"`
	Addons            []apiAddon `json:"addons"`

	CreatedAt       *int64 `json:"created_at"`
	StartedAt       *int64 `json:"started_at"`
	ActivatedAt     *int64 `json:"activated_at"`
	CancelledAt     *int64 `json:"cancelled_at"`
	TrialEnd        *int64 `json:"trial_end"`
	UpdatedAt       *int64 `json:"updated_at"`
	ResourceVersion *int64 `json:"resource_version"`
	CancelReason    string `json:"cancel_reason"`
	Deleted         bool   `json:"deleted"`
}

// apiItem is one subscription_items element (product catalog 2.0).
type apiItem struct {
	ItemPriceID       string          `json:"item_price_id"`
	ItemType          string          `json:"item_type"` // plan, addon, charge
	Quantity          *int64          `json:"quantity"`
	UnitPrice         *int64          `json:"unit_price"`
	Amount            *int64          `json:"amount"`
	BillingPeriod     *int64          `json:"billing_period"`
	BillingPeriodUnit string          `json:"billing_period_unit"`
	MeteredQuantity   json.RawMessage `json:"metered_quantity"`
}

// apiAddon is one addons element (product catalog 1.0); addons bill with
// the subscription's period.
type apiAddon struct {
	ID        string `json:"id"`
	Quantity  *int64 `json:"quantity"`
	UnitPrice *int64 `json:"unit_price"`
	Amount    *int64 `json:"amount"`
}

// Page is a decoded list page.
type Page struct {
	Subscriptions []billing.Subscription
	Rejected      []source.Rejection
	// NextOffset is the opaque offset of the next page, "" on the last one.
	NextOffset string
	// MaxUpdatedAt is the highest updated_at (unix seconds) of the page's
	// records, rejected ones included; 0 when none has one.
	MaxUpdatedAt int64
	// TrialEnds are the subscriptions' trial ends (zero: no trial), for
	// the backfill: trial_end, else an activated_at after created_at.
	TrialEnds []time.Time
}

// DecodePage parses one list page. A body that is not a list page is an
// error; a record that cannot be mapped is a Rejection and the rest of the
// page still decodes.
func DecodePage(body []byte) (*Page, error) {
	return source.DecodePage(body, "list page", (*listPage).decode)
}

func (raw *listPage) decode() (*Page, error) {
	if raw.List == nil {
		return nil, errors.New("malformed list page: no list")
	}
	off, err := decodeOffset(raw.NextOffset)
	if err != nil {
		return nil, err
	}
	p := &Page{NextOffset: off}
	for _, r := range *raw.List {
		if u := recordUpdatedAt(r); u > p.MaxUpdatedAt {
			p.MaxUpdatedAt = u
		}
		var e apiEntry
		if err := json.Unmarshal(r, &e); err != nil {
			p.Rejected = append(p.Rejected, source.Rejection{ID: recordID(r), Reason: "malformed_record", Err: err})
			continue
		}
		if e.Subscription == nil {
			p.Rejected = append(p.Rejected, source.Rejection{Reason: "malformed_record", Err: errors.New("list entry without subscription")})
			continue
		}
		s, rej := canonical(&e)
		if rej != nil {
			p.Rejected = append(p.Rejected, *rej)
			continue
		}
		p.Subscriptions = append(p.Subscriptions, s)
		p.TrialEnds = append(p.TrialEnds, trialEnd(e.Subscription))
	}
	return p, nil
}

// decodeOffset reads next_offset: absent, null or "" means no more pages.
// Chargebee sends a string (itself JSON-looking, e.g.
// "[\"1700000000000\",\"230000000\"]"); a bare number is taken as its text.
func decodeOffset(m json.RawMessage) (string, error) {
	m = bytes.TrimSpace(m)
	if len(m) == 0 || string(m) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(m, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(m, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("malformed list page: next_offset is %.40s", m)
}

// recordUpdatedAt digs updated_at out of a record, decodable or not, so the
// cursor moves past records that are rejected.
func recordUpdatedAt(r json.RawMessage) int64 {
	var v struct {
		Subscription struct {
			UpdatedAt int64 `json:"updated_at"`
		} `json:"subscription"`
	}
	if json.Unmarshal(r, &v) != nil {
		return 0
	}
	return max(v.Subscription.UpdatedAt, 0)
}

// recordID digs the id out of a record that failed to decode, for the log.
func recordID(r json.RawMessage) string {
	var v struct {
		Subscription struct {
			ID json.RawMessage `json:"id"`
		} `json:"subscription"`
	}
	if json.Unmarshal(r, &v) != nil || len(v.Subscription.ID) == 0 {
		return ""
	}
	return source.LogID(v.Subscription.ID)
}

// statuses maps Chargebee's statuses onto the canonical ones (non_renewing
// is active, cancelling at the end of the term).
var statuses = map[string]billing.Status{
	"future":       billing.StatusIncomplete, // not started: not paying
	"in_trial":     billing.StatusTrialing,
	"active":       billing.StatusActive,
	"non_renewing": billing.StatusActive,
	"paused":       billing.StatusPaused,
	"cancelled":    billing.StatusCanceled,
}

// involuntaryReasons are the cancel_reason values Chargebee sets when a
// subscription is cancelled for want of payment; every other value is
// voluntary (the merchant or the customer cancelled).
var involuntaryReasons = map[string]bool{"not_paid": true, "no_card": true}

// intervals maps billing_period_unit onto the canonical intervals.
var intervals = map[string]string{"day": "day", "week": "week", "month": "month", "year": "year"}

// canonical maps one list entry to the canonical model. Chargebee's status
// is mapped here (an unknown one is rejected); everything else is left to
// billing.Subscription.Validate, which the engine runs.
func canonical(e *apiEntry) (billing.Subscription, *source.Rejection) {
	a := e.Subscription
	s := billing.Subscription{
		ID:             a.ID,
		Customer:       a.CustomerID,
		Currency:       strings.ToLower(a.CurrencyCode),
		VendorMRRMinor: -1,
	}
	if s.Customer == "" && e.Customer != nil {
		s.Customer = e.Customer.ID
	}
	if a.MRR != nil {
		if *a.MRR < 0 {
			return s, &source.Rejection{ID: a.ID, Reason: "negative_value", Err: fmt.Errorf("subscription %s: negative mrr", a.ID)}
		}
		s.VendorMRRMinor = *a.MRR
	}
	st, known := statuses[a.Status]
	switch {
	case a.Deleted:
		st = billing.StatusEnded
	case a.Status == "":
		return s, &source.Rejection{ID: a.ID, Reason: "missing_field", Err: fmt.Errorf("subscription %s: missing status", a.ID)}
	case !known:
		return s, &source.Rejection{ID: a.ID, Reason: "unknown_value", Err: fmt.Errorf("subscription %s: unknown status %.40q", a.ID, a.Status)}
	}
	s.Status = st
	s.CancelAtPeriodEnd = a.Status == "non_renewing" && !a.Deleted

	s.CreatedAt = unix(a.CreatedAt)
	if s.CreatedAt.IsZero() {
		s.CreatedAt = unix(a.StartedAt)
	}
	s.UpdatedAt = versionTime(a.UpdatedAt, a.ResourceVersion)
	// cancelled_at of a non_renewing subscription is the scheduled end,
	// not a cancellation that happened.
	if a.Status == "cancelled" || a.Deleted {
		s.CanceledAt = unix(a.CancelledAt)
		s.EndedAt = s.CanceledAt
		if a.Deleted && s.EndedAt.IsZero() {
			s.EndedAt = unix(a.UpdatedAt)
		}
	}
	if a.CancelReason != "" {
		s.CancelReason = billing.ReasonVoluntary
		if involuntaryReasons[a.CancelReason] {
			s.CancelReason = billing.ReasonInvoluntary
		}
	}
	s.Plan = planOf(a)
	if s.VendorMRRMinor < 0 {
		s.Items = itemsOf(a)
	}
	return s, nil
}

// planOf is the plan label: the first plan item's item_price_id (else the
// first item's), or the 1.0 plan_id.
func planOf(a *apiSubscription) string {
	for _, it := range a.Items {
		if it.ItemType == "plan" && it.ItemPriceID != "" {
			return it.ItemPriceID
		}
	}
	for _, it := range a.Items {
		if it.ItemPriceID != "" {
			return it.ItemPriceID
		}
	}
	return a.PlanID
}

// itemsOf builds the priced items when Chargebee sent no mrr: recurring
// plan and addon items, unit_price × quantity (amount when there is no
// unit price, as with tiered prices), normalised by billing_period and
// billing_period_unit. Charges (one-off) are left out; items with a
// metered_quantity are metered. Product catalog 1.0 subscriptions give
// the plan and its addons, all billed with the subscription's period.
func itemsOf(a *apiSubscription) []billing.Item {
	var out []billing.Item
	add := func(id string, unit, qty, amount *int64, period *int64, periodUnit string, metered bool) {
		it := billing.Item{PriceID: id, Quantity: 1, IntervalCount: 1, Metered: metered, Interval: periodUnit}
		if iv, ok := intervals[periodUnit]; ok {
			it.Interval = iv
		}
		if period != nil {
			it.IntervalCount = *period
		}
		switch {
		case unit != nil:
			it.UnitAmountMinor = *unit
			if qty != nil {
				it.Quantity = *qty
			}
		case amount != nil:
			it.UnitAmountMinor = *amount
		}
		out = append(out, it)
	}
	for _, it := range a.Items {
		if it.ItemType == "charge" {
			continue
		}
		period, unit := it.BillingPeriod, it.BillingPeriodUnit
		if unit == "" { // addons may carry only the subscription's period
			period, unit = a.BillingPeriod, a.BillingPeriodUnit
		}
		metered := len(it.MeteredQuantity) > 0 && string(it.MeteredQuantity) != "null"
		add(it.ItemPriceID, it.UnitPrice, it.Quantity, it.Amount, period, unit, metered)
	}
	if len(a.Items) == 0 && a.PlanID != "" {
		add(a.PlanID, a.PlanUnitPrice, a.PlanQuantity, a.PlanAmount, a.BillingPeriod, a.BillingPeriodUnit, false)
		for _, ad := range a.Addons {
			add(ad.ID, ad.UnitPrice, ad.Quantity, ad.Amount, a.BillingPeriod, a.BillingPeriodUnit, false)
		}
	}
	return out
}

// unix converts a unix-seconds field; nil and 0 are the zero time.
// trialEnd is when a subscription's trial ended (or ends): trial_end, else
// an activated_at later than its creation (it was activated at the end of
// a trial); zero when it had no trial.
func trialEnd(a *apiSubscription) time.Time {
	if t := unix(a.TrialEnd); !t.IsZero() {
		return t
	}
	created := unix(a.CreatedAt)
	if created.IsZero() {
		created = unix(a.StartedAt)
	}
	if t := unix(a.ActivatedAt); t.After(created) {
		return t
	}
	return time.Time{}
}

func unix(v *int64) time.Time {
	if v == nil || *v == 0 {
		return time.Time{}
	}
	return time.Unix(*v, 0).UTC()
}

// versionTime orders versions of a subscription: updated_at has second
// precision, resource_version is the change time in milliseconds, so when
// it agrees with updated_at (within the second, or the next one) it breaks
// ties between changes made within the same second. Otherwise updated_at
// alone is used, so that a resource_version of another shape cannot push a
// version ahead of later ones.
func versionTime(updated, version *int64) time.Time {
	if updated == nil || *updated == 0 {
		return time.Time{}
	}
	u := *updated
	if version != nil {
		if sec := *version / 1000; sec >= u && sec <= u+1 && *version >= 0 {
			return time.UnixMilli(*version).UTC()
		}
	}
	return time.Unix(u, 0).UTC()
}
