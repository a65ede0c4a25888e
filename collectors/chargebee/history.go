package chargebee

import (
	"context"
	"fmt"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// NewHistory returns the site's history for `cx-exporter backfill`: every
// subscription (the poller's listing from updated_at[after]=0, deleted
// ones included, through its decoder), each replayed as the versions its
// timestamps allow (source.SubscriptionVersions): created_at (trialing
// until trial_end, or an activated_at after creation), cancelled_at, and
// its current status at updated_at when it is paused. Plan, items and
// mrr are the current ones: Chargebee's list keeps no change history.
func NewHistory(o Options) (*source.Timeline, error) {
	c, err := newReader(o)
	if err != nil {
		return nil, err
	}
	return &source.Timeline{Vendor: "chargebee", Read: c.readHistory}, nil
}

func (c *Syncer) readHistory(ctx context.Context, _, _ time.Time, requests *int) (source.Versions, error) {
	var vs source.Versions
	cur := Cursor{}
	for {
		*requests++
		page, err := c.fetch(ctx, cur)
		if err != nil {
			return vs, err
		}
		if page.NextOffset != "" && page.NextOffset == cur.NextOffset {
			return vs, fmt.Errorf("%s: %s: next_offset did not advance", c.o.Name, ListPath)
		}
		c.o.RejectAll(page.Rejected)
		for i, s := range page.Subscriptions {
			vs.Subscriptions = append(vs.Subscriptions, source.SubscriptionVersions(s, page.TrialEnds[i], s.UpdatedAt)...)
		}
		if page.NextOffset == "" {
			return vs, nil
		}
		cur.NextOffset = page.NextOffset
	}
}
