package udesk

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// apiPage is a page of GET /open_api_v1/tickets.
type apiPage struct {
	Code    *int              `json:"code"`
	Message string            `json:"message"`
	Tickets []json.RawMessage `json:"tickets"`
	Meta    *apiMeta          `json:"meta"`
}

type apiMeta struct {
	CurrentPage int `json:"current_page"`
	TotalPages  int `json:"total_pages"`
	TotalCount  int `json:"total_count"`
}

// apiTicket is a work order of the list.
type apiTicket struct {
	ID           *int64           `json:"id"`
	StatusID     json.RawMessage  `json:"status_id"`
	PriorityID   *int             `json:"priority_id"`
	PlatformName *string          `json:"platform_name"`
	UserGroupID  *int64           `json:"user_group_id"`
	AssigneeID   *int64           `json:"assignee_id"`
	CreatedAt    *udeskTime       `json:"created_at"`
	UpdatedAt    *udeskTime       `json:"updated_at"`
	FirstReplyAt *udeskTime       `json:"first_reply_at"`
	ResolvedAt   *udeskTime       `json:"resolved_at"`
	ClosedAt     *udeskTime       `json:"closed_at"`
	Satisfaction *apiSatisfaction `json:"satisfaction"`
}

type apiSatisfaction struct {
	Score     *int       `json:"score"`
	CreatedAt *udeskTime `json:"created_at"`
}

// udeskTime reads Udesk's times: RFC 3339 with an offset
// ("2026-11-30T18:04:05.000+08:00"), or the older
// "2026-11-30 18:04:05 +0800"; "" is null.
type udeskTime struct{ time.Time }

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 -07:00"}

func (t *udeskTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("time %s: not a string", b)
	}
	if s == "" {
		return nil
	}
	for _, l := range timeLayouts {
		if v, err := time.Parse(l, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("time %q: unknown format", s)
}

func (t *udeskTime) get() time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

// Page is a decoded page of work orders.
type Page struct {
	Tickets  []helpdesk.Ticket
	Rejected []source.Rejection
	// Page and Pages are meta.current_page and meta.total_pages.
	Page, Pages int
	// LastUpdated is the latest updated_at of the page (also of rejected
	// records that had one).
	LastUpdated time.Time
}

// DecodePage parses one page of the work-order list. A body that is not
// Udesk's {code, tickets, meta} is an error; a work order that cannot be
// mapped is a Rejection and the rest of the page still decodes.
func DecodePage(body []byte) (*Page, error) {
	return source.DecodePage(body, "work-order page", decodePage)
}

func decodePage(raw *apiPage) (*Page, error) {
	switch {
	case raw.Code == nil:
		return nil, fmt.Errorf("malformed work-order page: no code")
	case *raw.Code != 1000:
		return nil, fmt.Errorf("udesk code %d: %s", *raw.Code, raw.Message)
	case raw.Meta == nil:
		return nil, fmt.Errorf("malformed work-order page: no meta")
	case raw.Meta.CurrentPage < 1 || raw.Meta.TotalPages < 0:
		return nil, fmt.Errorf("malformed work-order page: meta current_page %d of %d", raw.Meta.CurrentPage, raw.Meta.TotalPages)
	}
	p := &Page{Page: raw.Meta.CurrentPage, Pages: raw.Meta.TotalPages}
	for _, r := range raw.Tickets {
		var at apiTicket
		if err := json.Unmarshal(r, &at); err != nil {
			p.Rejected = append(p.Rejected, source.Rejection{ID: source.RecordID(r), Reason: "malformed_record", Err: err})
			continue
		}
		if u := at.UpdatedAt.get(); u.After(p.LastUpdated) {
			p.LastUpdated = u
		}
		t, rej := canonical(&at)
		if rej != nil {
			p.Rejected = append(p.Rejected, *rej)
			continue
		}
		p.Tickets = append(p.Tickets, t)
	}
	return p, nil
}

// Statuses maps Udesk's status_id. Custom sub-statuses are reported
// under their parent's id.
var Statuses = map[int]helpdesk.Status{
	1: helpdesk.StatusOpen,    // 开启 open
	2: helpdesk.StatusSolved,  // 已解决 resolved
	3: helpdesk.StatusClosed,  // 已关闭 closed
	4: helpdesk.StatusPending, // 解决中 solving: taken up, not yet resolved
}

// Priorities maps Udesk's priority_id.
var Priorities = map[int]string{
	1: helpdesk.PriorityUrgent, // 紧急
	2: helpdesk.PriorityHigh,   // 高
	3: helpdesk.PriorityNormal, // 标准
	4: helpdesk.PriorityLow,    // 低
}

// Channels maps platform_name; any other value is "other".
var Channels = map[string]string{
	"email": "email", "weibo": "social", "wechat": "social", "im": "chat", "call": "phone",
	"feedback": "web", "hc": "web", "manual_input": "other", "api": "api",
}

// RatingOf maps Udesk's five-point satisfaction score: 4-5 good, 3
// neutral, 1-2 bad.
func RatingOf(score int) (helpdesk.Rating, bool) {
	switch {
	case score >= 4 && score <= 5:
		return helpdesk.RatingGood, true
	case score == 3:
		return helpdesk.RatingNeutral, true
	case score >= 1 && score <= 2:
		return helpdesk.RatingBad, true
	}
	return helpdesk.RatingNone, false
}

// canonical maps a Udesk work order to the canonical model.
func canonical(at *apiTicket) (helpdesk.Ticket, *source.Rejection) {
	if at.ID == nil {
		return helpdesk.Ticket{}, &source.Rejection{Reason: "missing_field", Err: fmt.Errorf("work order without id")}
	}
	id := strconv.FormatInt(*at.ID, 10)
	reject := func(reason string, err error) (helpdesk.Ticket, *source.Rejection) {
		return helpdesk.Ticket{}, &source.Rejection{ID: id, Reason: reason, Err: err}
	}
	var sid int
	if err := json.Unmarshal(at.StatusID, &sid); err != nil {
		return reject("unknown_value", fmt.Errorf("unknown status_id %.32s", at.StatusID))
	}
	st, ok := Statuses[sid]
	if !ok {
		return reject("unknown_value", fmt.Errorf("unknown status_id %d", sid))
	}
	if at.CreatedAt.get().IsZero() || at.UpdatedAt.get().IsZero() {
		return reject("missing_field", fmt.Errorf("missing created_at or updated_at"))
	}
	t := helpdesk.Ticket{
		ID: id, Status: st, Priority: helpdesk.PriorityNone, Type: "none", Channel: "other",
		CreatedAt: at.CreatedAt.get(), UpdatedAt: at.UpdatedAt.get(),
		// Udesk's list gives neither a reply count nor a reopen count.
		AgentReplies: -1, Reopens: -1,
	}
	if at.UserGroupID != nil {
		t.Group = strconv.FormatInt(*at.UserGroupID, 10)
	}
	if at.AssigneeID != nil && *at.AssigneeID != 0 {
		t.Assignee = strconv.FormatInt(*at.AssigneeID, 10)
	}
	if at.PriorityID != nil {
		p, ok := Priorities[*at.PriorityID]
		if !ok {
			return reject("unknown_value", fmt.Errorf("unknown priority_id %d", *at.PriorityID))
		}
		t.Priority = p
	}
	if at.PlatformName != nil {
		if c, ok := Channels[strings.ToLower(strings.TrimSpace(*at.PlatformName))]; ok {
			t.Channel = c
		}
	}
	if r := at.FirstReplyAt.get(); !r.IsZero() {
		t.FirstReplyAt, t.Replied = r, true
	}
	switch {
	case !at.ResolvedAt.get().IsZero():
		t.SolvedAt = at.ResolvedAt.get()
	case !at.ClosedAt.get().IsZero():
		t.SolvedAt = at.ClosedAt.get()
	}
	if s := at.Satisfaction; s != nil && s.Score != nil {
		r, ok := RatingOf(*s.Score)
		if !ok {
			return reject("unknown_value", fmt.Errorf("unknown satisfaction score %d", *s.Score))
		}
		t.Satisfaction, t.SatisfactionAt = r, s.CreatedAt.get()
	}
	if !t.SolvedAt.IsZero() && t.SolvedAt.Before(t.CreatedAt) {
		return reject("inconsistent_time", fmt.Errorf("resolved before creation"))
	}
	if !t.FirstReplyAt.IsZero() && t.FirstReplyAt.Before(t.CreatedAt) {
		return reject("inconsistent_time", fmt.Errorf("first reply before creation"))
	}
	return t, nil
}
