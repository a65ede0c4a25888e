// Package intercom is the Intercom collector: it pages through
// POST /conversations/search for conversations updated since the last
// sync, maps them to the canonical model and feeds the helpdesk engine one
// committed page at a time.
//
// Mapping decisions (Intercom has fewer states and fields than the
// canonical ticket):
//
//   - state: open → open, snoozed → on_hold, closed → solved. Intercom has
//     no separate solved/closed: closing is the resolution. Other states
//     are rejected (unknown_value).
//   - priority: "priority" → high, "not_priority" → normal, absent → none.
//   - channel, from source.type: email → email; conversation, chat,
//     messenger, push → chat; phone_call, phone_switch, sms → phone;
//     twitter, facebook, instagram, whatsapp → social; api → api; anything
//     else → other. source.delivered_as "automated" (started by software)
//     → api whatever the type.
//   - group: team_assignee_id; type and brand: none.
//   - first reply: statistics.first_admin_reply_at. Intercom's
//     time_to_admin_reply is office-hours aware when the workspace has
//     office hours and calendar otherwise, and the API does not say which:
//     it is not used. The engine observes first_admin_reply_at −
//     created_at as calendar time and the business time of
//     CX_BUSINESS_HOURS between them.
//   - solve: state closed with statistics.last_close_at as the solve time
//     (resolution = last_close_at − created_at, business time likewise from
//     CX_BUSINESS_HOURS; time_to_last_close is not used, for the reason
//     above).
//   - reopens: statistics.count_reopens.
//   - agent replies: the API counts none. 0 without a first admin reply,
//     1 with one, 2 when last_admin_reply_at is later than
//     first_admin_reply_at (a lower bound): enough for the first-contact
//     rule (exactly one reply) and for the le="1" one-touch bucket.
//   - rating: conversation_rating.rating 4–5 → good, 3 → neutral,
//     1–2 → bad, with conversation_rating.created_at as its time.
//   - deletions: the search API never returns deleted conversations (they
//     vanish), so a deleted conversation stays in the backlog as last seen.
//
// Sync: the cursor {updated_after, starting_after} is stored with the
// aggregates in the page's transaction. Each listing asks for
// updated_at > updated_after sorted by updated_at ascending and follows
// pages.next.starting_after; when it ends, updated_after becomes the newest
// updated_at seen minus one second, because updated_at has a one-second
// resolution: the conversations of the newest second are read again at the
// next sync (the engine applies an identical version without events), and
// a change later within that second is not missed.
package intercom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// SearchPath is the conversation search endpoint.
const SearchPath = "/conversations/search"

// APIVersion is the pinned Intercom-Version header.
const APIVersion = "2.11"

// DefaultBaseURL is Intercom's US region.
const DefaultBaseURL = "https://api.intercom.io"

// MaxPageSize is the search API's largest per_page.
const MaxPageSize = 150

// Options configure a Syncer.
type Options struct {
	source.Deps
	BaseURL string // https://api.intercom.io (default)
	Token   string // access token, sent as Bearer
	// PageSize is per_page (1..150, default 150).
	PageSize int
	Tracker  *helpdesk.Tracker
}

// Syncer syncs one Intercom workspace.
type Syncer struct {
	o      Options
	client *upstream.Client
}

// Cursor is the persisted position of the sync.
type Cursor struct {
	// UpdatedAfter is the listing's filter: updated_at > UpdatedAfter.
	UpdatedAfter int64 `json:"updated_after"`
	// StartingAfter is the next page of the listing in progress; "" when
	// a new listing starts.
	StartingAfter string `json:"starting_after,omitempty"`
	// MaxSeen is the newest updated_at seen in the listing in progress.
	MaxSeen int64 `json:"max_seen,omitempty"`
}

// New returns a collector. The token goes only into request headers.
func New(o Options) (*Syncer, error) {
	if o.PageSize <= 0 || o.PageSize > MaxPageSize {
		o.PageSize = MaxPageSize
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	o.Deps = o.WithDefaults()
	if u, err := url.Parse(o.BaseURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("intercom base URL %q is not a URL", source.RedactURL(o.BaseURL))
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Token == "" {
		return nil, errors.New("intercom needs an access token")
	}
	token := o.Token
	authorize := func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Intercom-Version", APIVersion)
	}
	return &Syncer{o: o, client: o.NewClient(authorize, "X-RateLimit-Remaining")}, nil
}

// Sync pages from the persisted cursor to the end of the listing,
// committing each page with its cursor. Cancelling ctx stops it between
// pages; the page in flight is fetched and committed first.
func (c *Syncer) Sync(ctx context.Context) error {
	return c.o.Pages(ctx, func(fctx context.Context) (bool, error) {
		cur, err := c.cursor()
		if err != nil {
			return false, err
		}
		page, err := c.fetch(fctx, cur)
		if err != nil {
			return false, err
		}
		c.o.ResolveNames(fctx, page.Tickets)
		next := cur
		next.MaxSeen = max(cur.MaxSeen, page.MaxUpdatedAt)
		if page.Next != "" {
			next.StartingAfter = page.Next
		} else {
			if next.MaxSeen > 0 {
				next.UpdatedAfter = max(cur.UpdatedAfter, next.MaxSeen-1)
			}
			next.StartingAfter, next.MaxSeen = "", 0
		}
		return page.Next == "", c.commit(page, next)
	})
}

func (c *Syncer) cursor() (Cursor, error) {
	var cur Cursor
	err := c.o.LoadCursor(&cur)
	return cur, err
}

type searchQuery struct {
	Field    string `json:"field"`
	Operator string `json:"operator"`
	Value    int64  `json:"value"`
}

type searchPagination struct {
	PerPage       int    `json:"per_page"`
	StartingAfter string `json:"starting_after,omitempty"`
}

type searchSort struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

// SearchRequest is the body of POST /conversations/search.
type SearchRequest struct {
	Query      searchQuery      `json:"query"`
	Pagination searchPagination `json:"pagination"`
	Sort       searchSort       `json:"sort"`
}

func (c *Syncer) request(cur Cursor) SearchRequest {
	return SearchRequest{
		Query:      searchQuery{Field: "updated_at", Operator: ">", Value: cur.UpdatedAfter},
		Pagination: searchPagination{PerPage: c.o.PageSize, StartingAfter: cur.StartingAfter},
		Sort:       searchSort{Field: "updated_at", Order: "ascending"},
	}
}

func (c *Syncer) fetch(ctx context.Context, cur Cursor) (*Page, error) {
	return source.FetchPage(c.o.Deps, SearchPath, func(raw *searchPage) error {
		_, err := c.client.DoJSON(ctx, http.MethodPost, c.o.BaseURL+SearchPath, c.request(cur), raw)
		return err
	}, (*searchPage).decode)
}

// commit applies a page and stores the next cursor and the aggregates in
// one transaction, then publishes it to scrapes.
func (c *Syncer) commit(page *Page, next Cursor) error {
	return c.o.CommitTickets(c.o.Tracker, page.Tickets, source.Page{Rejected: page.Rejected, Cursor: next})
}
