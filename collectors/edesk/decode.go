package edesk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// Layout is eDesk's date-time format; the times are UTC.
const Layout = "2006-01-02 15:04:05"

// apiPage is a page of GET /tickets.
type apiPage struct {
	Data      []json.RawMessage `json:"data"`
	Paginator *struct {
		CurrentPage     int `json:"currentPage"`
		ItemsPerPage    int `json:"itemsPerPage"`
		TotalItemsCount int `json:"totalItemsCount"`
	} `json:"paginator"`
}

// apiTicket is a ticket of GET /tickets.
type apiTicket struct {
	ID            *int64          `json:"id"`
	Type          *string         `json:"type"`
	ChannelID     *int64          `json:"channel_id"`
	Status        *string         `json:"status"`
	CreatedAt     json.RawMessage `json:"created_at"`
	LastUpdatedAt json.RawMessage `json:"last_updated_at"`
	OwnerUserID   *int64          `json:"owner_user_id"`
	MessagesIDs   []int64         `json:"messages_ids"`
	Replies       *int            `json:"replies"`
}

// Listed is a ticket as the listing shows it: its canonical fields so
// far (reply facts, solve time and rating come from its items), and what
// the sync needs to complete it.
type Listed struct {
	Ticket     helpdesk.Ticket
	ChannelID  int64
	MessageIDs []int64
	// Fingerprint identifies the version: the same id listed again with
	// the same fingerprint (the day re-read) is skipped.
	Fingerprint string
}

// Page is a decoded ticket page.
type Page struct {
	Tickets  []Listed
	Rejected []source.Rejection
	// LastUpdated is the latest last_updated_at of the page (also of
	// rejected records that had one).
	LastUpdated time.Time
	// Last says there is no page after this one.
	Last bool
}

// DecodePage parses one page of GET /tickets. A body that is not a JSON
// object with a data array is an error; a record that cannot be mapped is
// a Rejection and the rest of the page still decodes. perPage is the
// itemsPerPage asked for: without a paginator, a shorter page is the last
// one.
func DecodePage(body []byte, perPage int) (*Page, error) {
	return source.DecodePage(body, "ticket page", func(raw *apiPage) (*Page, error) { return raw.decode(perPage) })
}

func (raw *apiPage) decode(perPage int) (*Page, error) {
	if raw.Data == nil {
		return nil, fmt.Errorf("ticket page without data")
	}
	// The paginator says where the listing ends; without one, a short
	// page is the last.
	p := &Page{Last: len(raw.Data) < perPage || len(raw.Data) == 0}
	if pg := raw.Paginator; pg != nil && pg.CurrentPage > 0 && pg.ItemsPerPage > 0 && len(raw.Data) > 0 {
		p.Last = int64(pg.CurrentPage)*int64(pg.ItemsPerPage) >= int64(pg.TotalItemsCount)
	}
	for _, r := range raw.Data {
		var at apiTicket
		if err := json.Unmarshal(r, &at); err != nil {
			p.Rejected = append(p.Rejected, source.Rejection{ID: source.RecordID(r), Reason: "malformed_record", Err: err})
			continue
		}
		if up, ok, _ := parseTime(at.LastUpdatedAt); ok && up.After(p.LastUpdated) {
			p.LastUpdated = up
		}
		l, rej := canonical(&at)
		if rej != nil {
			p.Rejected = append(p.Rejected, *rej)
			continue
		}
		p.Tickets = append(p.Tickets, l)
	}
	return p, nil
}

// parseTime reads an eDesk time: "2006-01-02 15:04:05" (UTC), RFC 3339,
// or unix seconds (the reference types created_at as a number). ok is
// false for null or absent; err for anything else unreadable.
func parseTime(raw json.RawMessage) (t time.Time, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, false, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		for _, layout := range []string{Layout, time.RFC3339} {
			var v time.Time
			if layout == Layout {
				v, err = time.ParseInLocation(Layout, s, time.UTC)
			} else {
				v, err = time.Parse(layout, s)
			}
			if err == nil {
				return v.UTC(), true, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("unreadable time %q", s)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if f, err := n.Float64(); err == nil && f > 0 && f < 1e11 {
			return time.Unix(int64(f), 0).UTC(), true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("unreadable time %.40s", string(raw))
}

// Statuses maps eDesk's ticket statuses. Closed is the agent's resolution
// (a new customer message reopens it): solved; Archived: closed; Spam:
// deleted (a ticket marked spam leaves the backlog, as a deletion does);
// Scheduled (snoozed until a date): on hold.
var Statuses = map[string]helpdesk.Status{
	"open": helpdesk.StatusOpen, "pending": helpdesk.StatusPending, "scheduled": helpdesk.StatusOnHold,
	"closed": helpdesk.StatusSolved, "archived": helpdesk.StatusClosed, "spam": helpdesk.StatusDeleted,
}

// ChannelOf maps an eDesk channel type (GET /channels) to the canonical
// channel; marketplaces and shops (Amazon, eBay, Shopify, …) are "other".
func ChannelOf(kind string) string {
	k := strings.ToLower(strings.TrimSpace(kind))
	switch {
	case k == "":
		return "other"
	case strings.Contains(k, "mail"):
		return "email"
	case strings.Contains(k, "chat"):
		return "chat"
	case strings.Contains(k, "phone"), strings.Contains(k, "voice"), strings.Contains(k, "call"):
		return "phone"
	case strings.Contains(k, "form"), strings.Contains(k, "web"):
		return "web"
	case k == "api":
		return "api"
	}
	for _, s := range []string{"facebook", "instagram", "twitter", "whatsapp", "messenger", "tiktok", "x"} {
		if k == s || strings.HasPrefix(k, s) {
			return "social"
		}
	}
	return "other"
}

// TypeOf maps eDesk's ticket type labels to the canonical types.
func TypeOf(label string) string {
	switch label {
	case "Incident":
		return "incident"
	case "DefectiveItemReceived", "WrongItemReceived", "NegativeFeedback", "OrderClaim", "ResolutionCase":
		return "problem"
	case "ReturnRequest", "Refund", "Cancellation", "InvoiceRequest", "OrderAdjustment":
		return "task"
	case "Query", "ProductQuery", "OrderQuery", "OrderShippingInquiry", "PaymentsQuery", "Presales",
		"ReturnsQuery", "SampleQuery", "ShippingQuery", "OfferQuery", "ContactForm", "Chat", "Chatbot":
		return "question"
	}
	return "none"
}

// canonical maps a listed eDesk ticket.
func canonical(at *apiTicket) (Listed, *source.Rejection) {
	if at.ID == nil {
		return Listed{}, &source.Rejection{Reason: "missing_field", Err: fmt.Errorf("ticket without id")}
	}
	id := strconv.FormatInt(*at.ID, 10)
	reject := func(reason string, err error) (Listed, *source.Rejection) {
		return Listed{}, &source.Rejection{ID: id, Reason: reason, Err: err}
	}
	if at.Status == nil {
		return reject("missing_field", fmt.Errorf("ticket without status"))
	}
	st, ok := Statuses[strings.ToLower(*at.Status)]
	if !ok {
		return reject("unknown_value", fmt.Errorf("unknown status %.40q", *at.Status))
	}
	created, ok, err := parseTime(at.CreatedAt)
	if err != nil {
		return reject("malformed_record", fmt.Errorf("created_at: %w", err))
	}
	if !ok {
		return reject("missing_field", fmt.Errorf("ticket without created_at"))
	}
	updated, ok, err := parseTime(at.LastUpdatedAt)
	if err != nil {
		return reject("malformed_record", fmt.Errorf("last_updated_at: %w", err))
	}
	if !ok { // no items yet: unchanged since its creation
		updated = created
	}
	if updated.Before(created) {
		return reject("inconsistent_time", fmt.Errorf("last updated before creation"))
	}
	replies := 0
	if at.Replies != nil {
		if *at.Replies < 0 {
			return reject("unknown_value", fmt.Errorf("negative replies %d", *at.Replies))
		}
		replies = *at.Replies
	}
	l := Listed{
		Ticket: helpdesk.Ticket{
			ID: id, Status: st, Priority: helpdesk.PriorityNone, Channel: "other", Type: "none",
			CreatedAt: created, UpdatedAt: updated,
			AgentReplies: replies,
			// eDesk keeps no reopen count: the engine counts the
			// solved → unresolved transitions it sees.
			Reopens: -1,
		},
		MessageIDs: at.MessagesIDs,
	}
	if at.Type != nil {
		l.Ticket.Type = TypeOf(*at.Type)
	}
	// The owner is the agent the ticket is assigned to; eDesk tickets
	// carry no group.
	if at.OwnerUserID != nil && *at.OwnerUserID != 0 {
		l.Ticket.Assignee = strconv.FormatInt(*at.OwnerUserID, 10)
	}
	if at.ChannelID != nil {
		l.ChannelID = *at.ChannelID
	}
	l.Fingerprint = fmt.Sprintf("%d|%s|%d|%s|%d|%d|%s", updated.Unix(), strings.ToLower(*at.Status), l.ChannelID,
		l.Ticket.Assignee, replies, len(at.MessagesIDs), l.Ticket.Type)
	return l, nil
}

// apiItem is a ticket item of GET /messages/{id}.
type apiItem struct {
	Data *struct {
		ID        json.RawMessage `json:"id"`
		Type      string          `json:"type"`
		Direction string          `json:"direction"`
		Body      string          `json:"body"`
		CreatedAt json.RawMessage `json:"created_at"`
	} `json:"data"`
}

// Item is a decoded ticket item: what the sync reads of it.
type Item struct {
	Type      string
	Direction string
	Body      string
	CreatedAt time.Time
}

// DecodeItem parses the body of GET /messages/{id}.
func DecodeItem(body []byte) (Item, error) {
	return source.DecodePage(body, "ticket item", func(raw *apiItem) (Item, error) {
		if raw.Data == nil {
			return Item{}, fmt.Errorf("ticket item without data")
		}
		at, ok, err := parseTime(raw.Data.CreatedAt)
		if err != nil {
			return Item{}, fmt.Errorf("ticket item: %w", err)
		}
		if !ok {
			return Item{}, fmt.Errorf("ticket item without created_at")
		}
		return Item{Type: raw.Data.Type, Direction: raw.Data.Direction, Body: raw.Data.Body, CreatedAt: at}, nil
	})
}

// AgentReply reports an agent's public reply: an outgoing Message.
func (it Item) AgentReply() bool { return it.Type == "Message" && it.Direction == "Outgoing" }

// RatingOf reads a Rating item's body: good, neutral or bad in words
// (eDesk's survey answers), or a score of 1 to 5 (4–5 good, 3 neutral,
// 1–2 bad).
func RatingOf(body string) (helpdesk.Rating, bool) {
	b := strings.ToLower(strings.TrimSpace(body))
	if n, err := strconv.Atoi(b); err == nil {
		switch {
		case n >= 4 && n <= 5:
			return helpdesk.RatingGood, true
		case n == 3:
			return helpdesk.RatingNeutral, true
		case n >= 1 && n <= 2:
			return helpdesk.RatingBad, true
		}
		return helpdesk.RatingNone, false
	}
	switch b {
	case "good", "great", "positive", "happy", "satisfied":
		return helpdesk.RatingGood, true
	case "neutral", "ok", "okay":
		return helpdesk.RatingNeutral, true
	case "bad", "not good", "poor", "negative", "unhappy", "unsatisfied":
		return helpdesk.RatingBad, true
	}
	return helpdesk.RatingNone, false
}

// channelsPage is a page of GET /channels.
type channelsPage struct {
	Data []struct {
		ID   int64  `json:"id"`
		Type string `json:"type"`
	} `json:"data"`
}
