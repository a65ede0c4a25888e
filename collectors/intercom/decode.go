package intercom

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// searchPage is one page of POST /conversations/search.
type searchPage struct {
	Type          string            `json:"type"`
	Conversations []json.RawMessage `json:"conversations"`
	TotalCount    int               `json:"total_count"`
	Pages         *struct {
		Next *struct {
			StartingAfter string `json:"starting_after"`
		} `json:"next"`
	} `json:"pages"`
}

type apiConversation struct {
	ID             json.RawMessage `json:"id"` // a string; numeric in some old payloads
	CreatedAt      *int64          `json:"created_at"`
	UpdatedAt      *int64          `json:"updated_at"`
	State          string          `json:"state"`
	Priority       *string         `json:"priority"`
	TeamAssigneeID json.RawMessage `json:"team_assignee_id"` // string, number or null
	// AdminAssigneeID is the teammate the conversation is assigned to.
	AdminAssigneeID json.RawMessage `json:"admin_assignee_id"` // number, string or null
	Source          *struct {
		Type        string `json:"type"`
		DeliveredAs string `json:"delivered_as"`
	} `json:"source"`
	Statistics         *apiStatistics `json:"statistics"`
	ConversationRating *struct {
		Rating    *int   `json:"rating"`
		CreatedAt *int64 `json:"created_at"`
	} `json:"conversation_rating"`
}

type apiStatistics struct {
	FirstAdminReplyAt *int64 `json:"first_admin_reply_at"`
	LastAdminReplyAt  *int64 `json:"last_admin_reply_at"`
	LastCloseAt       *int64 `json:"last_close_at"`
	CountReopens      *int   `json:"count_reopens"`
}

// Page is a decoded search page.
type Page struct {
	Tickets  []helpdesk.Ticket
	Rejected []source.Rejection
	// Next is pages.next.starting_after, "" on the last page.
	Next string
	// MaxUpdatedAt is the newest updated_at (unix seconds) of the page's
	// records, rejected ones included; 0 when the page is empty.
	MaxUpdatedAt int64
	// LastCloses are the tickets' statistics.last_close_at, also of
	// conversations open again (zero: never closed), for the backfill.
	LastCloses []time.Time
}

// DecodePage parses one search page. A body that is not a conversation list
// is an error; a record that cannot be mapped is a Rejection and the rest
// of the page still decodes.
func DecodePage(body []byte) (*Page, error) {
	return source.DecodePage(body, "search page", (*searchPage).decode)
}

func (raw *searchPage) decode() (*Page, error) {
	if raw.Type != "conversation.list" || raw.Conversations == nil {
		return nil, fmt.Errorf("malformed search page: not a conversation.list")
	}
	p := &Page{}
	if raw.Pages != nil && raw.Pages.Next != nil {
		p.Next = raw.Pages.Next.StartingAfter
	}
	for _, r := range raw.Conversations {
		var ac apiConversation
		if err := json.Unmarshal(r, &ac); err != nil {
			p.Rejected = append(p.Rejected, source.Rejection{ID: source.RecordID(r), Reason: "malformed_record", Err: err})
			continue
		}
		if ac.UpdatedAt != nil && *ac.UpdatedAt > p.MaxUpdatedAt && *ac.UpdatedAt < maxUnix {
			p.MaxUpdatedAt = *ac.UpdatedAt
		}
		t, rej := canonical(&ac)
		if rej != nil {
			p.Rejected = append(p.Rejected, *rej)
			continue
		}
		p.Tickets = append(p.Tickets, t)
		var closed time.Time
		if ac.Statistics != nil && ac.Statistics.LastCloseAt != nil {
			closed, _ = unix(*ac.Statistics.LastCloseAt)
		}
		p.LastCloses = append(p.LastCloses, closed)
	}
	return p, nil
}

// states maps Intercom's conversation states. Intercom has one resolved
// state, closed, which is the canonical solved (closing is the agent's
// "resolved" action; there is no later archival step like Zendesk's
// closed). Snoozed conversations wait on a timer, like Zendesk's on-hold.
var states = map[string]helpdesk.Status{
	"open":    helpdesk.StatusOpen,
	"snoozed": helpdesk.StatusOnHold,
	"closed":  helpdesk.StatusSolved,
}

// priorities maps Intercom's two-valued priority flag.
var priorities = map[string]string{
	"priority":     helpdesk.PriorityHigh,
	"not_priority": helpdesk.PriorityNormal,
}

// channels maps source.type; types not listed are "other".
var channels = map[string]string{
	"email":        "email",
	"conversation": "chat", // the Messenger
	"chat":         "chat",
	"messenger":    "chat",
	"push":         "chat",
	"phone_call":   "phone",
	"phone_switch": "phone",
	"sms":          "phone",
	"twitter":      "social",
	"facebook":     "social",
	"instagram":    "social",
	"whatsapp":     "social",
	"api":          "api",
}

// apiDeliveries are source.delivered_as values that mean the conversation
// was started by software rather than on a channel: they map to "api"
// whatever source.type says.
var apiDeliveries = map[string]bool{"automated": true}

// maxUnix keeps timestamps far from time.Duration's overflow: later than
// year 9999 is nonsense.
const maxUnix = 253402300799

func unix(v int64) (time.Time, bool) {
	if v <= 0 || v > maxUnix {
		return time.Time{}, false
	}
	return time.Unix(v, 0).UTC(), true
}

// canonical maps an Intercom conversation to the canonical model.
func canonical(ac *apiConversation) (helpdesk.Ticket, *source.Rejection) {
	id := source.IDString(ac.ID)
	if id == "" {
		return helpdesk.Ticket{}, &source.Rejection{Reason: "missing_field", Err: fmt.Errorf("conversation without id")}
	}
	reject := func(reason, format string, args ...any) (helpdesk.Ticket, *source.Rejection) {
		return helpdesk.Ticket{}, &source.Rejection{ID: id, Reason: reason, Err: fmt.Errorf(format, args...)}
	}
	st, ok := states[ac.State]
	if !ok {
		return reject("unknown_value", "unknown state %q", ac.State)
	}
	if ac.CreatedAt == nil || ac.UpdatedAt == nil {
		return reject("missing_field", "missing created_at or updated_at")
	}
	created, ok1 := unix(*ac.CreatedAt)
	updated, ok2 := unix(*ac.UpdatedAt)
	if !ok1 || !ok2 {
		return reject("inconsistent_time", "created_at or updated_at out of range")
	}
	t := helpdesk.Ticket{
		ID: id, Status: st, Priority: helpdesk.PriorityNone, Type: "none", Channel: "other",
		Group: source.IDString(ac.TeamAssigneeID), CreatedAt: created, UpdatedAt: updated, Reopens: -1,
	}
	if t.Group == "0" {
		t.Group = "" // unassigned
	}
	if t.Assignee = source.IDString(ac.AdminAssigneeID); t.Assignee == "0" {
		t.Assignee = ""
	}
	if ac.Priority != nil {
		p, ok := priorities[*ac.Priority]
		if !ok {
			return reject("unknown_value", "unknown priority %q", *ac.Priority)
		}
		t.Priority = p
	}
	if ac.Source != nil {
		if c, ok := channels[ac.Source.Type]; ok {
			t.Channel = c
		}
		if apiDeliveries[ac.Source.DeliveredAs] {
			t.Channel = "api"
		}
	}
	if s := ac.Statistics; s != nil {
		if s.FirstAdminReplyAt != nil {
			at, ok := unix(*s.FirstAdminReplyAt)
			if !ok {
				return reject("inconsistent_time", "first_admin_reply_at out of range")
			}
			t.FirstReplyAt, t.Replied, t.AgentReplies = at, true, 1
			// Intercom counts no admin replies: a later last reply
			// means at least two.
			if s.LastAdminReplyAt != nil && *s.LastAdminReplyAt > *s.FirstAdminReplyAt {
				t.AgentReplies = 2
			}
		}
		if s.LastCloseAt != nil && st == helpdesk.StatusSolved {
			at, ok := unix(*s.LastCloseAt)
			if !ok {
				return reject("inconsistent_time", "last_close_at out of range")
			}
			t.SolvedAt = at
		}
		if s.CountReopens != nil {
			if *s.CountReopens < 0 {
				return reject("unknown_value", "negative count_reopens")
			}
			t.Reopens = *s.CountReopens
		}
	}
	if r := ac.ConversationRating; r != nil && r.Rating != nil {
		switch v := *r.Rating; {
		case v >= 4 && v <= 5:
			t.Satisfaction = helpdesk.RatingGood
		case v == 3:
			t.Satisfaction = helpdesk.RatingNeutral
		case v >= 1 && v <= 2:
			t.Satisfaction = helpdesk.RatingBad
		default:
			return reject("unknown_value", "conversation rating %d not in 1-5", v)
		}
		if r.CreatedAt != nil {
			if at, ok := unix(*r.CreatedAt); ok {
				t.SatisfactionAt = at
			}
		}
	}
	return t, nil
}
