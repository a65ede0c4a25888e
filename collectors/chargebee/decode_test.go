package chargebee

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
)

// realisticPage is shaped like a real list answer (product catalog 2.0),
// trimmed of fields the collector does not read.
const realisticPage = `{
  "list": [
    {
      "subscription": {
        "id": "AzZlGJTmwJw8N1Ezw", "customer_id": "AzZlGJTmwJw7b1Ezs", "status": "active",
        "currency_code": "USD", "billing_period": 1, "billing_period_unit": "month",
        "current_term_start": 1700000000, "current_term_end": 1702592000, "next_billing_at": 1702592000,
        "created_at": 1700000000, "started_at": 1700000000, "activated_at": 1700000000,
        "updated_at": 1700000123, "resource_version": 1700000123456, "has_scheduled_changes": false,
        "channel": "web", "object": "subscription", "deleted": false, "auto_collection": "on",
        "due_invoices_count": 0, "mrr": 4900,
        "subscription_items": [
          {"item_price_id": "pro-USD-Monthly", "item_type": "plan", "quantity": 1, "unit_price": 4900,
           "amount": 4900, "free_quantity": 0, "object": "subscription_item"},
          {"item_price_id": "setup-USD", "item_type": "charge", "quantity": 1, "unit_price": 10000,
           "amount": 10000, "charge_on_event": "subscription_creation", "charge_once": true, "object": "subscription_item"}
        ]
      },
      "customer": {"id": "AzZlGJTmwJw7b1Ezs", "auto_collection": "on", "net_term_days": 0, "allow_direct_debit": false,
                   "created_at": 1700000000, "taxability": "taxable", "updated_at": 1700000000, "deleted": false, "object": "customer"}
    },
    {
      "subscription": {
        "id": "16CRibTmwJxm22Ck", "customer_id": "16CRibTmwJxl02Cg", "status": "non_renewing",
        "currency_code": "EUR", "billing_period": 1, "billing_period_unit": "year",
        "created_at": 1690000000, "started_at": 1690000000, "activated_at": 1690000000,
        "cancelled_at": 1721536000, "updated_at": 1700000200, "resource_version": 1700000200001,
        "object": "subscription", "deleted": false, "mrr": 10000,
        "subscription_items": [
          {"item_price_id": "team-EUR-Yearly", "item_type": "plan", "quantity": 4, "unit_price": 30000,
           "amount": 120000, "object": "subscription_item"}
        ]
      },
      "customer": {"id": "16CRibTmwJxl02Cg", "object": "customer", "deleted": false}
    }
  ],
  "next_offset": "[\"1700000200001\",\"275000000\"]"
}`

func TestDecodeRealisticPage(t *testing.T) {
	p, err := DecodePage([]byte(realisticPage))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rejected) != 0 || len(p.Subscriptions) != 2 {
		t.Fatalf("got %d subscriptions, rejections %+v", len(p.Subscriptions), p.Rejected)
	}
	if p.NextOffset != `["1700000200001","275000000"]` {
		t.Errorf("next offset %q", p.NextOffset)
	}
	if p.MaxUpdatedAt != 1700000200 {
		t.Errorf("max updated_at %d", p.MaxUpdatedAt)
	}
	a, b := p.Subscriptions[0], p.Subscriptions[1]
	if a.ID != "AzZlGJTmwJw8N1Ezw" || a.Customer != "AzZlGJTmwJw7b1Ezs" || a.Status != billing.StatusActive ||
		a.Currency != "usd" || a.Plan != "pro-USD-Monthly" || a.VendorMRRMinor != 4900 || a.Items != nil {
		t.Errorf("first: %+v", a)
	}
	if !a.CreatedAt.Equal(time.Unix(1700000000, 0)) || !a.UpdatedAt.Equal(time.UnixMilli(1700000123456)) {
		t.Errorf("first times: created %v updated %v", a.CreatedAt, a.UpdatedAt)
	}
	if b.Status != billing.StatusActive || !b.CancelAtPeriodEnd || !b.CanceledAt.IsZero() || !b.EndedAt.IsZero() || b.Currency != "eur" {
		t.Errorf("non_renewing: %+v", b)
	}
	for i := range p.Subscriptions {
		if err := p.Subscriptions[i].Validate(); err != nil {
			t.Errorf("%s: %v", p.Subscriptions[i].ID, err)
		}
	}
}

// entry wraps a subscription object's JSON fields in a one-record page.
func entry(fields string) string {
	return `{"list":[{"subscription":{` + fields + `},"customer":{"id":"cus_from_customer","object":"customer"}}]}`
}

const base = `"id":"sub_1","customer_id":"cus_1","currency_code":"USD","created_at":1700000000,"updated_at":1700000500`

func TestMapping(t *testing.T) {
	created := time.Unix(1700000000, 0).UTC()
	updated := time.Unix(1700000500, 0).UTC()
	tests := []struct {
		name   string
		fields string
		want   func(t *testing.T, s *billing.Subscription)
		mrr    int64 // MRRMinor(), checked when >= 0
		reject string
	}{
		{name: "future is incomplete", fields: base + `,"status":"future","mrr":0`,
			want: func(t *testing.T, s *billing.Subscription) { wantStatus(t, s, billing.StatusIncomplete) }, mrr: 0},
		{name: "in_trial is trialing", fields: base + `,"status":"in_trial","mrr":0`,
			want: func(t *testing.T, s *billing.Subscription) { wantStatus(t, s, billing.StatusTrialing) }, mrr: 0},
		{name: "active with vendor mrr", fields: base + `,"status":"active","mrr":2500,"subscription_items":[{"item_price_id":"basic-USD-Monthly","item_type":"plan","quantity":1,"unit_price":9900,"billing_period":1,"billing_period_unit":"month"}]`,
			want: func(t *testing.T, s *billing.Subscription) {
				wantStatus(t, s, billing.StatusActive)
				if s.VendorMRRMinor != 2500 || s.Items != nil || s.Plan != "basic-USD-Monthly" || s.CancelAtPeriodEnd {
					t.Errorf("%+v", s)
				}
				if !s.CreatedAt.Equal(created) || !s.UpdatedAt.Equal(updated) || s.Currency != "usd" || s.Customer != "cus_1" {
					t.Errorf("%+v", s)
				}
			}, mrr: 2500},
		{name: "non_renewing is active, cancelling at period end", fields: base + `,"status":"non_renewing","mrr":1000,"cancelled_at":1800000000`,
			want: func(t *testing.T, s *billing.Subscription) {
				wantStatus(t, s, billing.StatusActive)
				if !s.CancelAtPeriodEnd || !s.CanceledAt.IsZero() {
					t.Errorf("%+v", s)
				}
			}, mrr: 1000},
		{name: "paused", fields: base + `,"status":"paused","mrr":1000`,
			want: func(t *testing.T, s *billing.Subscription) { wantStatus(t, s, billing.StatusPaused) }, mrr: 0},
		{name: "cancelled not_paid is involuntary", fields: base + `,"status":"cancelled","mrr":0,"cancelled_at":1700000400,"cancel_reason":"not_paid"`,
			want: func(t *testing.T, s *billing.Subscription) {
				wantStatus(t, s, billing.StatusCanceled)
				at := time.Unix(1700000400, 0)
				if s.CancelReason != billing.ReasonInvoluntary || !s.CanceledAt.Equal(at) || !s.EndedAt.Equal(at) {
					t.Errorf("%+v", s)
				}
			}, mrr: 0},
		{name: "cancelled no_card is involuntary", fields: base + `,"status":"cancelled","cancelled_at":1700000400,"cancel_reason":"no_card"`,
			want: func(t *testing.T, s *billing.Subscription) {
				if s.CancelReason != billing.ReasonInvoluntary {
					t.Errorf("reason %q", s.CancelReason)
				}
			}},
		{name: "cancelled for another reason is voluntary", fields: base + `,"status":"cancelled","cancelled_at":1700000400,"cancel_reason":"tax_calculation_failed"`,
			want: func(t *testing.T, s *billing.Subscription) {
				if s.CancelReason != billing.ReasonVoluntary {
					t.Errorf("reason %q", s.CancelReason)
				}
			}},
		{name: "cancelled without reason", fields: base + `,"status":"cancelled","cancelled_at":1700000400`,
			want: func(t *testing.T, s *billing.Subscription) {
				if s.CancelReason != "" {
					t.Errorf("reason %q", s.CancelReason)
				}
			}},
		{name: "deleted is ended", fields: base + `,"status":"active","mrr":1000,"deleted":true`,
			want: func(t *testing.T, s *billing.Subscription) {
				wantStatus(t, s, billing.StatusEnded)
				if !s.EndedAt.Equal(updated) || s.CancelAtPeriodEnd {
					t.Errorf("%+v", s)
				}
			}, mrr: 0},
		{name: "deleted with unknown status is ended", fields: base + `,"status":"transferred","deleted":true`,
			want: func(t *testing.T, s *billing.Subscription) { wantStatus(t, s, billing.StatusEnded) }},
		{name: "computed from items", fields: base + `,"status":"active","subscription_items":[
			{"item_price_id":"seat-USD-Monthly","item_type":"plan","quantity":3,"unit_price":1000,"amount":3000,"billing_period":1,"billing_period_unit":"month"},
			{"item_price_id":"support-USD-Yearly","item_type":"addon","quantity":1,"unit_price":1200,"billing_period":1,"billing_period_unit":"year"},
			{"item_price_id":"api-USD-Weekly","item_type":"addon","quantity":2,"unit_price":300,"billing_period":2,"billing_period_unit":"week"},
			{"item_price_id":"usage-USD-Monthly","item_type":"addon","unit_price":5,"metered_quantity":"1000","billing_period":1,"billing_period_unit":"month"},
			{"item_price_id":"onboarding-USD","item_type":"charge","quantity":1,"unit_price":50000}]`,
			want: func(t *testing.T, s *billing.Subscription) {
				if s.VendorMRRMinor != -1 || len(s.Items) != 4 || s.Plan != "seat-USD-Monthly" || !s.Items[3].Metered {
					t.Errorf("%+v", s)
				}
			},
			// 3000 + 1200/12 + 600·(52/12)/2 = 3000 + 100 + 1300
			mrr: 4400},
		{name: "addon before plan: plan label is the plan item", fields: base + `,"status":"active","subscription_items":[
			{"item_price_id":"extra-USD","item_type":"addon","quantity":1,"unit_price":100,"billing_period":1,"billing_period_unit":"month"},
			{"item_price_id":"core-USD","item_type":"plan","quantity":1,"unit_price":900,"billing_period":1,"billing_period_unit":"month"}]`,
			want: func(t *testing.T, s *billing.Subscription) {
				if s.Plan != "core-USD" {
					t.Errorf("plan %q", s.Plan)
				}
			}, mrr: 1000},
		{name: "tiered item priced by amount", fields: base + `,"status":"active","subscription_items":[
			{"item_price_id":"tiered-USD","item_type":"plan","quantity":40,"amount":4500,"billing_period":1,"billing_period_unit":"month"}]`,
			want: func(t *testing.T, s *billing.Subscription) {}, mrr: 4500},
		{name: "item without its own period uses the subscription's", fields: base + `,"status":"active","billing_period":3,"billing_period_unit":"month","subscription_items":[
			{"item_price_id":"q-USD","item_type":"plan","quantity":1,"unit_price":3000}]`,
			want: func(t *testing.T, s *billing.Subscription) {}, mrr: 1000},
		{name: "product catalog 1.0 plan and addons", fields: base + `,"status":"active","plan_id":"startup","plan_quantity":2,"plan_unit_price":1200,
			"billing_period":3,"billing_period_unit":"month","addons":[{"id":"extra-storage","quantity":1,"unit_price":300}]`,
			want: func(t *testing.T, s *billing.Subscription) {
				if s.Plan != "startup" || len(s.Items) != 2 {
					t.Errorf("%+v", s)
				}
			},
			// (2·1200 + 300) / 3
			mrr: 900},
		{name: "customer from the customer object", fields: `"id":"sub_1","currency_code":"USD","status":"active","mrr":10,"created_at":1700000000,"updated_at":1700000500`,
			want: func(t *testing.T, s *billing.Subscription) {
				if s.Customer != "cus_from_customer" {
					t.Errorf("customer %q", s.Customer)
				}
			}, mrr: 10},
		{name: "created_at falls back to started_at", fields: `"id":"sub_1","customer_id":"c","currency_code":"USD","status":"active","mrr":10,"started_at":1600000000,"updated_at":1700000500`,
			want: func(t *testing.T, s *billing.Subscription) {
				if !s.CreatedAt.Equal(time.Unix(1600000000, 0)) {
					t.Errorf("created %v", s.CreatedAt)
				}
			}, mrr: 10},
		{name: "resource_version refines updated_at", fields: base + `,"status":"active","mrr":10,"resource_version":1700000500789`,
			want: func(t *testing.T, s *billing.Subscription) {
				if !s.UpdatedAt.Equal(time.UnixMilli(1700000500789)) {
					t.Errorf("updated %v", s.UpdatedAt)
				}
			}, mrr: 10},
		{name: "resource_version of another shape is ignored", fields: base + `,"status":"active","mrr":10,"resource_version":7`,
			want: func(t *testing.T, s *billing.Subscription) {
				if !s.UpdatedAt.Equal(updated) {
					t.Errorf("updated %v", s.UpdatedAt)
				}
			}, mrr: 10},
		{name: "unknown status", fields: base + `,"status":"transferred"`, reject: "unknown_value"},
		{name: "missing status", fields: base, reject: "missing_field"},
		{name: "negative mrr", fields: base + `,"status":"active","mrr":-5`, reject: "negative_value"},
		{name: "wrong type", fields: base + `,"status":"active","mrr":"lots"`, reject: "malformed_record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte(entry(tc.fields)))
			if err != nil {
				t.Fatal(err)
			}
			if p.MaxUpdatedAt != 1700000500 {
				t.Errorf("max updated_at %d", p.MaxUpdatedAt)
			}
			if tc.reject != "" {
				if len(p.Rejected) != 1 || len(p.Subscriptions) != 0 {
					t.Fatalf("want one rejection, got %+v / %+v", p.Rejected, p.Subscriptions)
				}
				if r := p.Rejected[0]; r.Reason != tc.reject || r.ID != "sub_1" || r.Err == nil {
					t.Errorf("rejection %+v", r)
				}
				return
			}
			if len(p.Rejected) != 0 || len(p.Subscriptions) != 1 {
				t.Fatalf("rejections %+v", p.Rejected)
			}
			s := &p.Subscriptions[0]
			tc.want(t, s)
			if err := s.Validate(); err != nil {
				t.Fatalf("invalid: %v", err)
			}
			if tc.mrr >= 0 {
				if m, err := s.MRRMinor(); err != nil || m != tc.mrr {
					t.Errorf("MRRMinor() = %d, %v; want %d", m, err, tc.mrr)
				}
			}
		})
	}
}

func wantStatus(t *testing.T, s *billing.Subscription, st billing.Status) {
	t.Helper()
	if s.Status != st {
		t.Errorf("status %q, want %q", s.Status, st)
	}
}

func TestDecodeUnknownStatusRestOfPageContinues(t *testing.T) {
	body := `{"list":[
		{"subscription":{"id":"a","customer_id":"c1","status":"active","currency_code":"USD","mrr":100,"created_at":1,"updated_at":10}},
		{"subscription":{"id":"b","customer_id":"c2","status":"gifted","currency_code":"USD","created_at":1,"updated_at":30}},
		{"subscription":{"id":"c","customer_id":"c3","status":"in_trial","currency_code":"USD","created_at":1,"updated_at":20}},
		{"customer":{"id":"c4"}},
		null
	]}`
	p, err := DecodePage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Subscriptions) != 2 || p.Subscriptions[0].ID != "a" || p.Subscriptions[1].ID != "c" {
		t.Errorf("subscriptions %+v", p.Subscriptions)
	}
	if len(p.Rejected) != 3 || p.Rejected[0].ID != "b" || p.Rejected[0].Reason != "unknown_value" {
		t.Errorf("rejections %+v", p.Rejected)
	}
	// The rejected record still moves the cursor.
	if p.MaxUpdatedAt != 30 || p.NextOffset != "" {
		t.Errorf("max %d offset %q", p.MaxUpdatedAt, p.NextOffset)
	}
}

func TestDecodePageErrors(t *testing.T) {
	for _, body := range []string{``, `null`, `{}`, `{"list":null}`, `[]`, `{"list":[],"next_offset":{}}`, `{"list":[`,
		`{"list":{"subscription":{}}}`} {
		if p, err := DecodePage([]byte(body)); err == nil || p != nil {
			t.Errorf("%q: page %+v, err %v", body, p, err)
		}
	}
	for body, off := range map[string]string{
		`{"list":[]}`:                       "",
		`{"list":[],"next_offset":null}`:    "",
		`{"list":[],"next_offset":""}`:      "",
		`{"list":[],"next_offset":"abc"}`:   "abc",
		`{"list":[],"next_offset":1234567}`: "1234567",
	} {
		p, err := DecodePage([]byte(body))
		if err != nil || p.NextOffset != off {
			t.Errorf("%s: %+v %v, want offset %q", body, p, err, off)
		}
	}
}

func TestRecordIDOfMalformedRecord(t *testing.T) {
	p, err := DecodePage([]byte(`{"list":[{"subscription":{"id":12345,"updated_at":5}},{"subscription":{"id":"x","mrr":1.5}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rejected) != 2 || p.Rejected[0].ID != "12345" || p.Rejected[1].ID != "x" || !strings.Contains(p.Rejected[1].Reason, "malformed") {
		t.Errorf("%+v", p.Rejected)
	}
	if p.MaxUpdatedAt != 5 {
		t.Errorf("max %d", p.MaxUpdatedAt)
	}
}
