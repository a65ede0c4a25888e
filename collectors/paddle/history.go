package paddle

import (
	"context"
	"net/url"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// NewHistory returns the account's history for `cx-exporter backfill`:
// every subscription event Paddle keeps (90 days; GET /events, the
// poller's query and decoder), each a version at the subscription's
// updated_at, and, before a subscription's oldest kept event, the
// versions its own timestamps allow (every subscription listed as the
// poller's first sync lists it, source.SubscriptionVersions: created_at,
// canceled_at, its status at updated_at), with its current items.
func NewHistory(o Options) (*source.Timeline, error) {
	c, err := newReader(o)
	if err != nil {
		return nil, err
	}
	return &source.Timeline{Vendor: "paddle", Read: c.readHistory}, nil
}

func (c *Syncer) readHistory(ctx context.Context, _, _ time.Time, requests *int) (source.Versions, error) {
	discounts := map[string]*Discount{}
	listed, err := c.readAll(ctx, "/subscriptions", c.listQuery, DecodeSubscriptions, discounts, requests)
	if err != nil {
		return source.Versions{}, err
	}
	events, err := c.readAll(ctx, "/events", c.eventsQuery, DecodeEvents, discounts, requests)
	if err != nil {
		return source.Versions{}, err
	}
	var vs source.Versions
	oldest := map[string]time.Time{}
	for _, s := range events {
		if o, ok := oldest[s.ID]; !ok || s.UpdatedAt.Before(o) {
			oldest[s.ID] = s.UpdatedAt
		}
		vs.Subscriptions = append(vs.Subscriptions, source.Dated[billing.Subscription]{At: s.UpdatedAt, V: s})
	}
	for _, s := range listed {
		end, evented := oldest[s.ID]
		for _, v := range source.SubscriptionVersions(s, time.Time{}, s.UpdatedAt) {
			if !evented || v.At.Before(end) {
				vs.Subscriptions = append(vs.Subscriptions, v)
			}
		}
	}
	return vs, nil
}

// readAll reads a listing to its end and maps its subscriptions, reading
// each discount once.
func (c *Syncer) readAll(ctx context.Context, path string, query func(after string) url.Values, decode func([]byte) (*Page, error),
	discounts map[string]*Discount, requests *int) ([]billing.Subscription, error) {
	var out []billing.Subscription
	after := ""
	for {
		*requests++
		p, err := c.get(ctx, path, query(after), decode)
		if err != nil {
			return nil, err
		}
		c.o.RejectAll(p.Rejected)
		for _, s := range p.Subs {
			if id := s.DiscountID(); id != "" {
				if _, ok := discounts[id]; !ok {
					*requests++
					if discounts[id], err = c.fetchDiscount(ctx, id); err != nil {
						return nil, err
					}
				}
			}
			b, rj := s.Canonical(func(id string) (Discount, bool) {
				if d := discounts[id]; d != nil {
					return *d, true
				}
				return Discount{}, false
			})
			if rj != nil {
				c.o.RejectAll([]source.Rejection{*rj})
				continue
			}
			out = append(out, b)
		}
		if !p.HasMore || p.Last == "" {
			return out, nil
		}
		after = p.Last
	}
}
