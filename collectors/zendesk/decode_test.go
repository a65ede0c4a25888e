package zendesk

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

// realisticPage is a page of the cursor export with include=metric_sets,
// shaped like Zendesk's (fields the decoder ignores included).
const realisticPage = `{
  "tickets": [
    {
      "url": "https://acme.zendesk.com/api/v2/tickets/35436.json",
      "id": 35436,
      "external_id": null,
      "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": null}},
      "created_at": "2024-03-01T09:00:00Z",
      "updated_at": "2024-03-01T11:15:00Z",
      "generated_timestamp": 1709291700,
      "type": "incident",
      "subject": "Help, my printer is on fire!",
      "raw_subject": "Help, my printer is on fire!",
      "description": "The fire is very colorful.",
      "priority": "high",
      "status": "solved",
      "recipient": null,
      "requester_id": 20978392,
      "submitter_id": 20978392,
      "assignee_id": 235323,
      "organization_id": 509974,
      "group_id": 98738,
      "collaborator_ids": [],
      "follower_ids": [],
      "email_cc_ids": [],
      "problem_id": null,
      "has_incidents": false,
      "is_public": true,
      "due_at": null,
      "tags": ["enterprise", "printer"],
      "custom_fields": [{"id": 27642, "value": "745"}],
      "satisfaction_rating": {"id": 1234, "score": "good", "comment": "Great support!"},
      "sharing_agreement_ids": [],
      "custom_status_id": 35436000005,
      "ticket_form_id": 123,
      "brand_id": 4567,
      "allow_channelback": false,
      "allow_attachments": true,
      "from_messaging_channel": false
    },
    {
      "url": "https://acme.zendesk.com/api/v2/tickets/35437.json",
      "id": 35437,
      "via": {"channel": "voice", "source": {"from": {"phone": "+15551234567"}, "to": {}, "rel": "inbound"}},
      "created_at": "2024-03-01T10:00:00Z",
      "updated_at": "2024-03-01T10:00:00Z",
      "generated_timestamp": 1709290000,
      "type": null,
      "priority": null,
      "status": "hold",
      "assignee_id": null,
      "organization_id": null,
      "group_id": null,
      "tags": [],
      "satisfaction_rating": null,
      "brand_id": 4567
    },
    {
      "url": "https://acme.zendesk.com/api/v2/tickets/35438.json",
      "id": 35438,
      "via": {"channel": "email", "source": {"from": {"address": "jane@example.com"}, "to": {}, "rel": null}},
      "created_at": "2024-02-28T08:00:00Z",
      "updated_at": "2024-03-01T12:00:00Z",
      "generated_timestamp": 1709294400,
      "type": "question",
      "priority": "low",
      "status": "deleted",
      "group_id": 98738,
      "brand_id": 4567,
      "satisfaction_rating": {"id": 1235, "score": "offered", "comment": null}
    }
  ],
  "metric_sets": [
    {
      "url": "https://acme.zendesk.com/api/v2/ticket_metrics/9001.json",
      "id": 9001,
      "ticket_id": 35436,
      "created_at": "2024-03-01T09:00:01Z",
      "updated_at": "2024-03-01T11:15:00Z",
      "group_stations": 1,
      "assignee_stations": 1,
      "reopens": 0,
      "replies": 2,
      "assignee_updated_at": "2024-03-01T11:10:00Z",
      "requester_updated_at": "2024-03-01T11:00:00Z",
      "status_updated_at": "2024-03-01T11:15:00Z",
      "initially_assigned_at": "2024-03-01T09:05:00Z",
      "assigned_at": "2024-03-01T09:05:00Z",
      "solved_at": "2024-03-01T11:15:00Z",
      "latest_comment_added_at": "2024-03-01T11:10:00Z",
      "reply_time_in_minutes": {"calendar": 45, "business": 30},
      "first_resolution_time_in_minutes": {"calendar": 135, "business": 120},
      "full_resolution_time_in_minutes": {"calendar": 135, "business": 120},
      "agent_wait_time_in_minutes": {"calendar": 10, "business": 10},
      "requester_wait_time_in_minutes": {"calendar": 90, "business": 80},
      "on_hold_time_in_minutes": {"calendar": 0, "business": 0}
    },
    {
      "url": "https://acme.zendesk.com/api/v2/ticket_metrics/9002.json",
      "id": 9002,
      "ticket_id": 35437,
      "created_at": "2024-03-01T10:00:01Z",
      "updated_at": "2024-03-01T10:00:01Z",
      "group_stations": 0,
      "assignee_stations": 0,
      "reopens": null,
      "replies": 0,
      "solved_at": null,
      "reply_time_in_minutes": {"calendar": null, "business": null},
      "first_resolution_time_in_minutes": {"calendar": null, "business": null},
      "full_resolution_time_in_minutes": {"calendar": null, "business": null},
      "agent_wait_time_in_minutes": {"calendar": null, "business": null},
      "requester_wait_time_in_minutes": {"calendar": null, "business": null},
      "on_hold_time_in_minutes": {"calendar": null, "business": null}
    }
  ],
  "after_url": "https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=MTcwOTI5NDQwMC4wfHwzNTQzOHw%3D",
  "after_cursor": "MTcwOTI5NDQwMC4wfHwzNTQzOHw=",
  "before_url": null,
  "before_cursor": null,
  "end_of_stream": true
}`

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// normalized strips time locations so that tickets compare with DeepEqual
// (time.Unix returns local times, parsed ones are UTC).
func normalized(t helpdesk.Ticket) helpdesk.Ticket {
	for _, p := range []*time.Time{&t.CreatedAt, &t.UpdatedAt, &t.FirstReplyAt, &t.SolvedAt, &t.SatisfactionAt} {
		if !p.IsZero() {
			*p = p.UTC()
		}
	}
	return t
}

func assertTicket(t *testing.T, got, want helpdesk.Ticket) {
	t.Helper()
	if g, w := normalized(got), normalized(want); !reflect.DeepEqual(g, w) {
		t.Errorf("ticket mismatch\n got: %+v\nwant: %+v", g, w)
	}
}

func TestDecodePageRealistic(t *testing.T) {
	p, err := DecodePage([]byte(realisticPage))
	if err != nil {
		t.Fatal(err)
	}
	if p.AfterCursor != "MTcwOTI5NDQwMC4wfHwzNTQzOHw=" {
		t.Errorf("AfterCursor = %q", p.AfterCursor)
	}
	if !p.EndOfStream {
		t.Error("EndOfStream = false, want true")
	}
	if len(p.Rejected) != 0 {
		t.Errorf("rejected: %+v", p.Rejected)
	}
	if len(p.Tickets) != 3 {
		t.Fatalf("got %d tickets, want 3", len(p.Tickets))
	}
	want := []helpdesk.Ticket{{
		ID: "35436", Status: helpdesk.StatusSolved, Priority: "high", Channel: "web",
		Group: "98738", Type: "incident", Brand: "4567", Assignee: "235323",
		CreatedAt: utc("2024-03-01T09:00:00Z"), UpdatedAt: utc("2024-03-01T11:15:00Z"),
		Replied:      true,
		FirstReply:   helpdesk.Durations{Calendar: 45 * time.Minute, Business: 30 * time.Minute, CalendarKnown: true, BusinessKnown: true},
		SolvedAt:     utc("2024-03-01T11:15:00Z"),
		Resolution:   helpdesk.Durations{Calendar: 135 * time.Minute, Business: 120 * time.Minute, CalendarKnown: true, BusinessKnown: true},
		AgentReplies: 2, Reopens: 0, Satisfaction: helpdesk.RatingGood,
		RequesterWait: helpdesk.Durations{Calendar: 90 * time.Minute, Business: 80 * time.Minute, CalendarKnown: true, BusinessKnown: true},
		AgentWait:     helpdesk.Durations{Calendar: 10 * time.Minute, Business: 10 * time.Minute, CalendarKnown: true, BusinessKnown: true},
		OnHold:        helpdesk.Durations{CalendarKnown: true, BusinessKnown: true},
	}, {
		ID: "35437", Status: helpdesk.StatusOnHold, Priority: "none", Channel: "phone",
		Group: "", Type: "none", Brand: "4567",
		CreatedAt: utc("2024-03-01T10:00:00Z"),
		// generated_timestamp 1709290000 is 10:46:40, after updated_at.
		UpdatedAt: utc("2024-03-01T10:46:40Z"),
		Reopens:   -1,
	}, {
		ID: "35438", Status: helpdesk.StatusDeleted, Priority: "low", Channel: "email",
		Group: "98738", Type: "question", Brand: "4567",
		CreatedAt: utc("2024-02-28T08:00:00Z"), UpdatedAt: utc("2024-03-01T12:00:00Z"),
		Reopens: -1, Satisfaction: helpdesk.RatingNone,
	}}
	for i := range want {
		assertTicket(t, p.Tickets[i], want[i])
		if err := p.Tickets[i].Validate(); err != nil {
			t.Errorf("ticket %s: Validate: %v", p.Tickets[i].ID, err)
		}
	}
}

// baseTicket is a valid open ticket as Zendesk exports it.
func baseTicket(id int64) map[string]any {
	return map[string]any{
		"url":                 "https://acme.zendesk.com/api/v2/tickets/" + itoa(id) + ".json",
		"id":                  id,
		"external_id":         nil,
		"via":                 map[string]any{"channel": "email", "source": map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}},
		"created_at":          "2024-03-01T09:00:00Z",
		"updated_at":          "2024-03-02T10:30:00Z",
		"generated_timestamp": utc("2024-03-02T10:30:00Z").Unix(),
		"type":                "incident",
		"subject":             "Cannot log in",
		"priority":            "high",
		"status":              "open",
		"requester_id":        381000000001,
		"assignee_id":         235323,
		"organization_id":     nil,
		"group_id":            360001234567,
		"brand_id":            360000111222,
		"tags":                []string{"login"},
		"satisfaction_rating": nil,
		"custom_status_id":    35436000002,
	}
}

func baseMetricSet(id int64) map[string]any {
	null := map[string]any{"calendar": nil, "business": nil}
	return map[string]any{
		"url":                              "https://acme.zendesk.com/api/v2/ticket_metrics/" + itoa(id+9000) + ".json",
		"id":                               id + 9000,
		"ticket_id":                        id,
		"created_at":                       "2024-03-01T09:00:01Z",
		"updated_at":                       "2024-03-02T10:30:00Z",
		"group_stations":                   1,
		"assignee_stations":                1,
		"reopens":                          0,
		"replies":                          1,
		"solved_at":                        nil,
		"reply_time_in_minutes":            map[string]any{"calendar": 45, "business": 30},
		"first_resolution_time_in_minutes": null,
		"full_resolution_time_in_minutes":  null,
		"agent_wait_time_in_minutes":       null,
		"requester_wait_time_in_minutes":   null,
		"on_hold_time_in_minutes":          null,
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// baseWant is what baseTicket(101) with baseMetricSet(101) decodes to.
func baseWant() helpdesk.Ticket {
	return helpdesk.Ticket{
		ID: "101", Status: helpdesk.StatusOpen, Priority: "high", Channel: "email",
		Group: "360001234567", Type: "incident", Brand: "360000111222", Assignee: "235323",
		CreatedAt: utc("2024-03-01T09:00:00Z"), UpdatedAt: utc("2024-03-02T10:30:00Z"),
		Replied:      true,
		FirstReply:   helpdesk.Durations{Calendar: 45 * time.Minute, Business: 30 * time.Minute, CalendarKnown: true, BusinessKnown: true},
		AgentReplies: 1, Reopens: 0,
	}
}

func makePage(t testing.TB, tickets, metricSets []any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"tickets":       tickets,
		"metric_sets":   metricSets,
		"after_url":     "https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=YWZ0ZXI%3D",
		"after_cursor":  "YWZ0ZXI=",
		"before_url":    nil,
		"before_cursor": nil,
		"end_of_stream": false,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodePageMapping(t *testing.T) {
	type rej struct{ id, reason string }
	tests := []struct {
		name      string
		ticket    func(m map[string]any)      // edits baseTicket(101)
		metrics   func(m map[string]any)      // edits baseMetricSet(101)
		rawTicket string                      // replaces ticket 101 entirely when set
		noMetrics bool                        // ticket 101 has no metric set
		want      func(w *helpdesk.Ticket)    // edits baseWant(); nil when rejected
		rejected  *rej                        // the expected rejection of ticket 101
		validate  string                      // Validate's expected reason, "" for valid
		check     func(t *testing.T, p *Page) // extra checks
	}{
		{name: "base", want: func(w *helpdesk.Ticket) {}},

		// statuses
		{name: "status new", ticket: set("status", "new"), want: func(w *helpdesk.Ticket) { w.Status = helpdesk.StatusNew }},
		{name: "status pending", ticket: set("status", "pending"), want: func(w *helpdesk.Ticket) { w.Status = helpdesk.StatusPending }},
		{name: "status hold", ticket: set("status", "hold"), want: func(w *helpdesk.Ticket) { w.Status = helpdesk.StatusOnHold }},
		{name: "status solved", ticket: set("status", "solved"), want: func(w *helpdesk.Ticket) { w.Status = helpdesk.StatusSolved }},
		{name: "status closed", ticket: set("status", "closed"), want: func(w *helpdesk.Ticket) { w.Status = helpdesk.StatusClosed }},
		{name: "status deleted with metric set", ticket: set("status", "deleted"), want: func(w *helpdesk.Ticket) { w.Status = helpdesk.StatusDeleted }},
		{name: "status deleted without metric set", ticket: set("status", "deleted"), noMetrics: true,
			want: func(w *helpdesk.Ticket) {
				w.Status = helpdesk.StatusDeleted
				w.Replied, w.FirstReply, w.AgentReplies, w.Reopens = false, helpdesk.Durations{}, 0, -1
			}},
		{name: "status on_hold is not a Zendesk value", ticket: set("status", "on_hold"), rejected: &rej{"101", "unknown_value"}},
		{name: "status unknown", ticket: set("status", "archived"), rejected: &rej{"101", "unknown_value"}},
		{name: "status null", ticket: set("status", nil), rejected: &rej{"101", "unknown_value"}},
		{name: "status capitalised", ticket: set("status", "Open"), rejected: &rej{"101", "unknown_value"}},

		// priority and type
		{name: "priority null", ticket: set("priority", nil), want: func(w *helpdesk.Ticket) { w.Priority = "none" }},
		{name: "priority urgent", ticket: set("priority", "urgent"), want: func(w *helpdesk.Ticket) { w.Priority = "urgent" }},
		{name: "type null", ticket: set("type", nil), want: func(w *helpdesk.Ticket) { w.Type = "none" }},
		{name: "type missing", ticket: del("type"), want: func(w *helpdesk.Ticket) { w.Type = "none" }},
		{name: "type task", ticket: set("type", "task"), want: func(w *helpdesk.Ticket) { w.Type = "task" }},
		{name: "priority not canonical fails validation", ticket: set("priority", "critical"),
			want: func(w *helpdesk.Ticket) { w.Priority = "critical" }, validate: "unknown_value"},

		// channels
		{name: "channel voice", ticket: channel("voice"), want: func(w *helpdesk.Ticket) { w.Channel = "phone" }},
		{name: "channel sms", ticket: channel("sms"), want: func(w *helpdesk.Ticket) { w.Channel = "phone" }},
		{name: "channel twitter", ticket: channel("twitter"), want: func(w *helpdesk.Ticket) { w.Channel = "social" }},
		{name: "channel facebook", ticket: channel("facebook"), want: func(w *helpdesk.Ticket) { w.Channel = "social" }},
		{name: "channel web", ticket: channel("web"), want: func(w *helpdesk.Ticket) { w.Channel = "web" }},
		{name: "channel web_widget", ticket: channel("web_widget"), want: func(w *helpdesk.Ticket) { w.Channel = "web" }},
		{name: "channel native_messaging", ticket: channel("native_messaging"), want: func(w *helpdesk.Ticket) { w.Channel = "chat" }},
		{name: "channel chat", ticket: channel("chat"), want: func(w *helpdesk.Ticket) { w.Channel = "chat" }},
		{name: "channel api", ticket: channel("api"), want: func(w *helpdesk.Ticket) { w.Channel = "api" }},
		{name: "channel rule", ticket: channel("rule"), want: func(w *helpdesk.Ticket) { w.Channel = "other" }},
		{name: "channel unknown", ticket: channel("carrier_pigeon"), want: func(w *helpdesk.Ticket) { w.Channel = "other" }},
		{name: "channel numeric (old payloads)", ticket: channel(4), want: func(w *helpdesk.Ticket) { w.Channel = "other" }},
		{name: "channel null", ticket: channel(nil), want: func(w *helpdesk.Ticket) { w.Channel = "other" }},
		{name: "via missing", ticket: del("via"), want: func(w *helpdesk.Ticket) { w.Channel = "other" }},

		// group and brand
		{name: "group and brand null", ticket: func(m map[string]any) { m["group_id"], m["brand_id"] = nil, nil },
			want: func(w *helpdesk.Ticket) { w.Group, w.Brand = "", "" }},

		// satisfaction
		{name: "satisfaction null", ticket: set("satisfaction_rating", nil), want: func(w *helpdesk.Ticket) {}},
		{name: "satisfaction offered", ticket: rating("offered"), want: func(w *helpdesk.Ticket) { w.Satisfaction = helpdesk.RatingNone }},
		{name: "satisfaction unoffered", ticket: rating("unoffered"), want: func(w *helpdesk.Ticket) { w.Satisfaction = helpdesk.RatingNone }},
		{name: "satisfaction good", ticket: rating("good"), want: func(w *helpdesk.Ticket) { w.Satisfaction = helpdesk.RatingGood }},
		{name: "satisfaction bad", ticket: rating("bad"), want: func(w *helpdesk.Ticket) { w.Satisfaction = helpdesk.RatingBad }},
		{name: "satisfaction unknown score", ticket: rating("good_with_comment"), rejected: &rej{"101", "unknown_value"}},

		// metric sets
		{name: "reply time null, no replies", metrics: func(m map[string]any) {
			m["replies"] = 0
			m["reply_time_in_minutes"] = map[string]any{"calendar": nil, "business": nil}
		}, want: func(w *helpdesk.Ticket) { w.Replied, w.AgentReplies, w.FirstReply = false, 0, helpdesk.Durations{} }},
		{name: "reply time null, replies counted", metrics: func(m map[string]any) {
			m["replies"] = 2
			m["reply_time_in_minutes"] = map[string]any{"calendar": nil, "business": nil}
		}, want: func(w *helpdesk.Ticket) { w.Replied, w.AgentReplies, w.FirstReply = true, 2, helpdesk.Durations{} }},
		{name: "reply time object null", metrics: func(m map[string]any) {
			m["replies"] = 0
			m["reply_time_in_minutes"] = nil
		}, want: func(w *helpdesk.Ticket) { w.Replied, w.AgentReplies, w.FirstReply = false, 0, helpdesk.Durations{} }},
		{name: "reply time known, replies zero", metrics: func(m map[string]any) { m["replies"] = 0 },
			want: func(w *helpdesk.Ticket) { w.AgentReplies = 0; w.Replied = true }},
		{name: "business only", metrics: func(m map[string]any) {
			m["reply_time_in_minutes"] = map[string]any{"calendar": nil, "business": 12}
		}, want: func(w *helpdesk.Ticket) {
			w.FirstReply = helpdesk.Durations{Business: 12 * time.Minute, BusinessKnown: true}
		}},
		{name: "replies and reopens null", metrics: func(m map[string]any) {
			m["replies"], m["reopens"] = nil, nil
		}, want: func(w *helpdesk.Ticket) { w.AgentReplies, w.Reopens = 0, -1 }},
		{name: "reopens counted", metrics: set("reopens", 3), want: func(w *helpdesk.Ticket) { w.Reopens = 3 }},
		{name: "solved with resolution time", ticket: set("status", "solved"), metrics: func(m map[string]any) {
			m["solved_at"] = "2024-03-02T10:30:00Z"
			m["full_resolution_time_in_minutes"] = map[string]any{"calendar": 1530, "business": 510}
		}, want: func(w *helpdesk.Ticket) {
			w.Status = helpdesk.StatusSolved
			w.SolvedAt = utc("2024-03-02T10:30:00Z")
			w.Resolution = helpdesk.Durations{Calendar: 1530 * time.Minute, Business: 510 * time.Minute, CalendarKnown: true, BusinessKnown: true}
		}},
		{name: "solved before creation fails validation", metrics: set("solved_at", "2024-02-01T00:00:00Z"),
			want: func(w *helpdesk.Ticket) { w.SolvedAt = utc("2024-02-01T00:00:00Z") }, validate: "inconsistent_time"},
		{name: "missing metric set", noMetrics: true, rejected: &rej{"101", "missing_field"}},
		{name: "missing metric set on solved ticket", ticket: set("status", "solved"), noMetrics: true, rejected: &rej{"101", "missing_field"}},
		{name: "minutes at the limit", metrics: func(m map[string]any) {
			m["full_resolution_time_in_minutes"] = map[string]any{"calendar": 100_000_000, "business": 0}
		}, want: func(w *helpdesk.Ticket) {
			w.Resolution = helpdesk.Durations{Calendar: 100_000_000 * time.Minute, CalendarKnown: true, BusinessKnown: true}
		}},
		{name: "minutes over the limit", metrics: func(m map[string]any) {
			m["full_resolution_time_in_minutes"] = map[string]any{"calendar": 100_000_001, "business": 0}
		}, want: func(w *helpdesk.Ticket) {
			w.Resolution = helpdesk.Durations{Calendar: -1, CalendarKnown: true, BusinessKnown: true}
		}, validate: "negative_duration"},
		{name: "reply minutes absurd", metrics: func(m map[string]any) {
			m["reply_time_in_minutes"] = map[string]any{"calendar": 45, "business": int64(9_000_000_000_000)}
		}, want: func(w *helpdesk.Ticket) { w.FirstReply.Business = -1 }, validate: "negative_duration"},
		{name: "negative minutes", metrics: func(m map[string]any) {
			m["reply_time_in_minutes"] = map[string]any{"calendar": -5, "business": -5}
		}, want: func(w *helpdesk.Ticket) {
			w.FirstReply.Calendar, w.FirstReply.Business = -5*time.Minute, -5*time.Minute
		},
			validate: "negative_duration"},
		{name: "hugely negative minutes do not wrap to positive", metrics: func(m map[string]any) {
			// -200,000,000 minutes times time.Minute overflows int64 to about +71 years.
			m["reply_time_in_minutes"] = map[string]any{"calendar": -200_000_000, "business": 30}
		}, check: func(t *testing.T, p *Page) {
			got := ticketByID(t, p, "101")
			if got.FirstReply.Calendar >= 0 {
				t.Errorf("FirstReply.Calendar = %v, want negative", got.FirstReply.Calendar)
			}
		}, validate: "negative_duration"},
		{name: "metric set without ticket_id", metrics: del("ticket_id"),
			check: func(t *testing.T, p *Page) {
				if !hasRejection(p, "9101", "malformed_record") {
					t.Errorf("no malformed_record rejection for metric set 9101: %+v", p.Rejected)
				}
			},
			rejected: &rej{"101", "missing_field"}},

		// times
		{name: "generated_timestamp later than updated_at", ticket: set("generated_timestamp", utc("2024-03-05T00:00:07Z").Unix()),
			want: func(w *helpdesk.Ticket) { w.UpdatedAt = utc("2024-03-05T00:00:07Z") }},
		{name: "generated_timestamp earlier than updated_at", ticket: set("generated_timestamp", utc("2024-03-01T00:00:00Z").Unix()),
			want: func(w *helpdesk.Ticket) {}},
		{name: "generated_timestamp missing", ticket: del("generated_timestamp"), want: func(w *helpdesk.Ticket) {}},
		{name: "bad created_at", ticket: set("created_at", "yesterday"), rejected: &rej{"101", "malformed_record"}},
		{name: "created_at not ISO 8601", ticket: set("created_at", "2024-03-01 09:00:00"), rejected: &rej{"101", "malformed_record"}},
		{name: "created_at null", ticket: set("created_at", nil), rejected: &rej{"101", "missing_field"}},
		{name: "updated_at missing", ticket: del("updated_at"), rejected: &rej{"101", "missing_field"}},
		{name: "id missing", ticket: del("id"), rejected: &rej{"", "missing_field"}},
		{name: "id a string", ticket: set("id", "101"), rejected: &rej{"101", "malformed_record"}},
		{name: "record not an object", rawTicket: `[101]`, rejected: &rej{"", "malformed_record"}},
		{name: "record null", rawTicket: `null`, rejected: &rej{"", "missing_field"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := baseTicket(101)
			if tc.ticket != nil {
				tc.ticket(tk)
			}
			ms := baseMetricSet(101)
			if tc.metrics != nil {
				tc.metrics(ms)
			}
			var first any = tk
			if tc.rawTicket != "" {
				first = json.RawMessage(tc.rawTicket)
			}
			metricSets := []any{baseMetricSet(102)}
			if !tc.noMetrics {
				metricSets = append([]any{ms}, metricSets...)
			}
			// Ticket 102 is a valid control: it decodes whatever 101 is.
			body := makePage(t, []any{first, baseTicket(102)}, metricSets)

			p, err := DecodePage(body)
			if err != nil {
				t.Fatalf("DecodePage: %v", err)
			}
			if p.AfterCursor != "YWZ0ZXI=" || p.EndOfStream {
				t.Errorf("cursor %q, end of stream %v", p.AfterCursor, p.EndOfStream)
			}
			control := ticketByID(t, p, "102")
			wantControl := baseWant()
			wantControl.ID, wantControl.Group = "102", "360001234567"
			assertTicket(t, control, wantControl)

			for _, r := range p.Rejected {
				if r.Reason == "" || r.Err == nil {
					t.Errorf("rejection without reason or error: %+v", r)
				}
			}
			if tc.rejected != nil {
				if len(p.Tickets) != 1 {
					t.Errorf("got %d tickets, want only the control", len(p.Tickets))
				}
				if !hasRejection(p, tc.rejected.id, tc.rejected.reason) {
					t.Errorf("rejections %+v, want {ID:%q Reason:%q}", p.Rejected, tc.rejected.id, tc.rejected.reason)
				}
			} else {
				got := ticketByID(t, p, "101")
				if tc.want != nil {
					want := baseWant()
					tc.want(&want)
					assertTicket(t, got, want)
				}
				err := got.Validate()
				var ie *helpdesk.InvalidError
				switch {
				case tc.validate == "" && err != nil:
					t.Errorf("Validate: %v", err)
				case tc.validate != "" && !errors.As(err, &ie):
					t.Errorf("Validate = %v, want an InvalidError %q", err, tc.validate)
				case tc.validate != "" && ie.Reason != tc.validate:
					t.Errorf("Validate reason = %q (%v), want %q", ie.Reason, err, tc.validate)
				}
				wantRejected := 0
				if tc.name == "metric set without ticket_id" {
					wantRejected = 1
				}
				if len(p.Rejected) != wantRejected {
					t.Errorf("unexpected rejections: %+v", p.Rejected)
				}
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func set(key string, v any) func(map[string]any) {
	return func(m map[string]any) { m[key] = v }
}

func del(key string) func(map[string]any) {
	return func(m map[string]any) { delete(m, key) }
}

func channel(c any) func(map[string]any) {
	return func(m map[string]any) {
		m["via"] = map[string]any{"channel": c, "source": map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}}
	}
}

func rating(score string) func(map[string]any) {
	return func(m map[string]any) {
		m["satisfaction_rating"] = map[string]any{"id": 7700000101, "score": score, "comment": "thanks"}
	}
}

func ticketByID(t *testing.T, p *Page, id string) helpdesk.Ticket {
	t.Helper()
	for _, tk := range p.Tickets {
		if tk.ID == id {
			return tk
		}
	}
	t.Fatalf("ticket %s not decoded; tickets %d, rejected %+v", id, len(p.Tickets), p.Rejected)
	return helpdesk.Ticket{}
}

func hasRejection(p *Page, id, reason string) bool {
	for _, r := range p.Rejected {
		if r.ID == id && r.Reason == reason {
			return true
		}
	}
	return false
}

func TestDecodePageUnknownStatusKeepsRest(t *testing.T) {
	body := `{"tickets":[
	  {"id":1,"status":"open","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z","generated_timestamp":1704067200},
	  {"id":2,"status":"escalated","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z","generated_timestamp":1704067200},
	  {"id":3,"status":"solved","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z","generated_timestamp":1704067200}],
	 "metric_sets":[{"ticket_id":1,"replies":0},{"ticket_id":2,"replies":0},{"ticket_id":3,"replies":1}],
	 "after_cursor":"c2","end_of_stream":false}`
	p, err := DecodePage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tk := range p.Tickets {
		ids = append(ids, tk.ID)
	}
	if strings.Join(ids, ",") != "1,3" {
		t.Errorf("decoded tickets %v, want 1,3", ids)
	}
	if len(p.Rejected) != 1 || p.Rejected[0].ID != "2" || p.Rejected[0].Reason != "unknown_value" {
		t.Fatalf("rejected = %+v", p.Rejected)
	}
	if !strings.Contains(p.Rejected[0].Err.Error(), "escalated") {
		t.Errorf("error %q does not name the status", p.Rejected[0].Err)
	}
}

func TestDecodePageErrors(t *testing.T) {
	tests := []struct{ name, body string }{
		{"no after_cursor", `{"tickets":[],"metric_sets":[],"end_of_stream":true}`},
		{"null after_cursor", `{"tickets":[],"metric_sets":[],"after_cursor":null,"end_of_stream":true}`},
		{"empty after_cursor", `{"tickets":[],"metric_sets":[],"after_cursor":"","end_of_stream":true}`},
		{"after_cursor not a string", `{"tickets":[],"after_cursor":12,"end_of_stream":true}`},
		{"invalid JSON", `{"tickets":[{"id":1,]}`},
		{"truncated", realisticPage[:len(realisticPage)/2]},
		{"empty body", ``},
		{"HTML error page", `<html><body>Bad gateway</body></html>`},
		{"array", `[{"id":1}]`},
		{"null", `null`},
		{"tickets not an array", `{"tickets":{"id":1},"after_cursor":"x","end_of_stream":true}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte(tc.body))
			if err == nil {
				t.Fatalf("DecodePage = %+v, want an error", p)
			}
			if p != nil {
				t.Errorf("page %+v returned with error %v", p, err)
			}
		})
	}
}

func TestDecodePageEmpty(t *testing.T) {
	p, err := DecodePage([]byte(`{"tickets":[],"metric_sets":[],"after_cursor":"MTcwOQ==","before_cursor":null,"end_of_stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tickets) != 0 || len(p.Rejected) != 0 || p.AfterCursor != "MTcwOQ==" || !p.EndOfStream {
		t.Errorf("page = %+v", p)
	}
}

// canonical is tested directly for what a page cannot express: a metric
// set the decoder already matched.
func TestCanonicalDirect(t *testing.T) {
	id := int64(7)
	created, updated := utc("2024-05-01T00:00:00Z"), utc("2024-05-01T01:00:00Z")
	at := &apiTicket{ID: &id, Status: "pending", CreatedAt: &created, UpdatedAt: &updated, GeneratedTimestamp: updated.Unix()}
	two := 2
	calendar := int64(100_000_001)
	metrics := map[int64]*apiMetricSet{7: {TicketID: 7, Replies: &two, ReplyTimeInMinutes: &minutePair{Calendar: &calendar}}}
	got, rej := canonical(at, metrics)
	if rej != nil {
		t.Fatalf("rejected: %+v", rej)
	}
	want := helpdesk.Ticket{ID: "7", Status: helpdesk.StatusPending, Priority: "none", Channel: "other", Type: "none",
		CreatedAt: created, UpdatedAt: updated, Replied: true, AgentReplies: 2, Reopens: -1,
		FirstReply: helpdesk.Durations{Calendar: -1, CalendarKnown: true}}
	assertTicket(t, got, want)
	var ie *helpdesk.InvalidError
	if err := got.Validate(); !errors.As(err, &ie) || ie.Reason != "negative_duration" {
		t.Errorf("Validate = %v, want negative_duration", err)
	}

	if _, rej := canonical(at, nil); rej == nil || rej.ID != "7" || rej.Reason != "missing_field" {
		t.Errorf("without metric set: %+v", rej)
	}
	if _, rej := canonical(&apiTicket{Status: "open"}, metrics); rej == nil || rej.ID != "" || rej.Reason != "missing_field" {
		t.Errorf("without id: %+v", rej)
	}
}
