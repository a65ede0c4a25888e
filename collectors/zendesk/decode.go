package zendesk

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// exportPage is one page of the cursor-based incremental ticket export.
type exportPage struct {
	Tickets     []json.RawMessage `json:"tickets"`
	MetricSets  []json.RawMessage `json:"metric_sets"`
	AfterCursor *string           `json:"after_cursor"`
	EndOfStream bool              `json:"end_of_stream"`
}

type apiTicket struct {
	ID                 *int64     `json:"id"`
	Status             string     `json:"status"`
	Priority           *string    `json:"priority"`
	Type               *string    `json:"type"`
	Via                *apiVia    `json:"via"`
	GroupID            *int64     `json:"group_id"`
	AssigneeID         *int64     `json:"assignee_id"`
	BrandID            *int64     `json:"brand_id"`
	CreatedAt          *time.Time `json:"created_at"`
	UpdatedAt          *time.Time `json:"updated_at"`
	GeneratedTimestamp int64      `json:"generated_timestamp"`
	SatisfactionRating *struct {
		Score string `json:"score"`
	} `json:"satisfaction_rating"`
}

type apiVia struct {
	Channel json.RawMessage `json:"channel"` // a string; numeric in some old payloads
}

type minutePair struct {
	Calendar *int64 `json:"calendar"`
	Business *int64 `json:"business"`
}

type apiMetricSet struct {
	TicketID                    int64       `json:"ticket_id"`
	Replies                     *int        `json:"replies"`
	Reopens                     *int        `json:"reopens"`
	SolvedAt                    *time.Time  `json:"solved_at"`
	ReplyTimeInMinutes          *minutePair `json:"reply_time_in_minutes"`
	FullResolutionTimeInMinutes *minutePair `json:"full_resolution_time_in_minutes"`
	RequesterWaitTimeInMinutes  *minutePair `json:"requester_wait_time_in_minutes"`
	AgentWaitTimeInMinutes      *minutePair `json:"agent_wait_time_in_minutes"`
	OnHoldTimeInMinutes         *minutePair `json:"on_hold_time_in_minutes"`
}

// Page is a decoded export page.
type Page struct {
	Tickets     []helpdesk.Ticket
	Rejected    []source.Rejection
	AfterCursor string
	EndOfStream bool
}

// DecodePage parses one export page. A body that is not an export page is
// an error; a record that cannot be mapped is a Rejection and the rest of
// the page still decodes.
func DecodePage(body []byte) (*Page, error) {
	return source.DecodePage(body, "export page", (*exportPage).decode)
}

func (raw *exportPage) decode() (*Page, error) {
	if raw.AfterCursor == nil || *raw.AfterCursor == "" {
		return nil, fmt.Errorf("malformed export page: no after_cursor")
	}
	p := decodeTickets(raw.Tickets, raw.MetricSets)
	p.AfterCursor, p.EndOfStream = *raw.AfterCursor, raw.EndOfStream
	return p, nil
}

// decodeTickets maps tickets with their metric sets; a record that cannot
// be mapped is a Rejection.
func decodeTickets(tickets, metricSets []json.RawMessage) *Page {
	p := &Page{}
	metrics := make(map[int64]*apiMetricSet, len(metricSets))
	for _, m := range metricSets {
		var ms apiMetricSet
		if err := json.Unmarshal(m, &ms); err != nil || ms.TicketID == 0 {
			p.Rejected = append(p.Rejected, source.Rejection{ID: source.RecordID(m), Reason: "malformed_record", Err: fmt.Errorf("metric set: %v", errOr(err, "no ticket_id"))})
			continue
		}
		metrics[ms.TicketID] = &ms
	}
	for _, r := range tickets {
		var at apiTicket
		if err := json.Unmarshal(r, &at); err != nil {
			p.Rejected = append(p.Rejected, source.Rejection{ID: source.RecordID(r), Reason: "malformed_record", Err: err})
			continue
		}
		t, rej := canonical(&at, metrics)
		if rej != nil {
			p.Rejected = append(p.Rejected, *rej)
			continue
		}
		p.Tickets = append(p.Tickets, t)
	}
	return p
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

var statuses = map[string]helpdesk.Status{
	"new": helpdesk.StatusNew, "open": helpdesk.StatusOpen, "pending": helpdesk.StatusPending,
	"hold": helpdesk.StatusOnHold, "solved": helpdesk.StatusSolved, "closed": helpdesk.StatusClosed,
	"deleted": helpdesk.StatusDeleted,
}

// channels maps Zendesk's open set of via.channel values; others are "other".
var channels = map[string]string{
	"email": "email", "web": "web", "web_form": "web", "web_widget": "web", "help_center": "web",
	"mobile": "web", "mobile_sdk": "web",
	"chat": "chat", "native_messaging": "chat", "messaging": "chat", "sunshine_conversations_api": "chat",
	"voice": "phone", "phone": "phone", "sms": "phone",
	"api":     "api",
	"twitter": "social", "facebook": "social", "instagram": "social", "instagram_dm": "social",
	"whatsapp": "social", "line": "social", "wechat": "social", "apple_business_chat": "social", "any_channel": "social",
}

var ratings = map[string]helpdesk.Rating{
	"": helpdesk.RatingNone, "offered": helpdesk.RatingNone, "unoffered": helpdesk.RatingNone,
	"good": helpdesk.RatingGood, "bad": helpdesk.RatingBad,
}

// canonical maps a Zendesk ticket and its metric set to the canonical model.
func canonical(at *apiTicket, metrics map[int64]*apiMetricSet) (helpdesk.Ticket, *source.Rejection) {
	if at.ID == nil {
		return helpdesk.Ticket{}, &source.Rejection{Reason: "missing_field", Err: fmt.Errorf("ticket without id")}
	}
	id := strconv.FormatInt(*at.ID, 10)
	reject := func(reason, format string, args ...any) (helpdesk.Ticket, *source.Rejection) {
		return helpdesk.Ticket{}, &source.Rejection{ID: id, Reason: reason, Err: fmt.Errorf(format, args...)}
	}
	st, ok := statuses[at.Status]
	if !ok {
		return reject("unknown_value", "unknown status %q", at.Status)
	}
	if at.CreatedAt == nil || at.UpdatedAt == nil {
		return reject("missing_field", "missing created_at or updated_at")
	}
	t := helpdesk.Ticket{
		ID: id, Status: st, Priority: helpdesk.PriorityNone, Type: "none", Channel: "other",
		Group: optID(at.GroupID), Brand: optID(at.BrandID), Assignee: optID(at.AssigneeID),
		CreatedAt: *at.CreatedAt, UpdatedAt: *at.UpdatedAt, Reopens: -1,
	}
	// generated_timestamp moves on every change, updated_at not on system
	// updates: the later of the two orders versions of a ticket.
	if g := time.Unix(at.GeneratedTimestamp, 0); g.After(t.UpdatedAt) {
		t.UpdatedAt = g
	}
	if at.Priority != nil {
		t.Priority = *at.Priority
	}
	if at.Type != nil {
		t.Type = *at.Type
	}
	if at.Via != nil {
		var ch string
		if json.Unmarshal(at.Via.Channel, &ch) == nil {
			if c, ok := channels[ch]; ok {
				t.Channel = c
			}
		}
	}
	if at.SatisfactionRating != nil {
		r, ok := ratings[at.SatisfactionRating.Score]
		if !ok {
			return reject("unknown_value", "unknown satisfaction score %q", at.SatisfactionRating.Score)
		}
		t.Satisfaction = r
	}
	ms := metrics[*at.ID]
	if ms == nil {
		if st != helpdesk.StatusDeleted {
			return reject("missing_field", "no metric set")
		}
		return t, nil
	}
	if ms.Replies != nil {
		t.AgentReplies = *ms.Replies
	}
	if ms.Reopens != nil {
		t.Reopens = *ms.Reopens
	}
	if ms.SolvedAt != nil {
		t.SolvedAt = *ms.SolvedAt
	}
	t.FirstReply = durations(ms.ReplyTimeInMinutes)
	t.Replied = t.AgentReplies > 0 || t.FirstReply.CalendarKnown
	t.Resolution = durations(ms.FullResolutionTimeInMinutes)
	t.RequesterWait = durations(ms.RequesterWaitTimeInMinutes)
	t.AgentWait = durations(ms.AgentWaitTimeInMinutes)
	t.OnHold = durations(ms.OnHoldTimeInMinutes)
	return t, nil
}

func optID(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}

func durations(p *minutePair) helpdesk.Durations {
	var d helpdesk.Durations
	if p == nil {
		return d
	}
	if p.Calendar != nil {
		d.Calendar, d.CalendarKnown = minutes(*p.Calendar), true
	}
	if p.Business != nil {
		d.Business, d.BusinessKnown = minutes(*p.Business), true
	}
	return d
}

// maxMinutes keeps minute counts far from time.Duration's overflow.
const maxMinutes = 100_000_000 // 190 years

// minutes converts; an absurd count becomes negative so validation rejects it.
func minutes(m int64) time.Duration {
	if m > maxMinutes || m < -maxMinutes {
		return -1
	}
	return time.Duration(m) * time.Minute
}
