package paddle

import (
	"testing"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
)

var rejectionReasons = map[string]bool{"malformed_record": true, "missing_field": true, "unknown_value": true, "negative_value": true}

func fuzzDiscount(id string) (Discount, bool) {
	switch id {
	case "pct":
		return Discount{Type: "percentage", Amount: "150", Recur: true}, true
	case "flat":
		return Discount{Type: "flat_per_seat", Amount: "-5", CurrencyCode: "USD"}, true
	}
	return Discount{}, false
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(page(sub(""))), false)
	f.Add([]byte(page(sub(`"discount":{"id":"pct"}`), sub(`"discount":{"id":"flat","ends_at":"x"}`))), false)
	f.Add([]byte(page(sub(`"status":"canceled","canceled_at":"2020-01-01T00:00:00Z","items":[{"quantity":-3,"recurring":true,"price":{"billing_cycle":{"interval":"fortnight","frequency":-1},"unit_price":{"amount":"-1","currency_code":"usd"}}}]`))), false)
	f.Add([]byte(page(`{"event_id":"evt_1","event_type":"subscription.canceled","data":`+sub("")+`}`, `{"event_id":"evt_2","event_type":"subscription.updated","data":null}`)), true)
	f.Add([]byte(`{"data":null,"meta":{}}`), true)
	f.Add([]byte(`null`), false)
	f.Fuzz(func(t *testing.T, body []byte, events bool) {
		dec := DecodeSubscriptions
		if events {
			dec = DecodeEvents
		}
		p, err := dec(body)
		if err != nil {
			if p != nil {
				t.Fatalf("page returned with error %v", err)
			}
			return
		}
		if p.HasMore && p.Last == "" {
			t.Error("has_more without a last id accepted")
		}
		for _, r := range p.Rejected {
			if !rejectionReasons[r.Reason] || r.Err == nil {
				t.Errorf("rejection %+v", r)
			}
		}
		for _, ps := range p.Subs {
			s, rj := ps.Canonical(fuzzDiscount)
			if rj != nil {
				if !rejectionReasons[rj.Reason] || rj.Err == nil {
					t.Errorf("rejection %+v", rj)
				}
				continue
			}
			if !s.Status.Valid() || s.UpdatedAt.IsZero() || s.VendorMRRMinor != -1 {
				t.Errorf("accepted %+v", s)
			}
			if s.CancelAtPeriodEnd && s.Status == billing.StatusCanceled {
				t.Errorf("canceled subscription %q cancelling at period end", s.ID)
			}
			// The engine takes whatever the decoder produced without
			// panicking: valid, or an InvalidError.
			if _, _, _, err := billing.Apply(nil, nil, &s, billing.Rules{}); err != nil && s.Validate() == nil {
				t.Errorf("Apply refused what Validate accepts: %v", err)
			}
		}
	})
}
