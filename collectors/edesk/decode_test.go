package edesk

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

// realisticPage is a ticket page as eDesk's reference documents it
// (created_at as the formatted string real accounts return).
const realisticPage = `{"data":[
{"id":123,"subject":"Where is my order?","type":"OrderQuery","channel_id":1,"status":"Open","sales_order_id":9,
 "external_order_id":5,"created_at":"2026-05-18 09:00:00","last_updated_at":"2026-05-18 10:30:00","owner_user_id":71,
 "custom_fields":[],"time_left_to_reply":3600,"tags_ids":[1,2],"contact_id":44,"messages_ids":[5001,5002,5003],
 "uri":"https://app.edesk.com/tickets/123","replies":1,"ai_classification":"Where is my order"},
{"id":124,"subject":"Broken","type":"DefectiveItemReceived","channel_id":5,"status":"Closed",
 "created_at":1747558800,"last_updated_at":null,"owner_user_id":null,"messages_ids":[],"replies":0}
],"paginator":{"currentPage":1,"itemsPerPage":100,"totalItemsCount":2}}`

func TestDecodePage(t *testing.T) {
	p, err := DecodePage([]byte(realisticPage), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tickets) != 2 || len(p.Rejected) != 0 || !p.Last {
		t.Fatalf("page = %+v", p)
	}
	a := p.Tickets[0]
	want := helpdesk.Ticket{ID: "123", Status: helpdesk.StatusOpen, Priority: "none", Channel: "other", Type: "question", Assignee: "71",
		CreatedAt: time.Date(2026, 5, 18, 9, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 5, 18, 10, 30, 0, 0, time.UTC),
		AgentReplies: 1, Reopens: -1}
	if a.Ticket != want {
		t.Errorf("ticket 123 = %+v\nwant %+v", a.Ticket, want)
	}
	if a.ChannelID != 1 || len(a.MessageIDs) != 3 || a.Fingerprint == "" {
		t.Errorf("listed 123 = %+v", a)
	}
	b := p.Tickets[1]
	if b.Ticket.Status != helpdesk.StatusSolved || b.Ticket.Type != "problem" || b.Ticket.Group != "" ||
		!b.Ticket.CreatedAt.Equal(time.Unix(1747558800, 0)) || !b.Ticket.UpdatedAt.Equal(b.Ticket.CreatedAt) {
		t.Errorf("ticket 124 = %+v", b.Ticket)
	}
	if !p.LastUpdated.Equal(want.UpdatedAt) {
		t.Errorf("LastUpdated = %v", p.LastUpdated)
	}
}

func TestDecodePageRejections(t *testing.T) {
	for _, tc := range []struct {
		name, record, reason string
	}{
		{"unknown status", `{"id":1,"status":"Escalated","created_at":"2026-01-01 00:00:00"}`, "unknown_value"},
		{"no status", `{"id":1,"created_at":"2026-01-01 00:00:00"}`, "missing_field"},
		{"no id", `{"status":"Open","created_at":"2026-01-01 00:00:00"}`, "missing_field"},
		{"no created_at", `{"id":1,"status":"Open"}`, "missing_field"},
		{"bad created_at", `{"id":1,"status":"Open","created_at":"yesterday"}`, "malformed_record"},
		{"bad last_updated_at", `{"id":1,"status":"Open","created_at":"2026-01-01 00:00:00","last_updated_at":true}`, "malformed_record"},
		{"updated before created", `{"id":1,"status":"Open","created_at":"2026-01-02 00:00:00","last_updated_at":"2026-01-01 00:00:00"}`, "inconsistent_time"},
		{"negative replies", `{"id":1,"status":"Open","created_at":"2026-01-01 00:00:00","replies":-1}`, "unknown_value"},
		{"wrong shape", `{"id":"x","status":3}`, "malformed_record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok := `{"id":2,"status":"Pending","created_at":"2026-01-01 00:00:00"}`
			p, err := DecodePage([]byte(`{"data":[`+tc.record+`,`+ok+`]}`), 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Rejected) != 1 || p.Rejected[0].Reason != tc.reason || p.Rejected[0].Err == nil {
				t.Fatalf("rejected = %+v, want one %s", p.Rejected, tc.reason)
			}
			if len(p.Tickets) != 1 || p.Tickets[0].Ticket.ID != "2" {
				t.Errorf("the rest of the page: %+v", p.Tickets)
			}
		})
	}
}

func TestDecodePageErrors(t *testing.T) {
	for _, body := range []string{``, `[]`, `{"data":{}}`, `{"paginator":{}}`, `{"data":[`} {
		if p, err := DecodePage([]byte(body), 100); err == nil {
			t.Errorf("%q: page %+v, want an error", body, p)
		}
	}
}

func TestDecodePageLast(t *testing.T) {
	full := `{"id":1,"status":"Open","created_at":"2026-01-01 00:00:00"}`
	for _, tc := range []struct {
		body string
		per  int
		last bool
	}{
		{`{"data":[` + full + `,` + full + `],"paginator":{"currentPage":1,"itemsPerPage":2,"totalItemsCount":5}}`, 2, false},
		{`{"data":[` + full + `],"paginator":{"currentPage":1,"itemsPerPage":1,"totalItemsCount":5}}`, 100, false},
		{`{"data":[` + full + `,` + full + `],"paginator":{"currentPage":2,"itemsPerPage":2,"totalItemsCount":4}}`, 2, true},
		{`{"data":[` + full + `]}`, 2, true},
		{`{"data":[]}`, 2, true},
		{`{"data":[` + full + `,` + full + `]}`, 2, false},
	} {
		p, err := DecodePage([]byte(tc.body), tc.per)
		if err != nil {
			t.Fatal(err)
		}
		if p.Last != tc.last {
			t.Errorf("%s: last = %v, want %v", tc.body, p.Last, tc.last)
		}
	}
}

func TestMappings(t *testing.T) {
	for kind, want := range map[string]string{"Email": "email", "Gmail": "email", "Chat": "chat", "LiveChat": "chat",
		"Phone": "phone", "Aircall": "phone", "ContactForm": "web", "Facebook": "social", "Instagram": "social",
		"WhatsApp": "social", "Amazon": "other", "eBay": "other", "Shopify": "other", "API": "api", "": "other"} {
		if got := ChannelOf(kind); got != want {
			t.Errorf("ChannelOf(%q) = %q, want %q", kind, got, want)
		}
	}
	for body, want := range map[string]helpdesk.Rating{"Good": helpdesk.RatingGood, " great ": helpdesk.RatingGood, "5": helpdesk.RatingGood,
		"4": helpdesk.RatingGood, "Neutral": helpdesk.RatingNeutral, "3": helpdesk.RatingNeutral, "Bad": helpdesk.RatingBad,
		"not good": helpdesk.RatingBad, "1": helpdesk.RatingBad} {
		if got, ok := RatingOf(body); !ok || got != want {
			t.Errorf("RatingOf(%q) = %v %v, want %v", body, got, ok, want)
		}
	}
	for _, body := range []string{"", "0", "6", "meh", "-1"} {
		if _, ok := RatingOf(body); ok {
			t.Errorf("RatingOf(%q) accepted", body)
		}
	}
	for label, want := range map[string]string{"Incident": "incident", "OrderQuery": "question", "Refund": "task",
		"WrongItemReceived": "problem", "SystemMessage": "none"} {
		if got := TypeOf(label); got != want {
			t.Errorf("TypeOf(%q) = %q, want %q", label, got, want)
		}
	}
}

func TestDecodeItem(t *testing.T) {
	it, err := DecodeItem([]byte(`{"data":{"id":5002,"external_id":"","subject":"s","created_at":"2026-05-18 09:30:00",
		"from_user":{"id":7,"name":"A"},"type":"Message","attachments":[],"direction":"Outgoing","body":"hi","errors":[],"ticket_id":123}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !it.AgentReply() || !it.CreatedAt.Equal(time.Date(2026, 5, 18, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("item = %+v", it)
	}
	for _, body := range []string{`{}`, `{"data":{"type":"Message"}}`, `{"data":{"created_at":"soon"}}`, `[`} {
		if _, err := DecodeItem([]byte(body)); err == nil || !strings.Contains(err.Error(), "item") {
			t.Errorf("%s: err = %v", body, err)
		}
	}
}
