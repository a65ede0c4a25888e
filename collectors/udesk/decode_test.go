package udesk

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

// realisticPage is a page as the fake (and, by the assumptions in
// docs/vendors.md, Udesk) serves it.
const realisticPage = `{"code":1000,"message":"success","tickets":[
{"id":11,"field_num":"T11","subject":"无法登录","status_id":1,"status":"开启","status_en":"open","priority_id":1,"priority":"紧急",
 "platform_name":"email","user_group_id":31001,"created_at":"2026-11-30T18:00:00.000+08:00","updated_at":"2026-11-30T18:30:00.000+08:00",
 "first_reply_at":null,"resolved_at":null,"closed_at":null,"satisfaction":null},
{"id":12,"field_num":"T12","subject":"发票有误","status_id":2,"status":"已解决","status_en":"resolved","priority_id":3,"priority":"标准",
 "platform_name":"im","user_group_id":null,"created_at":"2026-11-30 10:00:00 +0800","updated_at":"2026-11-30 12:00:00 +0800",
 "first_reply_at":"2026-11-30 10:30:00 +0800","resolved_at":"2026-11-30 11:30:00 +0800","closed_at":null,
 "satisfaction":{"score":4,"created_at":"2026-11-30 12:00:00 +0800"}},
{"id":13,"status_id":3,"priority_id":null,"platform_name":"wechat","created_at":"2026-11-29T00:00:00Z","updated_at":"2026-11-29T05:00:00Z",
 "first_reply_at":"2026-11-29T01:00:00Z","resolved_at":null,"closed_at":"2026-11-29T04:00:00Z","satisfaction":{"score":2,"created_at":"2026-11-29T05:00:00Z"}}
],"meta":{"current_page":2,"total_pages":3,"total_count":203}}`

func TestDecodePageRealistic(t *testing.T) {
	p, err := DecodePage([]byte(realisticPage))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rejected) != 0 || len(p.Tickets) != 3 {
		t.Fatalf("tickets %d, rejected %+v", len(p.Tickets), p.Rejected)
	}
	if p.Page != 2 || p.Pages != 3 {
		t.Errorf("meta = page %d of %d, want 2 of 3", p.Page, p.Pages)
	}
	if want := time.Date(2026, 11, 30, 10, 30, 0, 0, time.UTC); !p.LastUpdated.Equal(want) {
		t.Errorf("LastUpdated = %v, want %v", p.LastUpdated, want)
	}
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v.UTC() }
	want := []helpdesk.Ticket{
		{ID: "11", Status: helpdesk.StatusOpen, Priority: "urgent", Channel: "email", Group: "31001", Type: "none",
			CreatedAt: at("2026-11-30T10:00:00Z"), UpdatedAt: at("2026-11-30T10:30:00Z"), AgentReplies: -1, Reopens: -1},
		{ID: "12", Status: helpdesk.StatusSolved, Priority: "normal", Channel: "chat", Type: "none",
			CreatedAt: at("2026-11-30T02:00:00Z"), UpdatedAt: at("2026-11-30T04:00:00Z"),
			FirstReplyAt: at("2026-11-30T02:30:00Z"), Replied: true, SolvedAt: at("2026-11-30T03:30:00Z"),
			AgentReplies: -1, Reopens: -1, Satisfaction: helpdesk.RatingGood, SatisfactionAt: at("2026-11-30T04:00:00Z")},
		{ID: "13", Status: helpdesk.StatusClosed, Priority: "none", Channel: "social", Type: "none",
			CreatedAt: at("2026-11-29T00:00:00Z"), UpdatedAt: at("2026-11-29T05:00:00Z"),
			FirstReplyAt: at("2026-11-29T01:00:00Z"), Replied: true, SolvedAt: at("2026-11-29T04:00:00Z"),
			AgentReplies: -1, Reopens: -1, Satisfaction: helpdesk.RatingBad, SatisfactionAt: at("2026-11-29T05:00:00Z")},
	}
	for i := range want {
		if got := p.Tickets[i]; !equalTicket(got, want[i]) {
			t.Errorf("ticket %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

func equalTicket(a, b helpdesk.Ticket) bool {
	return a.ID == b.ID && a.Status == b.Status && a.Priority == b.Priority && a.Channel == b.Channel && a.Group == b.Group &&
		a.Type == b.Type && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) && a.FirstReplyAt.Equal(b.FirstReplyAt) &&
		a.Replied == b.Replied && a.SolvedAt.Equal(b.SolvedAt) && a.AgentReplies == b.AgentReplies && a.Reopens == b.Reopens &&
		a.Satisfaction == b.Satisfaction && a.SatisfactionAt.Equal(b.SatisfactionAt)
}

func TestDecodePageMapping(t *testing.T) {
	const base = `"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-02T00:00:00Z"`
	for _, c := range []struct {
		name, record string
		check        func(helpdesk.Ticket) bool
		reason       string // the rejection's reason, "" when accepted
	}{
		{"status 1 open", `{"id":1,"status_id":1,` + base + `}`, func(t helpdesk.Ticket) bool { return t.Status == helpdesk.StatusOpen }, ""},
		{"status 2 resolved", `{"id":1,"status_id":2,` + base + `}`, func(t helpdesk.Ticket) bool { return t.Status == helpdesk.StatusSolved }, ""},
		{"status 3 closed", `{"id":1,"status_id":3,` + base + `}`, func(t helpdesk.Ticket) bool { return t.Status == helpdesk.StatusClosed }, ""},
		{"status 4 solving", `{"id":1,"status_id":4,` + base + `}`, func(t helpdesk.Ticket) bool { return t.Status == helpdesk.StatusPending }, ""},
		{"status 99", `{"id":1,"status_id":99,` + base + `}`, nil, "unknown_value"},
		{"status as text", `{"id":1,"status_id":"open",` + base + `}`, nil, "unknown_value"},
		{"no status", `{"id":1,` + base + `}`, nil, "unknown_value"},
		{"priority 1 urgent", `{"id":1,"status_id":1,"priority_id":1,` + base + `}`, func(t helpdesk.Ticket) bool { return t.Priority == "urgent" }, ""},
		{"priority 2 high", `{"id":1,"status_id":1,"priority_id":2,` + base + `}`, func(t helpdesk.Ticket) bool { return t.Priority == "high" }, ""},
		{"priority 3 medium", `{"id":1,"status_id":1,"priority_id":3,` + base + `}`, func(t helpdesk.Ticket) bool { return t.Priority == "normal" }, ""},
		{"priority 4 low", `{"id":1,"status_id":1,"priority_id":4,` + base + `}`, func(t helpdesk.Ticket) bool { return t.Priority == "low" }, ""},
		{"priority null", `{"id":1,"status_id":1,"priority_id":null,` + base + `}`, func(t helpdesk.Ticket) bool { return t.Priority == "none" }, ""},
		{"priority 7", `{"id":1,"status_id":1,"priority_id":7,` + base + `}`, nil, "unknown_value"},
		{"platform call", `{"id":1,"status_id":1,"platform_name":"call",` + base + `}`, func(t helpdesk.Ticket) bool { return t.Channel == "phone" }, ""},
		{"platform hc", `{"id":1,"status_id":1,"platform_name":"hc",` + base + `}`, func(t helpdesk.Ticket) bool { return t.Channel == "web" }, ""},
		{"platform api", `{"id":1,"status_id":1,"platform_name":"api",` + base + `}`, func(t helpdesk.Ticket) bool { return t.Channel == "api" }, ""},
		{"platform weibo", `{"id":1,"status_id":1,"platform_name":"weibo",` + base + `}`, func(t helpdesk.Ticket) bool { return t.Channel == "social" }, ""},
		{"platform unknown", `{"id":1,"status_id":1,"platform_name":"fax",` + base + `}`, func(t helpdesk.Ticket) bool { return t.Channel == "other" }, ""},
		{"score 3 neutral", `{"id":1,"status_id":2,"satisfaction":{"score":3,"created_at":"2026-01-02T00:00:00Z"},` + base + `}`,
			func(t helpdesk.Ticket) bool { return t.Satisfaction == helpdesk.RatingNeutral }, ""},
		{"score 6", `{"id":1,"status_id":2,"satisfaction":{"score":6},` + base + `}`, nil, "unknown_value"},
		{"score null", `{"id":1,"status_id":2,"satisfaction":{"score":null},` + base + `}`, func(t helpdesk.Ticket) bool { return t.Satisfaction == helpdesk.RatingNone }, ""},
		{"no id", `{"status_id":1,` + base + `}`, nil, "missing_field"},
		{"no created_at", `{"id":1,"status_id":1,"updated_at":"2026-01-02T00:00:00Z"}`, nil, "missing_field"},
		{"empty created_at", `{"id":1,"status_id":1,"created_at":"","updated_at":"2026-01-02T00:00:00Z"}`, nil, "missing_field"},
		{"bad time", `{"id":1,"status_id":1,"created_at":"yesterday","updated_at":"2026-01-02T00:00:00Z"}`, nil, "malformed_record"},
		{"resolved before created", `{"id":1,"status_id":2,"resolved_at":"2025-01-01T00:00:00Z",` + base + `}`, nil, "inconsistent_time"},
		{"reply before created", `{"id":1,"status_id":1,"first_reply_at":"2025-01-01T00:00:00Z",` + base + `}`, nil, "inconsistent_time"},
		{"closed without resolved", `{"id":1,"status_id":3,"closed_at":"2026-01-01T05:00:00Z",` + base + `}`,
			func(t helpdesk.Ticket) bool { return t.SolvedAt.Equal(time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)) }, ""},
		{"not an object", `[1]`, nil, "malformed_record"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := `{"code":1000,"tickets":[` + c.record + `,{"id":2,"status_id":1,` + base + `}],"meta":{"current_page":1,"total_pages":1,"total_count":2}}`
			p, err := DecodePage([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if c.reason != "" {
				if len(p.Rejected) != 1 || p.Rejected[0].Reason != c.reason {
					t.Fatalf("rejections %+v, want one %s", p.Rejected, c.reason)
				}
				if len(p.Tickets) != 1 || p.Tickets[0].ID != "2" {
					t.Errorf("the rest of the page: %+v", p.Tickets)
				}
				return
			}
			if len(p.Rejected) != 0 || len(p.Tickets) != 2 {
				t.Fatalf("rejected %+v", p.Rejected)
			}
			if !c.check(p.Tickets[0]) {
				t.Errorf("mapped to %+v", p.Tickets[0])
			}
			if err := p.Tickets[0].Validate(); err != nil {
				t.Errorf("mapped ticket does not validate: %v", err)
			}
		})
	}
}

func TestDecodePageErrors(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`not json`, "malformed"},
		{`{"tickets":[]}`, "no code"},
		{`{"code":2001,"message":"签名验证失败"}`, "code 2001"},
		{`{"code":1000,"tickets":[]}`, "no meta"},
		{`{"code":1000,"tickets":[],"meta":{"current_page":0,"total_pages":1}}`, "current_page"},
		{`null`, "no code"},
	} {
		p, err := DecodePage([]byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) || p != nil {
			t.Errorf("%s: page %v, err %v; want an error with %q", c.body, p, err, c.want)
		}
	}
}

func TestDecodePageEmpty(t *testing.T) {
	p, err := DecodePage([]byte(`{"code":1000,"message":"success","tickets":[],"meta":{"current_page":1,"total_pages":0,"total_count":0}}`))
	if err != nil || len(p.Tickets) != 0 || len(p.Rejected) != 0 || !p.LastUpdated.IsZero() {
		t.Fatalf("page %+v, err %v", p, err)
	}
}

func TestSignMatchesUdeskFormula(t *testing.T) {
	// sha256("a@b.c&tok&1700000000&n1&v2")
	got := Sign("a@b.c", "tok", "1700000000", "n1")
	if len(got) != 64 || got != sha256Hex("a@b.c&tok&1700000000&n1&v2") {
		t.Errorf("Sign = %s", got)
	}
	if Sign("a@b.c", "tok", "1700000000", "n2") == got {
		t.Error("the nonce does not change the signature")
	}
}
