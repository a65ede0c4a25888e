// Package freshdesk is the Freshdesk (API v2) collector: it lists tickets
// changed since a persisted updated_since with their stats, the deleted
// tickets, and the satisfaction ratings, maps them to the canonical model
// and feeds the helpdesk engine one committed page at a time.
//
// What Freshdesk does not give, and what the collector does instead:
//
//   - Reply counts: the ticket list has none, so AgentReplies is -1
//     (unknown) and the engine exports neither
//     helpdesk_tickets_solved_first_contact_total nor the replies-per-solve
//     histogram for Freshdesk: FCR and one-touch are absent, never a
//     constant. (Counting them would cost at least one
//     GET /tickets/{id}/conversations per solved ticket.)
//   - Reopen counts: none; Reopens is -1 and the engine counts the
//     solved → unresolved transitions it sees between polls (a ticket
//     reopened and solved again between two polls is not seen).
//   - Durations: none; the engine computes first-reply and resolution
//     times from first_responded_at, resolved_at (or closed_at) and
//     created_at, with CX_BUSINESS_HOURS for business time.
//   - Custom statuses (6 and up) count as open.
//   - Deleted tickets only come with filter=deleted: every sync costs one
//     extra request (more when many tickets were deleted) for them. Spam
//     is not listed: a ticket marked spam stays at its last status.
//   - Satisfaction ratings come from their own endpoint: each sync costs
//     one more request for them. The latest rating of a ticket (by
//     created_at) is kept, and applied to the ticket's last version, which
//     is stored for that purpose (a few dozen bytes a ticket).
//   - Paging is by page number, as the API offers: a ticket updated during
//     a multi-page listing moves to its end, shifting the pages not yet
//     read, so an unchanged ticket at a page boundary can be missed until
//     it changes again. The next listing starts at the last updated_at
//     seen (inclusive), so the tickets of that second are listed again and
//     dropped by the engine's stale check.
//   - Page cap: beyond page 300 (or on a 400 for a page > 1: the client
//     sees the error's description, not errors[0].field) the listing
//     restarts at page 1 from the last updated_at seen.
package freshdesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// The endpoints, below the base URL.
const (
	TicketsPath = "/api/v2/tickets"
	RatingsPath = "/api/v2/surveys/satisfaction_ratings"
)

// MaxPage is the last page Freshdesk serves for one query; beyond it the
// collector re-anchors updated_since.
const MaxPage = 300

// State keys of the collector's own records, in the source's bucket (the
// engine's records bucket holds only ticket states).
const (
	ratingKeyPrefix = "fd/rating/"
	ticketKeyPrefix = "fd/ticket/"
)

// Options configure a Syncer.
type Options struct {
	source.Deps
	BaseURL string // https://acme.freshdesk.com
	APIKey  string
	// PageSize is per_page (1..100, default 100).
	PageSize int
	// StartTime is the first request's updated_since (default the epoch:
	// a full backfill, so the backlog gauges see every open ticket; the
	// watermark keeps history uncounted).
	StartTime time.Time
	Tracker   *helpdesk.Tracker
}

// Syncer syncs one Freshdesk account.
type Syncer struct {
	o      Options
	client *upstream.Client
}

// Phase is the position of one listing: its updated_since (created_since
// for ratings), the next page, and the latest time seen so far.
type Phase struct {
	Since time.Time `json:"since"`
	Page  int       `json:"page"`
	Last  time.Time `json:"last,omitzero"`
}

// Cursor is the persisted sync position.
type Cursor struct {
	Tickets Phase `json:"tickets"`
	Deleted Phase `json:"deleted"`
	Ratings Phase `json:"ratings"`
}

// New returns a collector. The API key goes only into request headers.
func New(o Options) (*Syncer, error) {
	if o.PageSize <= 0 || o.PageSize > 100 {
		o.PageSize = 100
	}
	if o.StartTime.IsZero() {
		o.StartTime = time.Unix(0, 0).UTC()
	}
	o.Deps = o.WithDefaults()
	if u, err := url.Parse(o.BaseURL); err != nil || o.BaseURL == "" || u.Host == "" {
		return nil, fmt.Errorf("freshdesk base URL %q is not a URL", source.RedactURL(o.BaseURL))
	}
	o.BaseURL = strings.TrimSuffix(strings.TrimRight(o.BaseURL, "/"), "/api/v2")
	if o.APIKey == "" {
		return nil, errors.New("freshdesk needs an API key")
	}
	key := o.APIKey
	authorize := func(r *http.Request) { r.SetBasicAuth(key, "X") }
	return &Syncer{o: o, client: o.NewClient(authorize, "X-RateLimit-Remaining")}, nil
}

// Sync lists new ratings, then changed tickets, then deleted tickets, each
// from its persisted position to its last page, committing every page with
// the cursor. Cancelling ctx stops it between pages; the page in flight is
// fetched and committed first.
func (c *Syncer) Sync(ctx context.Context) error {
	// Ratings first: on the first sync they are then attached to tickets
	// seen for the first time, whose backfill honours the watermark.
	phases := []phaseKind{phaseRatings, phaseTickets, phaseDeleted}
	for i, kind := range phases {
		if err := c.syncPhase(ctx, kind); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil && i < len(phases)-1 {
			return err
		}
	}
	return nil // the last phase's end is committed, whatever the deadline
}

type phaseKind int

const (
	phaseTickets phaseKind = iota
	phaseDeleted
	phaseRatings
)

func (k phaseKind) of(cur *Cursor) *Phase {
	switch k {
	case phaseDeleted:
		return &cur.Deleted
	case phaseRatings:
		return &cur.Ratings
	}
	return &cur.Tickets
}

func (k phaseKind) path() string {
	if k == phaseRatings {
		return RatingsPath
	}
	return TicketsPath
}

func (c *Syncer) syncPhase(ctx context.Context, kind phaseKind) error {
	return c.o.Pages(ctx, func(fctx context.Context) (bool, error) {
		cur, err := c.Cursor()
		if err != nil {
			return false, err
		}
		ph := kind.of(&cur)
		if ph.Page > MaxPage {
			return false, c.reanchor(&cur, ph, kind)
		}
		body, next, err := c.fetch(fctx, kind, ph)
		var se *upstream.StatusError
		if errors.As(err, &se) && se.Status == http.StatusBadRequest && ph.Page > 1 {
			// Past the account's page cap (400, errors[0].field "page").
			c.o.Logger.Info("page cap reached, re-anchoring", "endpoint", kind.path(), "page", ph.Page)
			return false, c.reanchor(&cur, ph, kind)
		}
		if err != nil {
			return false, err
		}
		return c.commit(fctx, &cur, ph, kind, body, next) // done: the phase's end is committed
	})
}

// reanchor restarts a listing at page 1 from the latest time seen; the
// engine's stale check drops what is listed twice.
func (c *Syncer) reanchor(cur *Cursor, ph *Phase, kind phaseKind) error {
	since := ph.Last
	if !since.After(ph.Since) {
		// A whole page cap of records with the same second: step over it
		// rather than loop forever.
		since = ph.Since.Add(time.Second)
		c.o.Logger.Warn("page cap reached within one second of updates; skipping ahead", "endpoint", kind.path(), "since", since)
	}
	ph.Since, ph.Page = since, 1
	return c.putCursor(cur)
}

// Cursor returns the persisted cursor, initialised on the first sync.
func (c *Syncer) Cursor() (Cursor, error) {
	var cur Cursor
	if err := c.o.LoadCursor(&cur); err != nil {
		return cur, err
	}
	for _, ph := range []*Phase{&cur.Tickets, &cur.Deleted, &cur.Ratings} {
		if ph.Since.IsZero() {
			ph.Since = c.o.StartTime.UTC()
		}
		if ph.Page < 1 {
			ph.Page = 1
		}
	}
	return cur, nil
}

func (c *Syncer) putCursor(cur *Cursor) error { return c.o.SaveCursor(cur) }

func (c *Syncer) pageURL(kind phaseKind, ph *Phase) string {
	q := url.Values{"per_page": {strconv.Itoa(c.o.PageSize)}, "page": {strconv.Itoa(ph.Page)}}
	since := ph.Since.UTC().Format(time.RFC3339)
	switch kind {
	case phaseRatings:
		q.Set("created_since", since)
	default:
		q.Set("updated_since", since)
		q.Set("order_by", "updated_at")
		q.Set("order_type", "asc")
		q.Set("include", "stats")
		if kind == phaseDeleted {
			q.Set("filter", "deleted")
		}
	}
	return c.o.BaseURL + kind.path() + "?" + q.Encode()
}

func (c *Syncer) fetch(ctx context.Context, kind phaseKind, ph *Phase) ([]json.RawMessage, bool, error) {
	var raw []json.RawMessage
	h, err := c.client.GetJSON(ctx, c.pageURL(kind, ph), &raw)
	if err != nil {
		return nil, false, c.o.FetchFailed(err)
	}
	return raw, hasNext(h), nil
}

// hasNext reports a Link header with rel="next".
func hasNext(h http.Header) bool {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			if strings.Contains(strings.ReplaceAll(part, " ", ""), `rel="next"`) {
				return true
			}
		}
	}
	return false
}

// commit applies a page and stores the cursor, the aggregates and the
// collector's records in one transaction, then publishes it to scrapes.
// It reports whether the listing is done.
func (c *Syncer) commit(ctx context.Context, cur *Cursor, ph *Phase, kind phaseKind, raw []json.RawMessage, next bool) (bool, error) {
	var tickets []helpdesk.Ticket
	var ratings []Rating
	var rejected []source.Rejection
	var last time.Time
	if kind == phaseRatings {
		p := decodeRatings(raw)
		ratings, rejected, last = p.Ratings, p.Rejected, p.LastCreated
	} else {
		p := decodeTickets(raw, kind == phaseDeleted)
		tickets, rejected, last = p.Tickets, p.Rejected, p.LastUpdated
		c.o.ResolveNames(ctx, tickets)
	}
	if last.After(ph.Last) {
		ph.Last = last
	}
	if next {
		ph.Page++
	} else {
		if ph.Last.After(ph.Since) {
			ph.Since = ph.Last
		}
		ph.Page = 1
	}
	batch := c.o.Tracker.Begin()
	err := c.o.Commit(source.Page{Rejected: rejected, Cursor: cur}, batch, func(tx *state.Tx) error {
		for i := range tickets {
			if err := c.applyTicket(tx, batch, &tickets[i]); err != nil {
				return err
			}
		}
		for i := range ratings {
			if err := c.applyRating(tx, batch, &ratings[i]); err != nil {
				return err
			}
		}
		return nil
	}, func() {
		c.o.Tracker.Publish(batch)
		for i := range tickets {
			c.o.NoteApplied(tickets[i].ID)
		}
	})
	return !next, err
}

// applyTicket applies a ticket version with the ticket's latest rating,
// and keeps the version for ratings that arrive later.
func (c *Syncer) applyTicket(tx *state.Tx, batch *helpdesk.Batch, t *helpdesk.Ticket) error {
	if b := tx.Get(ratingKeyPrefix + t.ID); b != nil {
		var r storedRating
		if json.Unmarshal(b, &r) == nil {
			t.Satisfaction, t.SatisfactionAt = helpdesk.Rating(r.Rating), time.Unix(r.At, 0).UTC()
		}
	}
	ev, err := batch.Apply(tx.Records(), t)
	var inv *helpdesk.InvalidError
	switch {
	case errors.As(err, &inv):
		c.o.Reject(t.ID, inv.Reason, inv)
		return nil
	case err != nil:
		return err
	case ev.Stale:
		return nil
	}
	b, _ := json.Marshal(compact(t))
	return tx.Put(ticketKeyPrefix+t.ID, b)
}

// applyRating keeps a ticket's latest rating and, when the ticket is
// known, applies its last version carrying it.
func (c *Syncer) applyRating(tx *state.Tx, batch *helpdesk.Batch, r *Rating) error {
	key := ratingKeyPrefix + r.TicketID
	if b := tx.Get(key); b != nil {
		var old storedRating
		if json.Unmarshal(b, &old) == nil && (old.At > r.CreatedAt.Unix() || old.At == r.CreatedAt.Unix() && old.ID >= r.ID) {
			return nil // an older (or the same) rating
		}
	}
	b, _ := json.Marshal(storedRating{ID: r.ID, Rating: uint8(r.Rating), At: r.CreatedAt.Unix()})
	if err := tx.Put(key, b); err != nil {
		return err
	}
	tb := tx.Get(ticketKeyPrefix + r.TicketID)
	if tb == nil {
		return nil // applied when the ticket is listed
	}
	var st storedTicket
	if err := json.Unmarshal(tb, &st); err != nil {
		return fmt.Errorf("ticket %s: stored version: %w", r.TicketID, err)
	}
	t := st.ticket(r.TicketID)
	t.Satisfaction, t.SatisfactionAt = r.Rating, r.CreatedAt
	_, err := batch.Apply(tx.Records(), &t)
	var inv *helpdesk.InvalidError
	if errors.As(err, &inv) {
		c.o.Reject(t.ID, inv.Reason, inv)
		return nil
	}
	return err
}

type storedRating struct {
	ID     int64 `json:"i"`
	Rating uint8 `json:"r"`
	At     int64 `json:"a"`
}

// storedTicket is a ticket's last canonical version, compactly.
type storedTicket struct {
	Status   uint8  `json:"s"`
	Priority string `json:"p,omitempty"`
	Channel  string `json:"c,omitempty"`
	Group    string `json:"g,omitempty"`
	Assignee string `json:"as,omitempty"`
	Type     string `json:"t,omitempty"`
	Created  int64  `json:"cr"`
	Updated  int64  `json:"up"` // unix nanoseconds
	Replied  int64  `json:"fr,omitempty"`
	Solved   int64  `json:"so,omitempty"`
	Replies  int    `json:"n,omitempty"`
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func compact(t *helpdesk.Ticket) storedTicket {
	return storedTicket{
		Status: uint8(t.Status), Priority: t.Priority, Channel: t.Channel, Group: t.Group, Assignee: t.Assignee, Type: t.Type,
		Created: t.CreatedAt.Unix(), Updated: t.UpdatedAt.UnixNano(),
		Replied: unixOrZero(t.FirstReplyAt), Solved: unixOrZero(t.SolvedAt), Replies: t.AgentReplies,
	}
}

func (s *storedTicket) ticket(id string) helpdesk.Ticket {
	return helpdesk.Ticket{
		ID: id, Status: helpdesk.Status(s.Status), Priority: s.Priority, Channel: s.Channel, Group: s.Group, Assignee: s.Assignee, Type: s.Type,
		CreatedAt: time.Unix(s.Created, 0).UTC(), UpdatedAt: time.Unix(0, s.Updated).UTC(),
		FirstReplyAt: timeOrZero(s.Replied), Replied: s.Replied != 0, SolvedAt: timeOrZero(s.Solved),
		AgentReplies: -1, Reopens: -1,
	}
}
