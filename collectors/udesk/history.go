package udesk

import (
	"context"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// history is the registry's History hook: the account's history for
// `cx-exporter backfill`.
func history(c *Config, d source.Deps) (source.History, error) {
	base := c.URL
	if base == "" {
		base = "https://" + strings.TrimSuffix(c.Subdomain, ".udesk.cn") + ".udesk.cn"
	}
	return NewHistory(Options{Deps: d, BaseURL: base, Email: c.Email, Token: c.APIToken, RequestsPerMinute: c.RequestsPerMinute})
}

// NewHistory returns the account's history: the work orders updated since
// the backfill's start (the poller's listing, signing, request spacing
// and decoder), each replayed as the versions its timestamps allow
// (source.TicketVersions): created_at, first_reply_at, resolved_at (else
// closed_at), satisfaction.created_at, and its current version at
// updated_at.
func NewHistory(o Options) (*source.Timeline, error) {
	c, err := New(o)
	if err != nil {
		return nil, err
	}
	return &source.Timeline{Vendor: "udesk", Read: c.readHistory, Dir: c.Directory()}, nil
}

func (c *Syncer) readHistory(ctx context.Context, from, _ time.Time, requests *int) (source.Versions, error) {
	var tickets []helpdesk.Ticket
	for cur := (Cursor{Since: from.UTC(), Page: 1}); ; cur.Page++ {
		if err := c.wait(ctx); err != nil {
			return source.Versions{}, err
		}
		*requests++
		var listed int
		p, err := source.FetchPage(c.o.Deps, ListPath, func(raw *apiPage) error {
			_, err := c.client.GetJSON(ctx, c.pageURL(&cur), raw)
			listed = len(raw.Tickets)
			return err
		}, decodePage)
		if err != nil {
			return source.Versions{}, err
		}
		c.o.RejectAll(p.Rejected)
		tickets = append(tickets, p.Tickets...)
		if cur.Page >= p.Pages || listed == 0 {
			return source.Versions{Tickets: source.TicketTimelines(tickets, nil)}, nil
		}
	}
}
