package chargebee

import (
	"encoding/json"
	"testing"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
)

var rejectionReasons = map[string]bool{"malformed_record": true, "missing_field": true, "unknown_value": true, "negative_value": true}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(realisticPage))
	f.Add([]byte(realisticPage[:len(realisticPage)*2/3]))
	f.Add([]byte(`{"list":[]}`))
	f.Add([]byte(`{"list":[],"next_offset":"[\"1\",\"2\"]"}`))
	f.Add([]byte(entry(base + `,"status":"active","plan_id":"p","plan_quantity":-2,"plan_unit_price":9223372036854775807,` +
		`"billing_period":0,"billing_period_unit":"fortnight","addons":[{"id":"a","quantity":3}]`)))
	f.Add([]byte(entry(base + `,"status":"non_renewing","mrr":1000000000000000000,"resource_version":-1,"cancelled_at":1`)))
	f.Add([]byte(`{"list":[{"subscription":{"id":"x","status":"cancelled","deleted":true,"updated_at":-5,"created_at":99999999999999,` +
		`"subscription_items":[{"item_type":"charge"},{"metered_quantity":null,"billing_period":-1}]}},null,{},` +
		`{"subscription":null},{"subscription":{"id":{"a":1}}}],"next_offset":12.5}`))
	f.Add([]byte(`{"list":null}`))
	f.Add([]byte(`null`))

	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if err != nil {
			if p != nil {
				t.Fatalf("page returned with error %v", err)
			}
			return
		}
		if p == nil {
			t.Fatal("nil page without error")
		}
		var raw struct {
			List []json.RawMessage `json:"list"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("DecodePage accepted a body json rejects: %v", err)
		}
		// Every record is either decoded or rejected, once.
		if n := len(p.Subscriptions) + len(p.Rejected); n != len(raw.List) {
			t.Errorf("%d subscriptions + %d rejections from %d records", len(p.Subscriptions), len(p.Rejected), len(raw.List))
		}
		if p.MaxUpdatedAt < 0 {
			t.Errorf("negative max updated_at %d", p.MaxUpdatedAt)
		}
		for _, r := range p.Rejected {
			if !rejectionReasons[r.Reason] || r.Err == nil {
				t.Errorf("rejection %+v", r)
			}
		}
		for i := range p.Subscriptions {
			s := &p.Subscriptions[i]
			if !s.Status.Valid() {
				t.Errorf("subscription %q with status %q accepted", s.ID, s.Status)
			}
			if s.VendorMRRMinor < -1 {
				t.Errorf("subscription %q with vendor MRR %d", s.ID, s.VendorMRRMinor)
			}
			if s.VendorMRRMinor >= 0 && s.Items != nil {
				t.Errorf("subscription %q has items and a vendor MRR", s.ID)
			}
			if s.CancelAtPeriodEnd && s.Status != billing.StatusActive {
				t.Errorf("subscription %q cancelling at period end in status %q", s.ID, s.Status)
			}
			// The engine must take whatever the decoder produced without
			// panicking: valid, or an InvalidError.
			if _, _, _, err := billing.Apply(nil, nil, s, billing.Rules{}); err != nil {
				if s.Validate() == nil {
					t.Errorf("Apply refused what Validate accepts: %v", err)
				}
			}
		}
	})
}
