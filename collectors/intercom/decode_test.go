package intercom

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

func page(convs ...string) string {
	return `{"type":"conversation.list","total_count":` + itoa(len(convs)) + `,"conversations":[` + strings.Join(convs, ",") +
		`],"pages":{"type":"pages","page":1,"per_page":150,"total_pages":1}}`
}

func itoa(n int) string { return strconv.Itoa(n) }

const base = `"id":"42","created_at":1700000000,"updated_at":1700009000`

func TestDecodeConversation(t *testing.T) {
	created := time.Unix(1700000000, 0).UTC()
	tests := []struct {
		name   string
		conv   string
		want   helpdesk.Ticket
		reject string // reason, "" when accepted
	}{
		{
			name: "open, minimal",
			conv: `{` + base + `,"state":"open"}`,
			want: helpdesk.Ticket{ID: "42", Status: helpdesk.StatusOpen, Priority: "none", Channel: "other", Type: "none",
				CreatedAt: created, UpdatedAt: time.Unix(1700009000, 0).UTC(), Reopens: -1},
		},
		{
			name: "closed, replied twice, reopened, rated 5, priority, email, team",
			conv: `{` + base + `,"state":"closed","priority":"priority","team_assignee_id":"5017691",
				"source":{"type":"email","delivered_as":"customer_initiated"},
				"statistics":{"type":"conversation_statistics","time_to_admin_reply":1800,"first_admin_reply_at":1700001800,
				"last_admin_reply_at":1700003000,"last_close_at":1700007200,"count_reopens":1,"count_assignments":2},
				"conversation_rating":{"rating":5,"remark":null,"created_at":1700008000}}`,
			want: helpdesk.Ticket{ID: "42", Status: helpdesk.StatusSolved, Priority: "high", Channel: "email", Type: "none", Group: "5017691",
				CreatedAt: created, UpdatedAt: time.Unix(1700009000, 0).UTC(),
				FirstReplyAt: time.Unix(1700001800, 0).UTC(), Replied: true, AgentReplies: 2,
				SolvedAt: time.Unix(1700007200, 0).UTC(), Reopens: 1,
				Satisfaction: helpdesk.RatingGood, SatisfactionAt: time.Unix(1700008000, 0).UTC()},
		},
		{
			name: "snoozed, not_priority, messenger, one reply, rating 3, numeric team",
			conv: `{` + base + `,"state":"snoozed","priority":"not_priority","team_assignee_id":7,"source":{"type":"conversation"},
				"statistics":{"first_admin_reply_at":1700000060,"last_admin_reply_at":1700000060,"last_close_at":1700000100,"count_reopens":0},
				"conversation_rating":{"rating":3,"created_at":null}}`,
			want: helpdesk.Ticket{ID: "42", Status: helpdesk.StatusOnHold, Priority: "normal", Channel: "chat", Type: "none", Group: "7",
				CreatedAt: created, UpdatedAt: time.Unix(1700009000, 0).UTC(),
				FirstReplyAt: time.Unix(1700000060, 0).UTC(), Replied: true, AgentReplies: 1, Reopens: 0,
				Satisfaction: helpdesk.RatingNeutral},
		},
		{
			name: "rating 2 is bad, automated is api, null statistics fields",
			conv: `{` + base + `,"state":"open","source":{"type":"email","delivered_as":"automated"},
				"statistics":{"first_admin_reply_at":null,"last_close_at":null,"count_reopens":null},"conversation_rating":{"rating":2}}`,
			want: helpdesk.Ticket{ID: "42", Status: helpdesk.StatusOpen, Priority: "none", Channel: "api", Type: "none",
				CreatedAt: created, UpdatedAt: time.Unix(1700009000, 0).UTC(), Reopens: -1, Satisfaction: helpdesk.RatingBad},
		},
		{name: "phone", conv: `{` + base + `,"state":"open","source":{"type":"phone_call"}}`,
			want: helpdesk.Ticket{ID: "42", Status: helpdesk.StatusOpen, Priority: "none", Channel: "phone", Type: "none",
				CreatedAt: created, UpdatedAt: time.Unix(1700009000, 0).UTC(), Reopens: -1}},
		{name: "whatsapp is social, unknown source is other, rating 1 bad", conv: `{` + base + `,"state":"open","source":{"type":"whatsapp"},"conversation_rating":{"rating":1}}`,
			want: helpdesk.Ticket{ID: "42", Status: helpdesk.StatusOpen, Priority: "none", Channel: "social", Type: "none",
				CreatedAt: created, UpdatedAt: time.Unix(1700009000, 0).UTC(), Reopens: -1, Satisfaction: helpdesk.RatingBad}},
		{name: "unknown state", conv: `{` + base + `,"state":"escalated"}`, reject: "unknown_value"},
		{name: "unknown priority", conv: `{` + base + `,"state":"open","priority":"urgent"}`, reject: "unknown_value"},
		{name: "rating 6", conv: `{` + base + `,"state":"open","conversation_rating":{"rating":6}}`, reject: "unknown_value"},
		{name: "rating 0", conv: `{` + base + `,"state":"open","conversation_rating":{"rating":0}}`, reject: "unknown_value"},
		{name: "no id", conv: `{"created_at":1,"updated_at":2,"state":"open"}`, reject: "missing_field"},
		{name: "no created_at", conv: `{"id":"1","updated_at":2,"state":"open"}`, reject: "missing_field"},
		{name: "absurd time", conv: `{"id":"1","created_at":99999999999999,"updated_at":2,"state":"open"}`, reject: "inconsistent_time"},
		{name: "negative reopens", conv: `{` + base + `,"state":"open","statistics":{"count_reopens":-1}}`, reject: "unknown_value"},
		{name: "malformed record", conv: `{"id":"9","state":7}`, reject: "malformed_record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte(page(tc.conv)))
			if err != nil {
				t.Fatal(err)
			}
			if tc.reject != "" {
				if len(p.Rejected) != 1 || p.Rejected[0].Reason != tc.reject || len(p.Tickets) != 0 {
					t.Fatalf("got tickets %+v, rejected %+v; want one %s rejection", p.Tickets, p.Rejected, tc.reject)
				}
				return
			}
			if len(p.Tickets) != 1 || len(p.Rejected) != 0 {
				t.Fatalf("got tickets %+v, rejected %+v", p.Tickets, p.Rejected)
			}
			if got := p.Tickets[0]; got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if err := p.Tickets[0].Validate(); err != nil {
				t.Errorf("canonical ticket invalid: %v", err)
			}
		})
	}
}

func TestDecodePage(t *testing.T) {
	for _, tc := range []struct {
		name, body, next string
		max              int64
		ok               bool
	}{
		{"next cursor", `{"type":"conversation.list","conversations":[{` + base + `,"state":"open"}],"pages":{"type":"pages","next":{"page":2,"starting_after":"WzE3MDAwMDAwMDBd"}}}`, "WzE3MDAwMDAwMDBd", 1700009000, true},
		{"last page", `{"type":"conversation.list","conversations":[],"pages":{"type":"pages","page":1}}`, "", 0, true},
		{"no pages", `{"type":"conversation.list","conversations":[]}`, "", 0, true},
		{"error list", `{"type":"error.list","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}`, "", 0, false},
		{"no conversations", `{"type":"conversation.list"}`, "", 0, false},
		{"not json", `{"type":"conversation.list",`, "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err == nil && (p.Next != tc.next || p.MaxUpdatedAt != tc.max) {
				t.Errorf("next %q max %d, want %q %d", p.Next, p.MaxUpdatedAt, tc.next, tc.max)
			}
		})
	}
}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(page(`{` + base + `,"state":"closed","priority":"priority","statistics":{"first_admin_reply_at":1700001800,"last_close_at":1700007200,"count_reopens":2},"conversation_rating":{"rating":4,"created_at":1700008000}}`)))
	f.Add([]byte(page(`{"id":5,"created_at":-1,"updated_at":1e30,"state":"open"}`)))
	f.Add([]byte(`{"type":"conversation.list","conversations":[null,1,"x"],"pages":{"next":{"starting_after":""}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if err != nil {
			return
		}
		for i := range p.Tickets {
			tk := &p.Tickets[i]
			// The engine may still reject (say a reply dated before
			// creation), but only as an invalid ticket.
			if _, _, err := helpdesk.Apply(nil, tk, helpdesk.Rules{}); err != nil && !errors.Is(err, helpdesk.ErrInvalid) {
				t.Fatalf("engine fails on %+v: %v", tk, err)
			}
			if tk.ID == "" || tk.CreatedAt.IsZero() || tk.Status == helpdesk.StatusUnknown {
				t.Fatalf("decoded a ticket without id, creation or status: %+v", tk)
			}
		}
		for _, r := range p.Rejected {
			if r.Reason == "" || r.Err == nil {
				t.Fatalf("rejection without reason or error: %+v", r)
			}
		}
	})
}
