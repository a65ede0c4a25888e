package stripe

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
)

// stubLookup resolves discounts and coupons from maps.
type stubLookup struct{ discounts, coupons map[string]billing.Discount }

func (s stubLookup) discount(id string) (billing.Discount, bool) {
	d, ok := s.discounts[id]
	return d, ok
}
func (s stubLookup) coupon(id string) (billing.Discount, bool) { d, ok := s.coupons[id]; return d, ok }

var noLookup = stubLookup{}

// sub builds a subscription JSON from a base with overrides.
func subJSON(over map[string]any) json.RawMessage {
	m := map[string]any{
		"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active", "currency": "usd",
		"created": 1700000000, "canceled_at": nil, "ended_at": nil, "cancel_at_period_end": false,
		"cancellation_details": map[string]any{"reason": nil},
		"items": map[string]any{"object": "list", "has_more": false, "data": []any{
			map[string]any{"id": "si_1", "quantity": 2, "price": map[string]any{
				"id": "price_1", "product": "prod_pro", "nickname": "Pro", "currency": "usd", "unit_amount": 4900,
				"unit_amount_decimal": "4900", "recurring": map[string]any{"interval": "month", "interval_count": 1, "usage_type": "licensed"}}},
		}},
		"discounts": []any{},
	}
	for k, v := range over {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

func item(id string, qty any, price map[string]any) map[string]any {
	m := map[string]any{"id": id, "price": price}
	if qty != nil {
		m["quantity"] = qty
	}
	return m
}

func price(product string, amount any, interval string, count int, usage string) map[string]any {
	return map[string]any{"id": "price_" + product, "product": product, "currency": "usd", "unit_amount": amount,
		"recurring": map[string]any{"interval": interval, "interval_count": count, "usage_type": usage}}
}

func items(its ...map[string]any) map[string]any {
	data := make([]any, len(its))
	for i, it := range its {
		data[i] = it
	}
	return map[string]any{"object": "list", "has_more": false, "data": data}
}

func TestMapping(t *testing.T) {
	updated := time.Unix(1700001000, 0).UTC()
	base := billing.Subscription{ID: "sub_1", Customer: "cus_1", Status: billing.StatusActive, Plan: "prod_pro", Currency: "usd",
		VendorMRRMinor: -1, CreatedAt: time.Unix(1700000000, 0).UTC(), UpdatedAt: updated,
		Items: []billing.Item{{PriceID: "price_1", UnitAmountMinor: 4900, UnitAmountDecimal: "4900", Quantity: 2, Interval: "month", IntervalCount: 1, Currency: "usd"}}}
	forever20 := billing.Discount{PercentOff: 20, Duration: "forever"}
	tests := []struct {
		name    string
		raw     json.RawMessage
		look    stubLookup
		want    func(s *billing.Subscription)
		mrr     int64  // expected MRRMinor when want is set
		reject  string // expected reject reason
		rejects string // substring of the error
	}{
		{name: "active monthly", raw: subJSON(nil), want: func(*billing.Subscription) {}, mrr: 9800},
		{name: "customer expanded", raw: subJSON(map[string]any{"customer": map[string]any{"id": "cus_1", "object": "customer"}}), want: func(*billing.Subscription) {}, mrr: 9800},
		{name: "incomplete_expired is ended", raw: subJSON(map[string]any{"status": "incomplete_expired", "ended_at": 1700000500}),
			want: func(s *billing.Subscription) {
				s.Status, s.EndedAt = billing.StatusEnded, time.Unix(1700000500, 0).UTC()
			}},
		{name: "each status", raw: subJSON(map[string]any{"status": "past_due"}), want: func(s *billing.Subscription) { s.Status = billing.StatusPastDue }, mrr: 9800},
		{name: "trialing counts zero", raw: subJSON(map[string]any{"status": "trialing"}), want: func(s *billing.Subscription) { s.Status = billing.StatusTrialing }},
		{name: "unknown status", raw: subJSON(map[string]any{"status": "frozen"}), reject: "unknown_value"},
		{name: "payment_failed is involuntary", raw: subJSON(map[string]any{"status": "canceled", "canceled_at": 1700000600,
			"cancellation_details": map[string]any{"reason": "payment_failed"}}),
			want: func(s *billing.Subscription) {
				s.Status, s.CanceledAt, s.CancelReason = billing.StatusCanceled, time.Unix(1700000600, 0).UTC(), billing.ReasonInvoluntary
			}},
		{name: "payment_disputed is involuntary", raw: subJSON(map[string]any{"cancellation_details": map[string]any{"reason": "payment_disputed"}}),
			want: func(s *billing.Subscription) { s.CancelReason = billing.ReasonInvoluntary }, mrr: 9800},
		{name: "cancellation_requested is voluntary, at period end", raw: subJSON(map[string]any{"cancel_at_period_end": true,
			"cancellation_details": map[string]any{"reason": "cancellation_requested"}}),
			want: func(s *billing.Subscription) { s.CancelReason, s.CancelAtPeriodEnd = billing.ReasonVoluntary, true }, mrr: 9800},
		{name: "unknown reason", raw: subJSON(map[string]any{"cancellation_details": map[string]any{"reason": "bored"}}), reject: "unknown_value"},
		{name: "yearly, metered and one-off items", raw: subJSON(map[string]any{"items": items(
			item("si_a", 1, price("prod_y", 120000, "year", 1, "licensed")),
			item("si_b", nil, price("prod_m", nil, "month", 1, "metered")),
			item("si_c", 1, map[string]any{"id": "price_once", "product": "prod_setup", "currency": "usd", "unit_amount": 5000, "recurring": nil}),
		)}), want: func(s *billing.Subscription) {
			s.Plan = "prod_y"
			s.Items = []billing.Item{
				{PriceID: "price_prod_y", UnitAmountMinor: 120000, Quantity: 1, Interval: "year", IntervalCount: 1, Currency: "usd"},
				{PriceID: "price_prod_m", Quantity: 1, Interval: "month", IntervalCount: 1, Metered: true, Currency: "usd"},
			}
		}, mrr: 10000},
		{name: "weekly every 2 weeks, decimal amount", raw: subJSON(map[string]any{"items": items(
			item("si_a", 3, map[string]any{"id": "price_w", "product": "prod_w", "currency": "usd", "unit_amount": nil, "unit_amount_decimal": "100.5",
				"recurring": map[string]any{"interval": "week", "interval_count": 2, "usage_type": "licensed"}}),
		)}), want: func(s *billing.Subscription) {
			s.Plan = "prod_w"
			s.Items = []billing.Item{{PriceID: "price_w", UnitAmountDecimal: "100.5", Quantity: 3, Interval: "week", IntervalCount: 2, Currency: "usd"}}
		}, mrr: 653}, // 100.5 × 3 × 52/12 / 2 = 653.25
		{name: "tiered price without amount", raw: subJSON(map[string]any{"items": items(item("si_a", 1, price("prod_t", nil, "month", 1, "licensed")))}), reject: "missing_field"},
		{name: "item without price", raw: subJSON(map[string]any{"items": items(map[string]any{"id": "si_x", "quantity": 1})}), reject: "missing_field"},
		{name: "basil discount, coupon expanded at source.coupon", raw: subJSON(map[string]any{"discounts": []any{
			map[string]any{"id": "di_1", "object": "discount", "source": map[string]any{"type": "coupon",
				"coupon": map[string]any{"id": "F20", "percent_off": 20, "duration": "forever", "amount_off": nil, "currency": nil}}}}}),
			want: func(s *billing.Subscription) { s.Discounts = []billing.Discount{forever20} }, mrr: 7840},
		{name: "discount with coupon at discount.coupon", raw: subJSON(map[string]any{"discounts": []any{
			map[string]any{"id": "di_1", "object": "discount", "coupon": map[string]any{"id": "OFF10", "amount_off": 1000, "currency": "usd", "duration": "forever"}}}}),
			want: func(s *billing.Subscription) {
				s.Discounts = []billing.Discount{{AmountOffMinor: 1000, Currency: "usd", Duration: "forever"}}
			}, mrr: 8800},
		{name: "coupon as id, looked up", raw: subJSON(map[string]any{"discounts": []any{
			map[string]any{"id": "di_1", "object": "discount", "source": map[string]any{"type": "coupon", "coupon": "F20"}}}}),
			look: stubLookup{coupons: map[string]billing.Discount{"F20": forever20}},
			want: func(s *billing.Subscription) { s.Discounts = []billing.Discount{forever20} }, mrr: 7840},
		{name: "discount as id (events), looked up", raw: subJSON(map[string]any{"discounts": []any{"di_1"}}),
			look: stubLookup{discounts: map[string]billing.Discount{"di_1": {PercentOff: 50, Duration: "once"}}},
			want: func(s *billing.Subscription) { s.Discounts = []billing.Discount{{PercentOff: 50, Duration: "once"}} }, mrr: 9800},
		{name: "discount id unknown", raw: subJSON(map[string]any{"discounts": []any{"di_9"}}), reject: "missing_field"},
		{name: "legacy discount", raw: subJSON(map[string]any{"discounts": nil, "discount": map[string]any{"id": "di_old",
			"coupon": map[string]any{"id": "R", "percent_off": 25, "duration": "repeating"}}}),
			want: func(s *billing.Subscription) {
				s.Discounts = []billing.Discount{{PercentOff: 25, Duration: "repeating"}}
			}, mrr: 9800},
		{name: "missing created", raw: subJSON(map[string]any{"created": nil}), reject: "missing_field"},
		{name: "missing id", raw: subJSON(map[string]any{"id": nil}), reject: "missing_field"},
		{name: "not a subscription", raw: subJSON(map[string]any{"object": "charge"}), reject: "malformed_record"},
		{name: "wrong type", raw: subJSON(map[string]any{"created": "yesterday"}), reject: "malformed_record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, rj := decodeSubscription(tc.raw)
			var got billing.Subscription
			if rj == nil {
				p.updatedAt = updated
				got, rj = p.toCanonical(tc.look)
			}
			if tc.reject != "" {
				if rj == nil || rj.Reason != tc.reject {
					t.Fatalf("got reject %+v, want reason %s", rj, tc.reject)
				}
				return
			}
			if rj != nil {
				t.Fatalf("rejected: %s %v", rj.Reason, rj.Err)
			}
			want := base
			want.Items = append([]billing.Item(nil), base.Items...)
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if m, _ := got.MRRMinor(); m != tc.mrr {
				t.Errorf("MRR = %d, want %d", m, tc.mrr)
			}
		})
	}
}

func TestDecodeList(t *testing.T) {
	for _, tc := range []struct{ body, err string }{
		{`{"object":"list","data":[],"has_more":false,"url":"/v1/subscriptions"}`, ""},
		{`{"object":"list","data":[{"id":"sub_1"}],"has_more":true}`, ""},
		{`{"object":"subscription","id":"sub_1"}`, "not a list"},
		{`{"object":"list","data":[]}`, "has_more"},
		{`{"error":{"message":"x"}}`, "not a list"},
		{`[`, "decoding"},
	} {
		_, err := decodeList([]byte(tc.body))
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: err %v, want %q", tc.body, err, tc.err)
		}
	}
}

// FuzzDecodePage feeds arbitrary bytes through the page decoder and the
// mapping: nothing panics, and whatever is accepted either validates or
// is rejected by the engine with an InvalidError.
func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"object":"list","has_more":false,"data":[` + string(subJSON(nil)) + `]}`))
	f.Add([]byte(`{"object":"list","has_more":true,"data":[` + string(subJSON(map[string]any{"discounts": []any{"di_1",
		map[string]any{"id": "di_2", "source": map[string]any{"coupon": map[string]any{"id": "c", "percent_off": 101, "duration": "forever"}}}}})) + `]}`))
	f.Add([]byte(`{"object":"list","has_more":false,"data":[{"id":"evt_1","type":"customer.subscription.updated","created":1,"data":{"object":{"id":"s","items":{"data":[{"price":{"unit_amount_decimal":"1e9"}}]}}}}]}`))
	f.Add([]byte(`{"object":"list","has_more":false,"data":[null,1,"x",{"customer":{"id":7}}]}`))
	look := stubLookup{discounts: map[string]billing.Discount{"di_1": {PercentOff: 10, Duration: "forever"}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := decodeList(b)
		if err != nil {
			return
		}
		for _, raw := range l.Data {
			obj := raw
			var ev eventJSON
			if json.Unmarshal(raw, &ev) == nil && len(ev.Data.Object) > 0 {
				obj = ev.Data.Object
			}
			p, rj := decodeSubscription(obj)
			if rj != nil {
				if rj.Reason == "" {
					t.Fatal("reject without reason")
				}
				continue
			}
			s, rj := p.toCanonical(look)
			if rj != nil {
				continue
			}
			if err := s.Validate(); err != nil {
				var inv *billing.InvalidError
				if !asInvalid(err, &inv) {
					t.Fatalf("Validate returned %T %v, want an InvalidError", err, err)
				}
			}
		}
	})
}

func asInvalid(err error, target **billing.InvalidError) bool {
	e, ok := err.(*billing.InvalidError)
	if ok {
		*target = e
	}
	return ok
}
