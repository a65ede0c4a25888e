package paddle

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
)

// sub is a Paddle subscription entity with fields replaced by extra
// (a JSON object's members, appended: later members win).
func sub(extra string) string {
	s := `{"id":"sub_01","status":"active","customer_id":"ctm_01","currency_code":"USD",` +
		`"created_at":"2026-11-01T10:00:00.000000Z","updated_at":"2026-11-02T10:00:00.123456Z","canceled_at":null,` +
		`"billing_cycle":{"interval":"month","frequency":1},"scheduled_change":null,"discount":null,` +
		`"items":[{"status":"active","quantity":2,"recurring":true,"price":{"id":"pri_01","product_id":"pro_01",` +
		`"billing_cycle":{"interval":"month","frequency":1},"unit_price":{"amount":"1500","currency_code":"USD"},"unit_price_overrides":[]}}]`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func page(data ...string) string {
	return `{"data":[` + strings.Join(data, ",") + `],"meta":{"request_id":"r","pagination":{"per_page":50,"next":"x","has_more":false,"estimated_total":1}}}`
}

func TestDecodeSubscriptions(t *testing.T) {
	discounts := map[string]Discount{
		"dsc_forever": {Type: "percentage", Amount: "20", Recur: true},
		"dsc_once":    {Type: "percentage", Amount: "50"},
		"dsc_3m":      {Type: "flat", Amount: "500", CurrencyCode: "USD", Recur: true, MaxRecurringIntervals: new(int64)},
		"dsc_seat":    {Type: "flat_per_seat", Amount: "100", CurrencyCode: "USD", Recur: true},
		"dsc_bad":     {Type: "bogus", Amount: "1"},
	}
	look := func(id string) (Discount, bool) { d, ok := discounts[id]; return d, ok }
	for _, tc := range []struct {
		name   string
		body   string
		reject string // reason, "" when accepted
		check  func(t *testing.T, s billing.Subscription)
	}{
		{"active monthly", sub(""), "", func(t *testing.T, s billing.Subscription) {
			if s.Status != billing.StatusActive || s.Currency != "usd" || s.Plan != "pro_01" || len(s.Items) != 1 ||
				s.Items[0].UnitAmountMinor != 1500 || s.Items[0].Quantity != 2 || s.Items[0].Interval != "month" || s.Items[0].IntervalCount != 1 {
				t.Errorf("%+v", s)
			}
			if !s.UpdatedAt.Equal(time.Date(2026, 11, 2, 10, 0, 0, 123456000, time.UTC)) {
				t.Errorf("updated_at %v", s.UpdatedAt)
			}
		}},
		{"every status", sub(`"status":"past_due"`), "", func(t *testing.T, s billing.Subscription) {
			if s.Status != billing.StatusPastDue {
				t.Error(s.Status)
			}
		}},
		{"paused", sub(`"status":"paused"`), "", func(t *testing.T, s billing.Subscription) {
			if s.Status != billing.StatusPaused {
				t.Error(s.Status)
			}
		}},
		{"trialing", sub(`"status":"trialing"`), "", func(t *testing.T, s billing.Subscription) {
			if s.Status != billing.StatusTrialing {
				t.Error(s.Status)
			}
		}},
		{"canceled", sub(`"status":"canceled","canceled_at":"2026-11-03T00:00:00Z"`), "", func(t *testing.T, s billing.Subscription) {
			if s.Status != billing.StatusCanceled || s.CanceledAt.IsZero() || !s.EndedAt.Equal(s.CanceledAt) || s.CancelReason != "" {
				t.Errorf("%+v", s)
			}
		}},
		{"canceled without canceled_at", sub(`"status":"canceled"`), "", func(t *testing.T, s billing.Subscription) {
			if !s.CanceledAt.Equal(s.UpdatedAt) {
				t.Errorf("canceled_at %v", s.CanceledAt)
			}
		}},
		{"scheduled cancel", sub(`"scheduled_change":{"action":"cancel","effective_at":"2026-12-01T00:00:00Z"}`), "", func(t *testing.T, s billing.Subscription) {
			if !s.CancelAtPeriodEnd {
				t.Error("not cancelling at period end")
			}
		}},
		{"scheduled pause is not a cancellation", sub(`"scheduled_change":{"action":"pause"}`), "", func(t *testing.T, s billing.Subscription) {
			if s.CancelAtPeriodEnd {
				t.Error("cancelling at period end")
			}
		}},
		{"yearly and every three months", sub(`"items":[` +
			`{"status":"active","quantity":1,"recurring":true,"price":{"id":"y","product_id":"p","billing_cycle":{"interval":"year","frequency":1},"unit_price":{"amount":"12000","currency_code":"USD"}}},` +
			`{"status":"active","quantity":1,"recurring":true,"price":{"id":"q","product_id":"p","billing_cycle":{"interval":"month","frequency":3},"unit_price":{"amount":"3000","currency_code":"USD"}}}]`), "",
			func(t *testing.T, s billing.Subscription) {
				if len(s.Items) != 2 || s.Items[0].Interval != "year" || s.Items[1].IntervalCount != 3 {
					t.Errorf("%+v", s.Items)
				}
			}},
		{"one-time and inactive items bill nothing recurring", sub(`"items":[` +
			`{"status":"active","quantity":1,"recurring":false,"price":{"id":"once","product_id":"setup","billing_cycle":null,"unit_price":{"amount":"9900","currency_code":"USD"}}},` +
			`{"status":"inactive","quantity":1,"recurring":true,"price":{"id":"old","product_id":"old","billing_cycle":{"interval":"month","frequency":1},"unit_price":{"amount":"100","currency_code":"USD"}}}]`), "",
			func(t *testing.T, s billing.Subscription) {
				if len(s.Items) != 0 || s.Plan != "" {
					t.Errorf("%+v", s)
				}
			}},
		{"override in the subscription's currency", sub(`"currency_code":"EUR","items":[{"status":"active","quantity":1,"recurring":true,"price":{"id":"p","product_id":"p",` +
			`"billing_cycle":{"interval":"month","frequency":1},"unit_price":{"amount":"1000","currency_code":"USD"},"unit_price_overrides":[{"country_codes":["DE"],"unit_price":{"amount":"900","currency_code":"EUR"}}]}}]`), "",
			func(t *testing.T, s billing.Subscription) {
				if s.Currency != "eur" || s.Items[0].UnitAmountMinor != 900 {
					t.Errorf("%+v", s)
				}
			}},
		{"forever discount", sub(`"discount":{"id":"dsc_forever","starts_at":"2026-11-01T00:00:00Z","ends_at":null}`), "", func(t *testing.T, s billing.Subscription) {
			if len(s.Discounts) != 1 || s.Discounts[0].PercentOff != 20 || s.Discounts[0].Duration != billing.DurationForever {
				t.Errorf("%+v", s.Discounts)
			}
		}},
		{"once discount", sub(`"discount":{"id":"dsc_once"}`), "", func(t *testing.T, s billing.Subscription) {
			if len(s.Discounts) != 1 || s.Discounts[0].Duration != billing.DurationOnce {
				t.Errorf("%+v", s.Discounts)
			}
		}},
		{"repeating flat discount", sub(`"discount":{"id":"dsc_3m"}`), "", func(t *testing.T, s billing.Subscription) {
			if len(s.Discounts) != 1 || s.Discounts[0].Duration != billing.DurationRepeating || s.Discounts[0].AmountOffMinor != 500 || s.Discounts[0].Currency != "usd" {
				t.Errorf("%+v", s.Discounts)
			}
		}},
		{"flat per seat", sub(`"discount":{"id":"dsc_seat"}`), "", func(t *testing.T, s billing.Subscription) {
			if len(s.Discounts) != 1 || s.Discounts[0].AmountOffMinor != 200 {
				t.Errorf("%+v", s.Discounts)
			}
		}},
		{"ended discount is ignored", sub(`"discount":{"id":"dsc_forever","ends_at":"2026-11-01T12:00:00Z"}`), "", func(t *testing.T, s billing.Subscription) {
			if len(s.Discounts) != 0 {
				t.Errorf("%+v", s.Discounts)
			}
		}},
		{"unknown discount counts without it", sub(`"discount":{"id":"dsc_gone"}`), "", func(t *testing.T, s billing.Subscription) {
			if len(s.Discounts) != 0 {
				t.Errorf("%+v", s.Discounts)
			}
		}},
		{"unknown discount type", sub(`"discount":{"id":"dsc_bad"}`), "unknown_value", nil},
		{"unknown status", sub(`"status":"frozen"`), "unknown_value", nil},
		{"missing status", sub(`"status":""`), "missing_field", nil},
		{"missing id", sub(`"id":""`), "missing_field", nil},
		{"missing updated_at", sub(`"updated_at":null`), "missing_field", nil},
		{"bad time", sub(`"created_at":"yesterday"`), "unknown_value", nil},
		{"amount not an integer", sub(`"items":[{"status":"active","quantity":1,"recurring":true,"price":{"id":"p","billing_cycle":{"interval":"month","frequency":1},"unit_price":{"amount":"12.5","currency_code":"USD"}}}]`), "unknown_value", nil},
		{"no price in the currency", sub(`"currency_code":"GBP"`), "unknown_value", nil},
		{"item without price", strings.Replace(sub(""), `"price":{`, `"tier":{`, 1), "missing_field", nil},
		{"malformed record", `{"id":"sub_x","status":7}`, "malformed_record", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodeSubscriptions([]byte(page(tc.body)))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Rejected) == 1 {
				if p.Rejected[0].Reason != tc.reject {
					t.Fatalf("rejected as %s (%v), want %q", p.Rejected[0].Reason, p.Rejected[0].Err, tc.reject)
				}
				return
			}
			s, rj := p.Subs[0].Canonical(look)
			switch {
			case rj != nil && rj.Reason != tc.reject:
				t.Fatalf("rejected as %s (%v), want %q", rj.Reason, rj.Err, tc.reject)
			case rj == nil && tc.reject != "":
				t.Fatalf("accepted %+v, want a rejection %s", s, tc.reject)
			case rj == nil:
				tc.check(t, s)
			}
		})
	}
}

func TestDecodePages(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		events     bool
		ok         bool
		last       string
		subs       int
	}{
		{"subscriptions", page(sub(""), sub(`"id":"sub_02"`)), false, true, "sub_02", 2},
		{"no data", `{"meta":{"pagination":{"has_more":false}}}`, false, false, "", 0},
		{"no pagination", `{"data":[]}`, false, false, "", 0},
		{"has_more without ids", `{"data":[],"meta":{"pagination":{"has_more":true}}}`, false, false, "", 0},
		{"not json", `<html>`, false, false, "", 0},
		{"events", page(`{"event_id":"evt_1","event_type":"subscription.updated","occurred_at":"2026-11-02T10:00:00Z","data":`+sub("")+`}`,
			`{"event_id":"evt_2","event_type":"transaction.completed","data":{"id":"txn_1"}}`), true, true, "evt_2", 1},
		{"event without id", page(`{"event_type":"subscription.updated","data":{}}`), true, false, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := DecodeSubscriptions
			if tc.events {
				dec = DecodeEvents
			}
			p, err := dec([]byte(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err == nil && (p.Last != tc.last || len(p.Subs) != tc.subs) {
				t.Errorf("last %q subs %d, want %q %d", p.Last, len(p.Subs), tc.last, tc.subs)
			}
		})
	}
}
