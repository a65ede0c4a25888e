// Package edesk is the eDesk (Open API v1) collector: it lists the tickets
// changed since a date (filter_last_updated_at_gte, ordered by
// last_updated_at), reads ticket items (GET /messages/{id}) only for the
// changed tickets whose first reply, solve time or rating can have
// changed, maps tickets to the canonical model and feeds the helpdesk
// engine one committed page at a time.
//
// eDesk filters by a date, not a time, and starts that day in the
// account's time zone. Each listing therefore starts at the UTC date of
// DayLag (12 h, the most negative UTC offset) before the later of the
// previous listing's start and the latest change it saw, so that no zone
// can start the day after a change not yet read: every sync re-reads the
// tickets changed since the start of that day (12 to 36 hours of them). A re-read ticket
// whose version (last_updated_at, status, channel, owner, replies, items)
// is the one already applied is skipped: it costs no item reads and never
// counts twice. The listing's cursor (date, page, latest change seen) is
// committed with each page.
//
// Requests per sync, with W the tickets whose last_updated_at falls on or
// after the start of the re-read day (the changes since the last sync
// plus the rest of the last 12 to 36 hours' changes) and page size 100:
//
//	ceil(W/100) (at least 1) + I + C
//
// where I is one GET /messages/{id} per ticket item not read before, of
// the changed tickets that are not yet answered, or have just been solved,
// or are solved (for ratings) — never for tickets whose last change is
// older than the watermark (history) — and C is one GET /channels when a
// ticket names a channel not seen before (once per process otherwise).
//
// What eDesk does not give, and what the collector does instead:
//
//   - Priority: none in the API; every ticket is "none".
//   - Reopen counts: none; the engine counts solved → unresolved
//     transitions it sees between polls.
//   - Solve time: none on the ticket; the latest Status item of a newly
//     resolved ticket dates it (last_updated_at when there is none).
//   - Satisfaction: the reference lists a Rating ticket item without its
//     body's format; the collector reads the body as good/neutral/bad or a
//     1–5 score, and rejects (unknown_value) anything else.
//   - Requester wait, agent wait and hold times: none; those histograms
//     are absent for eDesk.
//   - Deletions: the API lists no deleted tickets; a ticket marked Spam
//     counts as deleted.
package edesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// DefaultBaseURL is eDesk's API base.
const DefaultBaseURL = "https://api.edesk.com/v1"

// The endpoints, below the base URL.
const (
	TicketsPath  = "/tickets"
	MessagesPath = "/messages/"
	ChannelsPath = "/channels"
)

// MaxPageSize is eDesk's largest itemsPerPage.
const MaxPageSize = 100

// DayLag is how far before the latest change seen the re-read day starts:
// the most negative UTC offset, so that the day starts before that change
// in every account time zone.
const DayLag = 12 * time.Hour

// memoPrefix keys the collector's own record of a ticket, in the
// source's bucket: what it has read of the ticket's items.
const memoPrefix = "ed/t/"

// Options configure a Syncer.
type Options struct {
	source.Deps
	BaseURL string // https://api.edesk.com/v1
	Token   string
	// PageSize is itemsPerPage (1..100, default 100).
	PageSize int
	// Watermark: tickets first seen whose last change is older are
	// history, and their items are never read.
	Watermark time.Time
	Tracker   *helpdesk.Tracker
}

// Syncer syncs one eDesk account.
type Syncer struct {
	o      Options
	client *upstream.Client

	mu       sync.Mutex
	channels map[int64]string // channel id → canonical channel
}

// Cursor is the persisted sync position.
type Cursor struct {
	// Since is the listing's filter_last_updated_at_gte (YYYY-MM-DD);
	// "" lists every ticket (the first sync).
	Since string `json:"since,omitempty"`
	Page  int    `json:"page"`
	// Latest is the latest last_updated_at seen.
	Latest time.Time `json:"latest,omitzero"`
	// Began is when the listing's first page was asked for: once the
	// listing ends, every change before it has been read.
	Began time.Time `json:"began,omitzero"`
}

// memo is what the collector has read of a ticket's items.
type memo struct {
	Fingerprint string `json:"f"`
	Read        int    `json:"n,omitempty"`  // messages_ids read, from the first
	FirstReply  int64  `json:"fr,omitempty"` // unix seconds
	Solved      int64  `json:"so,omitempty"`
	Rating      uint8  `json:"r,omitempty"`
	RatedAt     int64  `json:"ra,omitempty"`
}

// New returns a collector. The token goes only into request headers.
func New(o Options) (*Syncer, error) {
	if o.PageSize <= 0 || o.PageSize > MaxPageSize {
		o.PageSize = MaxPageSize
	}
	o.Deps = o.WithDefaults()
	if u, err := url.Parse(o.BaseURL); err != nil || o.BaseURL == "" || u.Host == "" {
		return nil, fmt.Errorf("edesk base URL %q is not a URL", source.RedactURL(o.BaseURL))
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Token == "" {
		return nil, errors.New("edesk needs an API token")
	}
	tok := o.Token
	authorize := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	return &Syncer{o: o, client: o.NewClient(authorize), channels: map[int64]string{}}, nil
}

// Sync lists the changed tickets from the persisted cursor to the last
// page, completing and committing each page with the cursor. Cancelling
// ctx stops it between pages; the page in flight is fetched and committed
// first.
func (c *Syncer) Sync(ctx context.Context) error {
	fetchedChannels := false
	return c.o.Pages(ctx, func(fctx context.Context) (bool, error) {
		var cur Cursor
		if err := c.o.LoadCursor(&cur); err != nil {
			return false, err
		}
		cur.Page = max(cur.Page, 1)
		began := c.o.Now().UTC().Truncate(time.Second)
		page, err := c.fetchPage(fctx, cur)
		if err != nil {
			return false, err
		}
		if !fetchedChannels && c.unknownChannel(page.Tickets) {
			fetchedChannels = true
			if err := c.fetchChannels(fctx); err != nil {
				return false, err
			}
		}
		memos, prev, err := c.stored(page.Tickets)
		if err != nil {
			return false, err
		}
		tickets, err := c.complete(fctx, page.Tickets, memos, prev)
		if err != nil {
			return false, err
		}
		c.o.ResolveNames(fctx, tickets)
		next := cur
		if cur.Page == 1 {
			next.Began = began
		}
		if page.LastUpdated.After(next.Latest) {
			next.Latest = page.LastUpdated
		}
		// A change dated ahead of our clock (skew) must not move the day
		// past changes still to come.
		if now := c.o.Now().UTC(); next.Latest.After(now) {
			next.Latest = now
		}
		if page.Last {
			// Every change before the listing began, and every change
			// listed, has been read: the next listing starts at the day
			// of the later of the two, less DayLag.
			upTo := next.Latest
			if next.Began.After(upTo) {
				upTo = next.Began
			}
			if !upTo.IsZero() {
				if day := upTo.Add(-DayLag).Format("2006-01-02"); day > next.Since {
					next.Since = day
				}
			}
			next.Page = 1
		} else {
			next.Page = cur.Page + 1
		}
		return page.Last, c.commit(tickets, page.Rejected, next, memos)
	})
}

func (c *Syncer) listURL(cur Cursor) string {
	q := url.Values{
		"order_by": {"last_updated_at"}, "order_direction": {"asc"},
		"page": {strconv.Itoa(cur.Page)}, "itemsPerPage": {strconv.Itoa(c.o.PageSize)},
	}
	if cur.Since != "" {
		q.Set("filter_last_updated_at_gte", cur.Since)
	}
	return c.o.BaseURL + TicketsPath + "?" + q.Encode()
}

func (c *Syncer) fetchPage(ctx context.Context, cur Cursor) (*Page, error) {
	return source.FetchPage(c.o.Deps, TicketsPath, func(raw *apiPage) error {
		_, err := c.client.GetJSON(ctx, c.listURL(cur), raw)
		return err
	}, func(raw *apiPage) (*Page, error) { return raw.decode(c.o.PageSize) })
}

func (c *Syncer) unknownChannel(ts []Listed) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range ts {
		if _, ok := c.channels[ts[i].ChannelID]; !ok {
			return true
		}
	}
	return false
}

// fetchChannels reads the account's channels (one page: accounts have a
// handful); a channel still unknown afterwards is "other".
func (c *Syncer) fetchChannels(ctx context.Context) error {
	for page := 1; page <= 100; page++ {
		var cp channelsPage
		u := c.o.BaseURL + ChannelsPath + "?" + url.Values{"page": {strconv.Itoa(page)}, "itemsPerPage": {"100"}}.Encode()
		if _, err := c.client.GetJSON(ctx, u, &cp); err != nil {
			return c.o.FetchFailed(err)
		}
		c.mu.Lock()
		for _, ch := range cp.Data {
			c.channels[ch.ID] = ChannelOf(ch.Type)
		}
		c.mu.Unlock()
		if len(cp.Data) < 100 {
			return nil
		}
	}
	return nil
}

func (c *Syncer) channel(id int64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.channels[id]; ok {
		return ch
	}
	c.channels[id] = "other" // asked once: not again this process
	return "other"
}

// stored reads the collector's memos and the engine's states of the
// listed tickets.
func (c *Syncer) stored(ts []Listed) (map[string]*memo, map[string]*helpdesk.State, error) {
	memos := make(map[string]*memo, len(ts))
	prev := make(map[string]*helpdesk.State, len(ts))
	err := c.o.State.View(func(tx *state.Tx) error {
		for i := range ts {
			id := ts[i].Ticket.ID
			if b := tx.Get(memoPrefix + id); b != nil {
				m := new(memo)
				if json.Unmarshal(b, m) == nil {
					memos[id] = m
				}
			}
			if v := tx.Records().Get(id); v != nil {
				s := new(helpdesk.State)
				if err := s.UnmarshalBinary(v); err != nil {
					return fmt.Errorf("ticket %s: %w", id, err)
				}
				prev[id] = s
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.o.Name, err)
	}
	return memos, prev, nil
}

// complete turns listed tickets into canonical versions: versions already
// applied are dropped, and the items that can carry a new first reply,
// solve or rating are read. memos is updated in place, for the commit.
func (c *Syncer) complete(ctx context.Context, ls []Listed, memos map[string]*memo, prev map[string]*helpdesk.State) ([]helpdesk.Ticket, error) {
	var out []helpdesk.Ticket
	for i := range ls {
		l := &ls[i]
		t := l.Ticket
		m, p := memos[t.ID], prev[t.ID]
		if m != nil && m.Fingerprint == l.Fingerprint && p != nil {
			continue // the day re-read: this version is applied already
		}
		if m == nil {
			m = &memo{}
		}
		if p != nil && t.UpdatedAt.UnixNano() < p.UpdatedAt {
			continue // stale: an older version than the one applied
		}
		t.Channel = c.channel(l.ChannelID)
		history := p == nil && t.UpdatedAt.Before(c.o.Watermark)
		replied := m.FirstReply != 0 || (p != nil && p.Replied)
		resolved := t.Status.Resolved()
		newlySolved := resolved && (p == nil || !p.Status.Resolved())
		m.Read = min(m.Read, len(l.MessageIDs))
		unread := l.MessageIDs[m.Read:]
		need := (!replied && t.AgentReplies > 0) || resolved
		switch {
		case history:
			m.Read = len(l.MessageIDs) // history: its past is not counted, never read
		case need && len(unread) > 0:
			var solvedAt time.Time
			for _, mid := range unread {
				it, err := c.item(ctx, mid)
				var se *upstream.StatusError
				if errors.As(err, &se) && se.Status == http.StatusNotFound {
					continue // removed since it was listed
				}
				if err != nil {
					return nil, err
				}
				switch {
				case it.AgentReply() && m.FirstReply == 0:
					m.FirstReply = it.CreatedAt.Unix()
				case it.Type == "Status":
					if st, ok := Statuses[strings.ToLower(strings.TrimSpace(it.Body))]; !ok || st.Resolved() {
						solvedAt = it.CreatedAt
					}
				case it.Type == "Rating":
					r, ok := RatingOf(it.Body)
					if !ok {
						c.o.Reject(t.ID, "unknown_value", fmt.Errorf("ticket item %d: unknown rating %.20q", mid, it.Body))
						continue
					}
					if at := it.CreatedAt.Unix(); at >= m.RatedAt {
						m.Rating, m.RatedAt = uint8(r), at
					}
				}
			}
			if newlySolved && !solvedAt.IsZero() {
				m.Solved = solvedAt.Unix()
			} else if newlySolved {
				m.Solved = t.UpdatedAt.Unix()
			}
			m.Read = len(l.MessageIDs)
		case newlySolved:
			m.Solved = t.UpdatedAt.Unix()
		}
		if resolved && m.Solved == 0 {
			m.Solved = t.UpdatedAt.Unix()
		}
		if m.FirstReply != 0 {
			t.FirstReplyAt, t.Replied = time.Unix(m.FirstReply, 0).UTC(), true
		}
		t.Replied = t.Replied || replied || (history && t.AgentReplies > 0)
		if resolved {
			t.SolvedAt = time.Unix(m.Solved, 0).UTC()
			if t.SolvedAt.Before(t.CreatedAt) {
				t.SolvedAt = t.CreatedAt
			}
		}
		t.Satisfaction = helpdesk.Rating(m.Rating)
		if m.RatedAt != 0 {
			t.SatisfactionAt = time.Unix(m.RatedAt, 0).UTC()
		}
		m.Fingerprint = l.Fingerprint
		memos[t.ID] = m
		out = append(out, t)
	}
	return out, nil
}

// item reads one ticket item.
func (c *Syncer) item(ctx context.Context, id int64) (Item, error) {
	return source.FetchPage(c.o.Deps, MessagesPath+"{id}", func(raw *json.RawMessage) error {
		_, err := c.client.GetJSON(ctx, c.o.BaseURL+MessagesPath+strconv.FormatInt(id, 10), raw)
		return err
	}, func(raw *json.RawMessage) (Item, error) { return DecodeItem(*raw) })
}

// commit applies the tickets and stores their memos, the cursor and the
// aggregates in one transaction, then publishes them to scrapes.
func (c *Syncer) commit(tickets []helpdesk.Ticket, rejected []source.Rejection, cur Cursor, memos map[string]*memo) error {
	batch := c.o.Tracker.Begin()
	return c.o.Commit(source.Page{Rejected: rejected, Cursor: cur}, batch, func(tx *state.Tx) error {
		for i := range tickets {
			t := &tickets[i]
			_, err := batch.Apply(tx.Records(), t)
			var inv *helpdesk.InvalidError
			switch {
			case errors.As(err, &inv):
				c.o.Reject(t.ID, inv.Reason, inv)
				continue // its memo is not kept: the next version is read afresh
			case err != nil:
				return err
			}
			b, _ := json.Marshal(memos[t.ID])
			if err := tx.Put(memoPrefix+t.ID, b); err != nil {
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
}
