package freshdesk

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// apiTicket is a ticket of GET /api/v2/tickets?include=stats.
type apiTicket struct {
	ID       *int64          `json:"id"`
	Status   json.RawMessage `json:"status"`
	Priority *int            `json:"priority"`
	Source   *int            `json:"source"`
	Type     *string         `json:"type"`
	GroupID  *int64          `json:"group_id"`
	// ResponderID is the agent the ticket is assigned to.
	ResponderID *int64     `json:"responder_id"`
	CompanyID   *int64     `json:"company_id"`
	CreatedAt   *time.Time `json:"created_at"`
	UpdatedAt   *time.Time `json:"updated_at"`
	Deleted     bool       `json:"deleted"`
	Stats       *apiStats  `json:"stats"`
}

type apiStats struct {
	FirstRespondedAt *time.Time `json:"first_responded_at"`
	AgentRespondedAt *time.Time `json:"agent_responded_at"`
	ReopenedAt       *time.Time `json:"reopened_at"`
	ResolvedAt       *time.Time `json:"resolved_at"`
	ClosedAt         *time.Time `json:"closed_at"`
}

// apiRating is a satisfaction rating of GET /api/v2/surveys/satisfaction_ratings.
type apiRating struct {
	ID        *int64                     `json:"id"`
	TicketID  *int64                     `json:"ticket_id"`
	Ratings   map[string]json.RawMessage `json:"ratings"`
	CreatedAt *time.Time                 `json:"created_at"`
	UpdatedAt *time.Time                 `json:"updated_at"`
}

// Page is a decoded ticket page.
type Page struct {
	Tickets  []helpdesk.Ticket
	Rejected []source.Rejection
	// LastUpdated is the latest updated_at of the page (also of rejected
	// records that had one): the re-anchoring point at the page cap.
	LastUpdated time.Time
}

// Rating is a decoded satisfaction rating.
type Rating struct {
	ID        int64
	TicketID  string
	Rating    helpdesk.Rating
	CreatedAt time.Time
}

// RatingPage is a decoded page of satisfaction ratings.
type RatingPage struct {
	Ratings     []Rating
	Rejected    []source.Rejection
	LastCreated time.Time
}

// DecodePage parses one ticket page (a bare JSON array). A body that is
// not an array is an error; a record that cannot be mapped is a Rejection
// and the rest of the page still decodes. deleted marks the page as one of
// filter=deleted: its tickets become status deleted.
func DecodePage(body []byte, deleted bool) (*Page, error) {
	return source.DecodePage(body, "ticket page", func(raw *[]json.RawMessage) (*Page, error) { return decodeTickets(*raw, deleted), nil })
}

func decodeTickets(raw []json.RawMessage, deleted bool) *Page {
	p := &Page{}
	for _, r := range raw {
		var at apiTicket
		if err := json.Unmarshal(r, &at); err != nil {
			p.Rejected = append(p.Rejected, source.Rejection{ID: source.RecordID(r), Reason: "malformed_record", Err: err})
			continue
		}
		if at.UpdatedAt != nil && at.UpdatedAt.After(p.LastUpdated) {
			p.LastUpdated = at.UpdatedAt.UTC()
		}
		t, rej := canonical(&at, deleted)
		if rej != nil {
			p.Rejected = append(p.Rejected, *rej)
			continue
		}
		p.Tickets = append(p.Tickets, t)
	}
	return p
}

// DecodeRatings parses one page of satisfaction ratings.
func DecodeRatings(body []byte) (*RatingPage, error) {
	return source.DecodePage(body, "satisfaction ratings page", func(raw *[]json.RawMessage) (*RatingPage, error) { return decodeRatings(*raw), nil })
}

func decodeRatings(raw []json.RawMessage) *RatingPage {
	p := &RatingPage{}
	for _, r := range raw {
		var ar apiRating
		if err := json.Unmarshal(r, &ar); err != nil {
			p.Rejected = append(p.Rejected, source.Rejection{ID: source.RecordID(r), Reason: "malformed_record", Err: err})
			continue
		}
		id := ""
		if ar.ID != nil {
			id = "rating/" + strconv.FormatInt(*ar.ID, 10)
		}
		if ar.CreatedAt != nil && ar.CreatedAt.After(p.LastCreated) {
			p.LastCreated = ar.CreatedAt.UTC()
		}
		if ar.ID == nil || ar.TicketID == nil || ar.CreatedAt == nil {
			p.Rejected = append(p.Rejected, source.Rejection{ID: id, Reason: "missing_field", Err: fmt.Errorf("satisfaction rating without id, ticket_id or created_at")})
			continue
		}
		v, ok := ar.Ratings["default_question"]
		if !ok {
			p.Rejected = append(p.Rejected, source.Rejection{ID: id, Reason: "missing_field", Err: fmt.Errorf("satisfaction rating without ratings.default_question")})
			continue
		}
		var score int
		if err := json.Unmarshal(v, &score); err != nil {
			p.Rejected = append(p.Rejected, source.Rejection{ID: id, Reason: "unknown_value", Err: fmt.Errorf("rating %s: not a score", v)})
			continue
		}
		rt, ok := RatingOf(score)
		if !ok {
			p.Rejected = append(p.Rejected, source.Rejection{ID: id, Reason: "unknown_value", Err: fmt.Errorf("unknown rating %d", score)})
			continue
		}
		p.Ratings = append(p.Ratings, Rating{ID: *ar.ID, TicketID: strconv.FormatInt(*ar.TicketID, 10), Rating: rt, CreatedAt: ar.CreatedAt.UTC()})
	}
	return p
}

// RatingOf maps Freshdesk's survey scale: 103, 102, 101 happy (good), 100
// neutral, -101, -102, -103 unhappy (bad).
func RatingOf(score int) (helpdesk.Rating, bool) {
	switch score {
	case 101, 102, 103:
		return helpdesk.RatingGood, true
	case 100:
		return helpdesk.RatingNeutral, true
	case -101, -102, -103:
		return helpdesk.RatingBad, true
	}
	return helpdesk.RatingNone, false
}

// Statuses maps Freshdesk's built-in status codes. Custom statuses (6 and
// up) are unresolved and map to open: Freshdesk's API does not say whether
// a custom status stops the SLA clock, so they stay in the backlog as open.
var Statuses = map[int]helpdesk.Status{
	2: helpdesk.StatusOpen, 3: helpdesk.StatusPending, 4: helpdesk.StatusSolved, 5: helpdesk.StatusClosed,
}

var priorities = map[int]string{
	1: helpdesk.PriorityLow, 2: helpdesk.PriorityNormal, 3: helpdesk.PriorityHigh, 4: helpdesk.PriorityUrgent,
}

// channels maps the source codes; others are "other".
var channels = map[int]string{
	1: "email", 2: "web", 3: "phone", 7: "chat", 9: "web", 10: "email",
}

var types = map[string]string{
	"question": "question", "incident": "incident", "problem": "problem", "task": "task",
}

func status(raw json.RawMessage) (helpdesk.Status, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("unknown status %s", string(raw))
	}
	if s, ok := Statuses[n]; ok {
		return s, nil
	}
	if n >= 6 && n < 1_000_000 {
		return helpdesk.StatusOpen, nil
	}
	return 0, fmt.Errorf("unknown status %d", n)
}

// canonical maps a Freshdesk ticket and its stats to the canonical model.
func canonical(at *apiTicket, deleted bool) (helpdesk.Ticket, *source.Rejection) {
	if at.ID == nil {
		return helpdesk.Ticket{}, &source.Rejection{Reason: "missing_field", Err: fmt.Errorf("ticket without id")}
	}
	id := strconv.FormatInt(*at.ID, 10)
	reject := func(reason string, err error) (helpdesk.Ticket, *source.Rejection) {
		return helpdesk.Ticket{}, &source.Rejection{ID: id, Reason: reason, Err: err}
	}
	st, err := status(at.Status)
	if err != nil {
		return reject("unknown_value", err)
	}
	if deleted || at.Deleted {
		st = helpdesk.StatusDeleted
	}
	if at.CreatedAt == nil || at.UpdatedAt == nil {
		return reject("missing_field", fmt.Errorf("missing created_at or updated_at"))
	}
	t := helpdesk.Ticket{
		ID: id, Status: st, Priority: helpdesk.PriorityNone, Type: "none", Channel: "other",
		Group: optID(at.GroupID), Assignee: optID(at.ResponderID), CreatedAt: at.CreatedAt.UTC(), UpdatedAt: at.UpdatedAt.UTC(),
		// Freshdesk keeps no reopen count: the engine counts the solved →
		// unresolved transitions it sees.
		Reopens: -1,
		// Nor a reply count: first-contact resolution is left absent
		// rather than guessed.
		AgentReplies: -1,
	}
	if at.Priority != nil {
		p, ok := priorities[*at.Priority]
		if !ok {
			return reject("unknown_value", fmt.Errorf("unknown priority %d", *at.Priority))
		}
		t.Priority = p
	}
	if at.Source != nil {
		if c, ok := channels[*at.Source]; ok {
			t.Channel = c
		}
	}
	if at.Type != nil {
		if ty, ok := types[strings.ToLower(strings.TrimSpace(*at.Type))]; ok {
			t.Type = ty
		}
	}
	if s := at.Stats; s != nil {
		if s.FirstRespondedAt != nil {
			t.FirstReplyAt, t.Replied = s.FirstRespondedAt.UTC(), true
		}
		switch {
		case s.ResolvedAt != nil:
			t.SolvedAt = s.ResolvedAt.UTC()
		case s.ClosedAt != nil:
			t.SolvedAt = s.ClosedAt.UTC()
		}
		if !t.SolvedAt.IsZero() && t.SolvedAt.Before(t.CreatedAt) {
			return reject("inconsistent_time", fmt.Errorf("resolved before creation"))
		}
		if !t.FirstReplyAt.IsZero() && t.FirstReplyAt.Before(t.CreatedAt) {
			return reject("inconsistent_time", fmt.Errorf("first response before creation"))
		}
	} else if st != helpdesk.StatusDeleted {
		return reject("missing_field", fmt.Errorf("no stats (include=stats)"))
	}
	return t, nil
}

func optID(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}
