package intercom

import (
	"context"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// NewHistory returns the workspace's history for `cx-exporter backfill`:
// the conversations updated since the backfill's start (the poller's
// search and decoder), each replayed as the versions its timestamps allow
// (source.TicketVersions): created_at, statistics.first_admin_reply_at,
// statistics.last_close_at (of reopened ones too), conversation_rating.created_at, and its
// current version (state, count_reopens) at updated_at.
func NewHistory(o Options) (*source.Timeline, error) {
	c, err := New(o)
	if err != nil {
		return nil, err
	}
	return &source.Timeline{Vendor: "intercom", Read: c.readHistory, Dir: c.Directory()}, nil
}

func (c *Syncer) readHistory(ctx context.Context, from, _ time.Time, requests *int) (source.Versions, error) {
	var tickets []helpdesk.Ticket
	cur := Cursor{UpdatedAfter: from.Unix() - 1}
	for {
		*requests++
		page, err := c.fetch(ctx, cur)
		if err != nil {
			return source.Versions{}, err
		}
		c.o.RejectAll(page.Rejected)
		for i, t := range page.Tickets {
			// A conversation open again was closed at last_close_at.
			if t.SolvedAt.IsZero() && !page.LastCloses[i].IsZero() && !page.LastCloses[i].Before(t.CreatedAt) {
				t.SolvedAt = page.LastCloses[i]
			}
			tickets = append(tickets, t)
		}
		if page.Next == "" {
			return source.Versions{Tickets: source.TicketTimelines(tickets, nil)}, nil
		}
		cur.StartingAfter = page.Next
	}
}
