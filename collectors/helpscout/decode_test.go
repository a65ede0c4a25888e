package helpscout

import (
	"strconv"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

func page(convs string, number, total int, next bool) []byte {
	links := `{}`
	if next {
		links = `{"next":{"href":"x"}}`
	}
	return []byte(`{"_embedded":{"conversations":[` + convs + `]},"page":{"size":50,"totalElements":1,"totalPages":` +
		itoa(total) + `,"number":` + itoa(number) + `},"_links":` + links + `}`)
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDecodeConversation(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name   string
		conv   string
		want   helpdesk.Ticket
		reject string // expected rejection reason, "" none
		skip   bool
	}{
		{name: "active email", conv: `{"id":7,"status":"active","state":"published","mailboxId":12,"createdAt":"2026-01-02T03:04:05Z","modifiedAt":"2026-01-02T04:00:00Z","source":{"type":"email"}}`,
			want: helpdesk.Ticket{ID: "7", Status: helpdesk.StatusOpen, Priority: "none", Type: "none", Channel: "email", Group: "12", CreatedAt: created, UpdatedAt: created.Add(56*time.Minute - 5*time.Second), Reopens: -1}},
		{name: "pending chat", conv: `{"id":8,"status":"pending","createdAt":"2026-01-02T03:04:05Z","source":{"type":"chat"}}`,
			want: helpdesk.Ticket{ID: "8", Status: helpdesk.StatusPending, Priority: "none", Type: "none", Channel: "chat", CreatedAt: created, UpdatedAt: created, Reopens: -1}},
		{name: "closed phone", conv: `{"id":9,"status":"closed","createdAt":"2026-01-02T03:04:05Z","closedAt":"2026-01-02T05:04:05Z","source":{"type":"phone"}}`,
			want: helpdesk.Ticket{ID: "9", Status: helpdesk.StatusSolved, Priority: "none", Type: "none", Channel: "phone", CreatedAt: created, UpdatedAt: created, SolvedAt: created.Add(2 * time.Hour), Reopens: -1}},
		{name: "spam is deleted", conv: `{"id":10,"status":"spam","createdAt":"2026-01-02T03:04:05Z","source":{"type":"beacon-v2"}}`,
			want: helpdesk.Ticket{ID: "10", Status: helpdesk.StatusDeleted, Priority: "none", Type: "none", Channel: "web", CreatedAt: created, UpdatedAt: created, Reopens: -1}},
		{name: "deleted state", conv: `{"id":11,"status":"active","state":"deleted","createdAt":"2026-01-02T03:04:05Z","source":{"type":"api"}}`,
			want: helpdesk.Ticket{ID: "11", Status: helpdesk.StatusDeleted, Priority: "none", Type: "none", Channel: "api", CreatedAt: created, UpdatedAt: created, Reopens: -1}},
		{name: "type without source", conv: `{"id":12,"type":"chat","status":"active","createdAt":"2026-01-02T03:04:05Z"}`,
			want: helpdesk.Ticket{ID: "12", Status: helpdesk.StatusOpen, Priority: "none", Type: "none", Channel: "chat", CreatedAt: created, UpdatedAt: created, Reopens: -1}},
		{name: "unknown source", conv: `{"id":13,"status":"active","createdAt":"2026-01-02T03:04:05Z","source":{"type":"pigeon"}}`,
			want: helpdesk.Ticket{ID: "13", Status: helpdesk.StatusOpen, Priority: "none", Type: "none", Channel: "other", CreatedAt: created, UpdatedAt: created, Reopens: -1}},
		{name: "draft skipped", conv: `{"id":14,"status":"active","state":"draft","createdAt":"2026-01-02T03:04:05Z"}`, skip: true},
		{name: "unknown status", conv: `{"id":15,"status":"bogus","createdAt":"2026-01-02T03:04:05Z"}`, reject: "unknown_value"},
		{name: "no createdAt", conv: `{"id":16,"status":"active"}`, reject: "missing_field"},
		{name: "no id", conv: `{"status":"active","createdAt":"2026-01-02T03:04:05Z"}`, reject: "missing_field"},
		{name: "bad time", conv: `{"id":17,"status":"active","createdAt":"yesterday"}`, reject: "malformed_record"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage(page(tc.conv, 1, 1, false))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.reject != "":
				if len(p.Rejected) != 1 || p.Rejected[0].Reason != tc.reject || len(p.Tickets) != 0 {
					t.Fatalf("want one %s rejection, got %+v / %+v", tc.reject, p.Rejected, p.Tickets)
				}
			case tc.skip:
				if len(p.Tickets) != 0 || len(p.Rejected) != 0 {
					t.Fatalf("want skipped, got %+v %+v", p.Tickets, p.Rejected)
				}
			default:
				if len(p.Tickets) != 1 {
					t.Fatalf("got %+v rejected %+v", p.Tickets, p.Rejected)
				}
				got := p.Tickets[0]
				if !got.CreatedAt.Equal(tc.want.CreatedAt) || !got.UpdatedAt.Equal(tc.want.UpdatedAt) || !got.SolvedAt.Equal(tc.want.SolvedAt) {
					t.Errorf("times: got %v %v %v", got.CreatedAt, got.UpdatedAt, got.SolvedAt)
				}
				got.CreatedAt, got.UpdatedAt, got.SolvedAt = tc.want.CreatedAt, tc.want.UpdatedAt, tc.want.SolvedAt
				if got != tc.want {
					t.Errorf("got %+v\nwant %+v", got, tc.want)
				}
				if err := got.Validate(); err != nil {
					t.Errorf("invalid: %v", err)
				}
			}
		})
	}
}

func TestDecodePaging(t *testing.T) {
	for _, tc := range []struct {
		body string
		last bool
		err  bool
	}{
		{body: string(page("", 1, 3, true)), last: false},
		{body: string(page("", 3, 3, false)), last: true},
		{body: string(page("", 2, 3, false)), last: true}, // no next link
		{body: `{"page":{"size":50,"totalElements":0,"totalPages":0,"number":1},"_links":{}}`, last: true},
		{body: `{"_embedded":{"conversations":[]}}`, err: true},
		{body: `{"page":{"size":50,"totalElements":5,"totalPages":1,"number":1}}`, err: true},
		{body: `[1,2]`, err: true},
		{body: `{"_embedded":{"conversations":[`, err: true},
	} {
		p, err := DecodePage([]byte(tc.body))
		if (err != nil) != tc.err {
			t.Errorf("%s: err %v, want error %v", tc.body, err, tc.err)
			continue
		}
		if err == nil && p.Last != tc.last {
			t.Errorf("%s: last %v, want %v", tc.body, p.Last, tc.last)
		}
	}
}

func TestDecodeThreads(t *testing.T) {
	body := `{"_embedded":{"threads":[
		{"id":5,"type":"reply","state":"published","createdAt":"2026-01-02T05:00:00Z","createdBy":{"id":1,"type":"user"}},
		{"id":4,"type":"note","createdAt":"2026-01-02T04:30:00Z","createdBy":{"id":1,"type":"user"}},
		{"id":3,"type":"reply","state":"draft","createdAt":"2026-01-02T04:10:00Z","createdBy":{"id":1,"type":"user"}},
		{"id":2,"type":"reply","createdAt":"2026-01-02T04:00:00Z","createdBy":{"id":1,"type":"user"}},
		{"id":1,"type":"customer","createdAt":"2026-01-02T03:00:00Z","createdBy":{"id":9,"type":"customer"}}]},
		"page":{"size":50,"totalElements":5,"totalPages":1,"number":1}}`
	r, err := DecodeThreads([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 2 || !r.First.Equal(time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)) {
		t.Errorf("got %+v", r)
	}
	if _, err := DecodeThreads([]byte(`{"_embedded":`)); err == nil {
		t.Error("truncated threads page accepted")
	}
}

func FuzzDecodePage(f *testing.F) {
	f.Add(page(`{"id":7,"status":"active","createdAt":"2026-01-02T03:04:05Z","source":{"type":"email"}}`, 1, 2, true))
	f.Add(page(`{"id":9,"status":"closed","createdAt":"2026-01-02T03:04:05Z","closedAt":"2026-01-01T00:00:00Z"}`, 1, 1, false))
	f.Add([]byte(`{"page":{"number":-1}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if err != nil {
			return
		}
		for _, tk := range p.Tickets {
			if tk.ID == "" || tk.Priority != "none" || tk.Reopens != -1 {
				t.Fatalf("bad ticket %+v", tk)
			}
			if tk.UpdatedAt.Before(tk.CreatedAt) {
				t.Fatalf("updated before created: %+v", tk)
			}
			if tk.UpdatedAt.After(p.MaxModified) {
				t.Fatalf("MaxModified %v below %v", p.MaxModified, tk.UpdatedAt)
			}
		}
		for _, r := range p.Rejected {
			if r.Reason == "" || r.Err == nil {
				t.Fatalf("bad rejection %+v", r)
			}
		}
	})
}
