package helpscout

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// halPage is the paging block of every Mailbox API 2.0 listing.
type halPage struct {
	Size          int `json:"size"`
	TotalElements int `json:"totalElements"`
	TotalPages    int `json:"totalPages"`
	Number        int `json:"number"`
}

type halLinks struct {
	Next *struct {
		Href string `json:"href"`
	} `json:"next"`
}

// listPage is one page of GET /v2/conversations.
type listPage struct {
	Embedded *struct {
		Conversations []json.RawMessage `json:"conversations"`
	} `json:"_embedded"`
	Page  *halPage `json:"page"`
	Links halLinks `json:"_links"`
}

type apiConversation struct {
	ID        *int64 `json:"id"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	State     string `json:"state"`
	MailboxID *int64 `json:"mailboxId"`
	// Assignee is the user the conversation is assigned to (absent when
	// unassigned).
	Assignee *struct {
		ID *int64 `json:"id"`
	} `json:"assignee"`
	CreatedAt     *time.Time `json:"createdAt"`
	ClosedAt      *time.Time `json:"closedAt"`
	UserUpdatedAt *time.Time `json:"userUpdatedAt"`
	ModifiedAt    *time.Time `json:"modifiedAt"`
	Source        *struct {
		Type string `json:"type"`
		Via  string `json:"via"`
	} `json:"source"`
}

// Page is a decoded conversations page. Tickets lack the reply fields
// (FirstReplyAt, AgentReplies) and the rating: the collector fills them
// from threads, the ratings report and the stored state.
type Page struct {
	Tickets    []helpdesk.Ticket
	Rejected   []source.Rejection
	Number     int // 1-based page number
	TotalPages int
	// Last is true when no page follows.
	Last bool
	// MaxModified is the latest modification time on the page (zero when empty).
	MaxModified time.Time
}

// Statuses maps Help Scout's conversation status to the canonical one.
// Spam is not a support conversation: it leaves the backlog as deleted.
var Statuses = map[string]helpdesk.Status{
	"active": helpdesk.StatusOpen, "open": helpdesk.StatusOpen,
	"pending": helpdesk.StatusPending,
	"closed":  helpdesk.StatusSolved,
	"spam":    helpdesk.StatusDeleted,
}

// Channels maps source.type (and, without a source, the conversation
// type) to the canonical channel; anything else is "other".
var Channels = map[string]string{
	"email": "email", "emailfwd": "email", "forward": "email",
	"web": "web", "form": "web", "beacon": "web", "beacon-v2": "web",
	"chat": "chat", "beacon-chat": "chat", "messaging": "chat",
	"phone": "phone",
	"api":   "api", "notification": "api", "zapier": "api",
	"facebook": "social", "instagram": "social", "twitter": "social", "messenger": "social", "whatsapp": "social", "sms": "social",
}

// DecodePage parses one conversations page. A body that is not a
// conversations page is an error; a record that cannot be mapped is a
// Rejection and the rest of the page still decodes.
func DecodePage(body []byte) (*Page, error) {
	return source.DecodePage(body, "conversations page", (*listPage).decode)
}

func (raw *listPage) decode() (*Page, error) {
	if raw.Page == nil {
		return nil, fmt.Errorf("malformed conversations page: no page block")
	}
	if raw.Page.Number < 0 || raw.Page.TotalPages < 0 {
		return nil, fmt.Errorf("malformed conversations page: negative page numbers")
	}
	p := &Page{Number: raw.Page.Number, TotalPages: raw.Page.TotalPages}
	p.Last = raw.Links.Next == nil || p.Number >= p.TotalPages
	if raw.Embedded == nil {
		if raw.Page.TotalElements > 0 && p.Number <= p.TotalPages {
			return nil, fmt.Errorf("malformed conversations page: no _embedded.conversations")
		}
		return p, nil
	}
	for _, r := range raw.Embedded.Conversations {
		var ac apiConversation
		if err := json.Unmarshal(r, &ac); err != nil {
			p.Rejected = append(p.Rejected, source.Rejection{ID: source.RecordID(r), Reason: "malformed_record", Err: err})
			continue
		}
		t, skip, rej := canonical(&ac)
		if rej != nil {
			p.Rejected = append(p.Rejected, *rej)
			continue
		}
		if t.UpdatedAt.After(p.MaxModified) {
			p.MaxModified = t.UpdatedAt
		}
		if !skip {
			p.Tickets = append(p.Tickets, t)
		}
	}
	return p, nil
}

// canonical maps a conversation. skip is true for drafts, which are not
// conversations yet.
func canonical(ac *apiConversation) (t helpdesk.Ticket, skip bool, rej *source.Rejection) {
	if ac.ID == nil {
		return t, false, &source.Rejection{Reason: "missing_field", Err: fmt.Errorf("conversation without id")}
	}
	id := strconv.FormatInt(*ac.ID, 10)
	reject := func(reason, format string, args ...any) (helpdesk.Ticket, bool, *source.Rejection) {
		return helpdesk.Ticket{}, false, &source.Rejection{ID: id, Reason: reason, Err: fmt.Errorf(format, args...)}
	}
	st, ok := Statuses[ac.Status]
	if !ok {
		return reject("unknown_value", "unknown status %q", ac.Status)
	}
	if ac.CreatedAt == nil {
		return reject("missing_field", "missing createdAt")
	}
	t = helpdesk.Ticket{
		ID: id, Status: st, Priority: helpdesk.PriorityNone, Type: "none", Channel: "other",
		CreatedAt: *ac.CreatedAt, UpdatedAt: *ac.CreatedAt, Reopens: -1,
	}
	// The version is the modification time (what modifiedSince filters
	// on); closedAt is not one: Help Scout lets it be set to any time.
	for _, u := range []*time.Time{ac.ModifiedAt, ac.UserUpdatedAt} {
		if u != nil && u.After(t.UpdatedAt) {
			t.UpdatedAt = *u
		}
	}
	switch strings.ToLower(ac.State) {
	case "deleted":
		t.Status = helpdesk.StatusDeleted
	case "draft":
		skip = true
	}
	if ac.MailboxID != nil {
		t.Group = strconv.FormatInt(*ac.MailboxID, 10)
	}
	if ac.Assignee != nil && ac.Assignee.ID != nil && *ac.Assignee.ID > 0 {
		t.Assignee = strconv.FormatInt(*ac.Assignee.ID, 10)
	}
	src := ac.Type
	if ac.Source != nil && ac.Source.Type != "" {
		src = ac.Source.Type
	}
	if c, ok := Channels[strings.ToLower(src)]; ok {
		t.Channel = c
	}
	if ac.ClosedAt != nil && t.Status.Resolved() {
		t.SolvedAt = *ac.ClosedAt
	}
	return t, skip, nil
}

// threadsPage is one page of GET /v2/conversations/{id}/threads.
type threadsPage struct {
	Embedded *struct {
		Threads []apiThread `json:"threads"`
	} `json:"_embedded"`
	Page  *halPage `json:"page"`
	Links halLinks `json:"_links"`
}

type apiThread struct {
	ID        int64      `json:"id"`
	Type      string     `json:"type"`
	State     string     `json:"state"`
	CreatedAt *time.Time `json:"createdAt"`
	CreatedBy *struct {
		Type string `json:"type"`
	} `json:"createdBy"`
}

// Replies is what a conversation's threads say about agent replies.
type Replies struct {
	First time.Time // the first agent reply, zero when none
	Count int       // agent reply threads
}

// add folds one page of threads into r. A reply is a thread of type
// "reply" created by a user (an agent), not a draft or hidden one.
func (r *Replies) add(tp *threadsPage) {
	if tp.Embedded == nil {
		return
	}
	for _, th := range tp.Embedded.Threads {
		if th.Type != "reply" || th.CreatedBy == nil || th.CreatedBy.Type != "user" {
			continue
		}
		if th.State == "draft" || th.State == "hidden" {
			continue
		}
		r.Count++
		if th.CreatedAt != nil && (r.First.IsZero() || th.CreatedAt.Before(r.First)) {
			r.First = *th.CreatedAt
		}
	}
}

// DecodeThreads parses one threads page (all of a conversation's threads
// when it has a single page).
func DecodeThreads(body []byte) (Replies, error) {
	var tp threadsPage
	if err := json.Unmarshal(body, &tp); err != nil {
		return Replies{}, fmt.Errorf("malformed threads page: %w", err)
	}
	var r Replies
	r.add(&tp)
	return r, nil
}

// ratingsPage is one page of GET /v2/reports/happiness/ratings.
type ratingsPage struct {
	Results []apiRating `json:"results"`
	Page    int         `json:"page"`
	Pages   int         `json:"pages"`
	Count   int         `json:"count"`
}

type apiRating struct {
	ConversationID  int64      `json:"id"`
	Number          int64      `json:"number"`
	RatingID        int        `json:"ratingId"`
	RatingCreatedAt *time.Time `json:"ratingCreatedAt"`
}

// RatingValues maps the report's ratingId (1 Great, 2 Okay, 3 Not Good).
var RatingValues = map[int]helpdesk.Rating{1: helpdesk.RatingGood, 2: helpdesk.RatingNeutral, 3: helpdesk.RatingBad}

// Rating is a conversation's latest happiness rating.
type Rating struct {
	ConversationID string
	Rating         helpdesk.Rating
	At             time.Time
}
