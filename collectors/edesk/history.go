package edesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// history is the registry's History hook: the account's history for
// `cx-exporter backfill`.
func history(c *Config, d source.Deps) (source.History, error) {
	base := c.URL
	if base == "" {
		base = DefaultBaseURL
	}
	return NewHistory(Options{Deps: d, BaseURL: base, Token: c.APIToken})
}

// NewHistory returns the account's history: the tickets changed since the
// backfill's start (the poller's listing from the day DayLag before it,
// and its decoder) and every item of each (the poller's item reader:
// agent replies, Status and Rating items, each with its time), each
// ticket replayed as the versions its timestamps allow
// (source.TicketVersions): created, its first agent reply, every status
// change its Status items date (pending spells, solves and reopens), its
// latest rating, and its current version at last_updated_at.
func NewHistory(o Options) (*source.Timeline, error) {
	c, err := New(o)
	if err != nil {
		return nil, err
	}
	return &source.Timeline{Vendor: "edesk", Read: c.readHistory, Dir: c.Directory()}, nil
}

func (c *Syncer) readHistory(ctx context.Context, from, _ time.Time, requests *int) (source.Versions, error) {
	var tickets []helpdesk.Ticket
	changes := map[string][]source.StatusChange{}
	fetchedChannels := false
	cur := Cursor{Since: from.Add(-DayLag).UTC().Format("2006-01-02"), Page: 1}
	for ; ; cur.Page++ {
		*requests++
		page, err := c.fetchPage(ctx, cur)
		if err != nil {
			return source.Versions{}, err
		}
		c.o.RejectAll(page.Rejected)
		if !fetchedChannels && c.unknownChannel(page.Tickets) {
			fetchedChannels = true
			if err := c.fetchChannels(ctx); err != nil {
				return source.Versions{}, err
			}
			c.mu.Lock()
			*requests += len(c.channels)/100 + 1
			c.mu.Unlock()
		}
		for i := range page.Tickets {
			l := &page.Tickets[i]
			if l.Ticket.UpdatedAt.Before(from) {
				continue // listed for the day's start only: unchanged in the range
			}
			t, ch, err := c.historyTicket(ctx, l, requests)
			if err != nil {
				return source.Versions{}, err
			}
			tickets, changes[t.ID] = append(tickets, t), ch
		}
		if page.Last {
			break
		}
	}
	return source.Versions{Tickets: source.TicketTimelines(tickets, changes)}, nil
}

// historyTicket completes a listed ticket from all its items, and returns
// its status changes (its Status items).
func (c *Syncer) historyTicket(ctx context.Context, l *Listed, requests *int) (helpdesk.Ticket, []source.StatusChange, error) {
	t := l.Ticket
	var changes []source.StatusChange
	t.Channel = c.channel(l.ChannelID)
	var solved time.Time
	for _, mid := range l.MessageIDs {
		*requests++
		it, err := c.item(ctx, mid)
		var se *upstream.StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			continue // removed since it was listed
		}
		if err != nil {
			return t, nil, err
		}
		switch {
		case it.AgentReply():
			if t.FirstReplyAt.IsZero() || it.CreatedAt.Before(t.FirstReplyAt) {
				t.FirstReplyAt, t.Replied = it.CreatedAt.UTC(), true
			}
		case it.Type == "Status":
			st, ok := Statuses[strings.ToLower(strings.TrimSpace(it.Body))]
			if !ok {
				continue
			}
			changes = append(changes, source.StatusChange{At: it.CreatedAt.UTC(), Status: st})
			if st.Resolved() && it.CreatedAt.After(solved) {
				solved = it.CreatedAt.UTC()
			}
		case it.Type == "Rating":
			r, ok := RatingOf(it.Body)
			if !ok {
				c.o.Reject(t.ID, "unknown_value", fmt.Errorf("ticket item %d: unknown rating %.20q", mid, it.Body))
				continue
			}
			if !it.CreatedAt.Before(t.SatisfactionAt) {
				t.Satisfaction, t.SatisfactionAt = r, it.CreatedAt.UTC()
			}
		}
	}
	if solved.IsZero() && t.Status.Resolved() {
		solved = t.UpdatedAt // no Status item: dated by the last change, as the poller does
	}
	if !solved.IsZero() && !solved.Before(t.CreatedAt) {
		t.SolvedAt = solved
	}
	return t, changes, nil
}
