package freshdesk

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
// the tickets updated since the backfill's start (include=stats, and the
// deleted ones) and the satisfaction ratings created since, through the
// poller's paths and decoders, each ticket replayed as the versions its
// timestamps allow (source.TicketVersions): created_at, first_responded_at,
// resolved_at (else closed_at), its latest rating's created_at, and its
// current version at updated_at.
func NewHistory(o Options) (*source.Timeline, error) {
	c, err := New(o)
	if err != nil {
		return nil, err
	}
	return &source.Timeline{Vendor: "freshdesk", Read: c.readHistory, Dir: c.Directory()}, nil
}

func (c *Syncer) readHistory(ctx context.Context, from, _ time.Time, requests *int) (source.Versions, error) {
	latest := map[string]Rating{}
	var tickets []helpdesk.Ticket
	for _, kind := range []phaseKind{phaseRatings, phaseTickets, phaseDeleted} {
		ph := &Phase{Since: from.UTC(), Page: 1}
		for {
			if ph.Page > MaxPage {
				c.reanchorHistory(ph)
			}
			*requests++
			raw, next, err := c.fetch(ctx, kind, ph)
			var se *upstream.StatusError
			if errors.As(err, &se) && se.Status == http.StatusBadRequest && ph.Page > 1 {
				c.reanchorHistory(ph) // past the page cap
				continue
			}
			if err != nil {
				return source.Versions{}, err
			}
			var last time.Time
			if kind == phaseRatings {
				p := decodeRatings(raw)
				c.o.RejectAll(p.Rejected)
				for _, r := range p.Ratings {
					if old, ok := latest[r.TicketID]; !ok || r.CreatedAt.After(old.CreatedAt) || r.CreatedAt.Equal(old.CreatedAt) && r.ID > old.ID {
						latest[r.TicketID] = r
					}
				}
				last = p.LastCreated
			} else {
				p := decodeTickets(raw, kind == phaseDeleted)
				c.o.RejectAll(p.Rejected)
				tickets = append(tickets, p.Tickets...)
				last = p.LastUpdated
			}
			if last.After(ph.Last) {
				ph.Last = last
			}
			if !next {
				break
			}
			ph.Page++
		}
	}
	for i, t := range tickets {
		if r, ok := latest[t.ID]; ok {
			tickets[i].Satisfaction, tickets[i].SatisfactionAt = r.Rating, r.CreatedAt
		}
	}
	return source.Versions{Tickets: source.TicketTimelines(tickets, nil)}, nil
}

// reanchorHistory restarts a listing at page 1 from the latest time seen.
func (c *Syncer) reanchorHistory(ph *Phase) {
	since := ph.Last
	if !since.After(ph.Since) {
		since = ph.Since.Add(time.Second)
	}
	ph.Since, ph.Page = since, 1
}
