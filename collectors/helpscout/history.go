package helpscout

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// NewHistory returns the account's history for `cx-exporter backfill`:
// the conversations modified since the backfill's start (the poller's
// listing and decoder), the threads of each (the poller's reply facts:
// the first agent reply and the reply count), and the happiness ratings
// report of the range, each conversation replayed as the versions its
// timestamps allow (source.TicketVersions): createdAt, the first reply
// thread, closedAt, its rating's time, and its current version at
// userUpdatedAt/modifiedAt.
func NewHistory(o Options) (*source.Timeline, error) {
	c, err := New(o)
	if err != nil {
		return nil, err
	}
	return &source.Timeline{Vendor: "helpscout", Read: c.readHistory, Dir: c.Directory()}, nil
}

func (c *Syncer) readHistory(ctx context.Context, from, to time.Time, requests *int) (source.Versions, error) {
	before := c.gets.Load()
	defer func() { *requests += int(c.gets.Load() - before) }()
	var tickets []helpdesk.Ticket
	for cur := (cursor{ModifiedSince: from.UTC(), Page: 1}); ; cur.Page++ {
		page, err := c.fetchPage(ctx, cur)
		if err != nil {
			return source.Versions{}, err
		}
		c.o.RejectAll(page.Rejected)
		for _, t := range page.Tickets {
			if t.Status != helpdesk.StatusDeleted {
				r, err := c.threads(ctx, t.ID)
				var se *upstream.StatusError
				switch {
				case errors.As(err, &se) && se.Status == http.StatusNotFound:
					continue // deleted since it was listed
				case err != nil:
					return source.Versions{}, err
				}
				t.AgentReplies, t.FirstReplyAt, t.Replied = r.Count, r.First, r.Count > 0
			}
			tickets = append(tickets, t)
		}
		if page.Last {
			break
		}
	}
	ratings, forbidden, err := c.ratings(ctx, from, to)
	if err != nil {
		return source.Versions{}, err
	}
	if forbidden {
		c.o.Logger.Warn("helpscout happiness ratings report forbidden (plan-gated?): no satisfaction ratings in the backfill")
	}
	for i := range tickets {
		if r, ok := ratings[tickets[i].ID]; ok {
			tickets[i].Satisfaction, tickets[i].SatisfactionAt = r.Rating, r.At
		}
	}
	return source.Versions{Tickets: source.TicketTimelines(tickets, nil)}, nil
}
