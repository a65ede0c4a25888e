package freshdesk

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

const baseTicket = `{"id": 7, "status": 2, "priority": 2, "source": 1, "type": "Question", "group_id": 42,
 "created_at": "2026-03-02T10:00:00Z", "updated_at": "2026-03-02T12:00:00Z",
 "stats": {"first_responded_at": null, "agent_responded_at": null, "requester_responded_at": null,
  "status_updated_at": null, "reopened_at": null, "resolved_at": null, "closed_at": null, "pending_since": null}}`

// with replaces top-level fields of baseTicket.
func with(kv ...string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(baseTicket), &m); err != nil {
		panic(err)
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "-" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = json.RawMessage(kv[i+1])
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestDecodeTicket(t *testing.T) {
	created := mustTime("2026-03-02T10:00:00Z")
	base := helpdesk.Ticket{ID: "7", Status: helpdesk.StatusOpen, Priority: "normal", Channel: "email", Group: "42", Type: "question",
		CreatedAt: created, UpdatedAt: mustTime("2026-03-02T12:00:00Z"), Reopens: -1, AgentReplies: -1}
	tests := []struct {
		name    string
		record  string
		deleted bool
		want    func(t *helpdesk.Ticket)
		reject  string
	}{
		{name: "open", record: baseTicket, want: func(*helpdesk.Ticket) {}},
		{name: "pending", record: with("status", "3"), want: func(t *helpdesk.Ticket) { t.Status = helpdesk.StatusPending }},
		{name: "resolved", record: with("status", "4"), want: func(t *helpdesk.Ticket) { t.Status = helpdesk.StatusSolved }},
		{name: "closed", record: with("status", "5"), want: func(t *helpdesk.Ticket) { t.Status = helpdesk.StatusClosed }},
		{name: "custom status is open", record: with("status", "7"), want: func(*helpdesk.Ticket) {}},
		{name: "status 1 unknown", record: with("status", "1"), reject: "unknown_value"},
		{name: "string status", record: with("status", `"escalated"`), reject: "unknown_value"},
		{name: "null status", record: with("status", `null`), reject: "unknown_value"},
		{name: "deleted filter", record: baseTicket, deleted: true, want: func(t *helpdesk.Ticket) { t.Status = helpdesk.StatusDeleted }},
		{name: "deleted flag", record: with("deleted", "true"), want: func(t *helpdesk.Ticket) { t.Status = helpdesk.StatusDeleted }},
		{name: "low", record: with("priority", "1"), want: func(t *helpdesk.Ticket) { t.Priority = "low" }},
		{name: "high", record: with("priority", "3"), want: func(t *helpdesk.Ticket) { t.Priority = "high" }},
		{name: "urgent", record: with("priority", "4"), want: func(t *helpdesk.Ticket) { t.Priority = "urgent" }},
		{name: "no priority", record: with("priority", "-"), want: func(t *helpdesk.Ticket) { t.Priority = "none" }},
		{name: "bad priority", record: with("priority", "9"), reject: "unknown_value"},
		{name: "portal", record: with("source", "2"), want: func(t *helpdesk.Ticket) { t.Channel = "web" }},
		{name: "phone", record: with("source", "3"), want: func(t *helpdesk.Ticket) { t.Channel = "phone" }},
		{name: "chat", record: with("source", "7"), want: func(t *helpdesk.Ticket) { t.Channel = "chat" }},
		{name: "feedback widget", record: with("source", "9"), want: func(t *helpdesk.Ticket) { t.Channel = "web" }},
		{name: "outbound email", record: with("source", "10"), want: func(t *helpdesk.Ticket) { t.Channel = "email" }},
		{name: "other source", record: with("source", "5"), want: func(t *helpdesk.Ticket) { t.Channel = "other" }},
		{name: "incident", record: with("type", `"Incident"`), want: func(t *helpdesk.Ticket) { t.Type = "incident" }},
		{name: "custom type", record: with("type", `"Refund"`), want: func(t *helpdesk.Ticket) { t.Type = "none" }},
		{name: "null type", record: with("type", `null`), want: func(t *helpdesk.Ticket) { t.Type = "none" }},
		{name: "no group", record: with("group_id", `null`), want: func(t *helpdesk.Ticket) { t.Group = "" }},
		{name: "first response", record: with("stats", `{"first_responded_at": "2026-03-02T10:30:00Z"}`), want: func(t *helpdesk.Ticket) {
			t.FirstReplyAt, t.Replied = mustTime("2026-03-02T10:30:00Z"), true
		}},
		{name: "resolved at", record: with("status", "4", "stats", `{"first_responded_at": "2026-03-02T10:30:00Z", "resolved_at": "2026-03-02T11:30:00Z"}`), want: func(t *helpdesk.Ticket) {
			t.Status, t.FirstReplyAt, t.Replied, t.SolvedAt = helpdesk.StatusSolved, mustTime("2026-03-02T10:30:00Z"), true, mustTime("2026-03-02T11:30:00Z")
		}},
		{name: "closed at only", record: with("status", "5", "stats", `{"closed_at": "2026-03-02T11:45:00Z"}`), want: func(t *helpdesk.Ticket) {
			t.Status, t.SolvedAt = helpdesk.StatusClosed, mustTime("2026-03-02T11:45:00Z")
		}},
		{name: "response before creation", record: with("stats", `{"first_responded_at": "2026-03-01T10:30:00Z"}`), reject: "inconsistent_time"},
		{name: "no stats", record: with("stats", "-"), reject: "missing_field"},
		{name: "no id", record: with("id", "-"), reject: "missing_field"},
		{name: "no created_at", record: with("created_at", "null"), reject: "missing_field"},
		{name: "bad time", record: with("created_at", `"yesterday"`), reject: "malformed_record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte("["+tc.record+"]"), tc.deleted)
			if err != nil {
				t.Fatal(err)
			}
			if tc.reject != "" {
				if len(p.Rejected) != 1 || p.Rejected[0].Reason != tc.reject || len(p.Tickets) != 0 {
					t.Fatalf("got %+v, want one rejection %q", p, tc.reject)
				}
				return
			}
			if len(p.Rejected) != 0 || len(p.Tickets) != 1 {
				t.Fatalf("got %+v", p)
			}
			want := base
			tc.want(&want)
			if got := p.Tickets[0]; got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if err := p.Tickets[0].Validate(); err != nil {
				t.Errorf("invalid canonical ticket: %v", err)
			}
		})
	}
}

func TestDecodePageShapes(t *testing.T) {
	for _, body := range []string{`{"tickets": []}`, `[`, ``, `null x`} {
		if _, err := DecodePage([]byte(body), false); err == nil {
			t.Errorf("%q: no error", body)
		}
	}
	p, err := DecodePage([]byte(`[`+baseTicket+`, 12, `+with("id", "8", "updated_at", `"2026-03-03T00:00:00Z"`, "status", `"x"`)+`]`), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tickets) != 1 || len(p.Rejected) != 2 {
		t.Fatalf("got %d tickets, %d rejected", len(p.Tickets), len(p.Rejected))
	}
	if p.Rejected[1].ID != "8" {
		t.Errorf("rejected id = %q", p.Rejected[1].ID)
	}
	if want := mustTime("2026-03-03T00:00:00Z"); !p.LastUpdated.Equal(want) {
		t.Errorf("LastUpdated = %v, want %v (rejected records count)", p.LastUpdated, want)
	}
}

func TestDecodeRatings(t *testing.T) {
	rating := func(v string) string {
		return `{"id": 3, "survey_id": 1, "ticket_id": 7, "ratings": {"default_question": ` + v + `}, "created_at": "2026-03-02T13:00:00Z"}`
	}
	for _, tc := range []struct {
		v      string
		want   helpdesk.Rating
		reject string
	}{
		{"103", helpdesk.RatingGood, ""}, {"102", helpdesk.RatingGood, ""}, {"101", helpdesk.RatingGood, ""},
		{"100", helpdesk.RatingNeutral, ""},
		{"-101", helpdesk.RatingBad, ""}, {"-102", helpdesk.RatingBad, ""}, {"-103", helpdesk.RatingBad, ""},
		{"5", 0, "unknown_value"}, {`"happy"`, 0, "unknown_value"}, {"0", 0, "unknown_value"},
	} {
		p, err := DecodeRatings([]byte("[" + rating(tc.v) + "]"))
		if err != nil {
			t.Fatal(err)
		}
		if tc.reject != "" {
			if len(p.Rejected) != 1 || p.Rejected[0].Reason != tc.reject {
				t.Errorf("%s: got %+v, want rejection %s", tc.v, p, tc.reject)
			}
			continue
		}
		if len(p.Ratings) != 1 || p.Ratings[0].Rating != tc.want || p.Ratings[0].TicketID != "7" || p.Ratings[0].ID != 3 ||
			!p.Ratings[0].CreatedAt.Equal(mustTime("2026-03-02T13:00:00Z")) {
			t.Errorf("%s: got %+v", tc.v, p)
		}
	}
	p, err := DecodeRatings([]byte(`[{"id": 1, "ratings": {"default_question": 103}, "created_at": "2026-03-02T13:00:00Z"}, {"id": 2, "ticket_id": 3, "ratings": {}, "created_at": "2026-03-02T13:00:00Z"}]`))
	if err != nil || len(p.Rejected) != 2 || p.Rejected[0].Reason != "missing_field" || p.Rejected[1].Reason != "missing_field" {
		t.Errorf("got %+v, %v", p, err)
	}
	if _, err := DecodeRatings([]byte(`{}`)); err == nil {
		t.Error("an object is not a ratings page")
	}
}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte("["+baseTicket+"]"), false)
	f.Add([]byte("["+with("status", "4", "stats", `{"first_responded_at": "2026-03-02T10:30:00Z", "resolved_at": "2026-03-02T11:30:00Z"}`)+"]"), true)
	f.Add([]byte(`[{"id": 1, "status": "x"}, null, 3, {}]`), false)
	f.Add([]byte(`[{"id": 9223372036854775807, "status": 99999999999, "priority": -1, "created_at": "0001-01-01T00:00:00Z", "updated_at": "9999-12-31T23:59:59Z", "stats": {}}]`), false)
	f.Fuzz(func(t *testing.T, body []byte, deleted bool) {
		p, err := DecodePage(body, deleted)
		if err != nil {
			if p != nil {
				t.Fatal("a page with an error")
			}
			return
		}
		for _, tk := range p.Tickets {
			if err := tk.Validate(); err != nil && !strings.Contains(err.Error(), "before creation") {
				t.Errorf("decoded an invalid ticket %+v: %v", tk, err)
			}
			if deleted && tk.Status != helpdesk.StatusDeleted {
				t.Errorf("deleted page gave status %v", tk.Status)
			}
		}
		for _, r := range p.Rejected {
			if r.Reason == "" || r.Err == nil {
				t.Errorf("rejection without reason or error: %+v", r)
			}
		}
		if rp, err := DecodeRatings(body); err == nil {
			for _, r := range rp.Ratings {
				if r.Rating == helpdesk.RatingNone || r.TicketID == "" {
					t.Errorf("bad rating %+v", r)
				}
			}
		}
	})
}
