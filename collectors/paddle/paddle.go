// Package paddle is the Paddle Billing collector. Its first sync notes the
// newest event, then lists every subscription (GET /subscriptions, every
// status, in id order, paged with after=<last id>); later syncs walk
// GET /events forward from the last event applied (after=<event id>,
// event_type=subscription.*), oldest first. Each page is committed with
// its cursor, the records it changed and the billing aggregates in one
// state transaction, so a sync killed at any point resumes at the first
// page not committed.
//
// A subscription's discount is read once (GET /discounts/{id}) and kept
// in the state with the page that first needed it.
//
// Mapping (docs/vendors.md "Paddle"): the statuses are the canonical ones
// (paused and canceled are not paying); MRR is computed from the recurring
// items (price unit_price in the subscription's currency × quantity,
// normalised by the price's billing_cycle interval and frequency);
// discounts follow Stripe's rules (recur without maximum_recurring_intervals
// is forever and reduces MRR; otherwise once or repeating, which do not);
// scheduled_change.action=cancel is cancel at period end; the plan label is
// the first recurring item's product_id. Paddle gives no cancellation
// reason: every churn is voluntary.
package paddle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// MaxPageSize is Paddle's largest per_page.
const MaxPageSize = 200

// Options configure a Syncer.
type Options struct {
	source.Deps
	BaseURL string // https://api.paddle.com
	APIKey  string
	// PageSize is per_page (1..200, default 200).
	PageSize int
	Tracker  *billing.Tracker
}

// Syncer syncs one Paddle account.
type Syncer struct {
	o      Options
	client *upstream.Client
}

// New returns a collector. The key goes only into request headers.
func New(o Options) (*Syncer, error) {
	if o.Tracker == nil || o.State == nil {
		return nil, errors.New("paddle collector needs a state source and a tracker")
	}
	return newReader(o)
}

// newReader returns a collector that only reads (the backfill's).
func newReader(o Options) (*Syncer, error) {
	if o.PageSize <= 0 || o.PageSize > MaxPageSize {
		o.PageSize = MaxPageSize
	}
	o.Deps = o.WithDefaults()
	if u, err := url.Parse(o.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("paddle base URL %q is not an http(s) URL", source.RedactURL(o.BaseURL))
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.APIKey == "" {
		return nil, errors.New("paddle needs an API key")
	}
	key := o.APIKey
	// Paddle documents no rate-limit headers; its 429 carries Retry-After.
	return &Syncer{o: o, client: o.NewClient(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) })}, nil
}

// cursor is the sync position, stored as JSON under state.KeyCursor.
type cursor struct {
	// Mode is "" before the first sync, "list" during the first listing
	// and "events" after it.
	Mode string `json:"mode"`
	// Event is the last event applied (events), or the newest event
	// before the listing began (list); "" when there was none.
	Event string `json:"event,omitempty"`
	// After is the last subscription of the listing committed.
	After string `json:"after,omitempty"`
}

// Sync brings the tracker up to date: the listing if it has not
// completed, then the events since the cursor. Cancelling ctx stops it
// between pages; the page in flight is fetched and committed first.
func (c *Syncer) Sync(ctx context.Context) error {
	var cur cursor
	if err := c.o.LoadCursor(&cur); err != nil {
		return err
	}
	fctx, stop := c.o.FetchContext(ctx)
	defer stop()
	if cur.Mode == "" {
		// The newest event now: the listing that follows is at least as
		// new, and events after it are applied after the listing.
		p, err := c.get(fctx, "/events", url.Values{"order_by": {"id[DESC]"}, "per_page": {"1"}}, DecodeEvents)
		if err != nil {
			return err
		}
		cur = cursor{Mode: "list", Event: p.Last}
		if err := c.o.SaveCursor(cur); err != nil {
			return err
		}
	}
	for cur.Mode == "list" {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := c.get(fctx, "/subscriptions", c.listQuery(cur.After), DecodeSubscriptions)
		if err != nil {
			return err
		}
		next := cur
		next.After = p.Last
		if !p.HasMore {
			next = cursor{Mode: "events", Event: cur.Event}
		}
		if err := c.commit(fctx, p, next); err != nil {
			return err
		}
		cur = next
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := c.get(fctx, "/events", c.eventsQuery(cur.Event), DecodeEvents)
		if err != nil {
			return err
		}
		if p.Last == "" {
			return nil
		}
		next := cursor{Mode: "events", Event: p.Last}
		if err := c.commit(fctx, p, next); err != nil {
			return err
		}
		cur = next
		if !p.HasMore {
			return nil
		}
	}
}

// listQuery lists every subscription after the given id.
func (c *Syncer) listQuery(after string) url.Values {
	q := url.Values{"per_page": {strconv.Itoa(c.o.PageSize)}, "order_by": {"id[ASC]"},
		"status": {"active,canceled,past_due,paused,trialing"}}
	if after != "" {
		q.Set("after", after)
	}
	return q
}

// eventsQuery lists the subscription events after the given event id.
func (c *Syncer) eventsQuery(after string) url.Values {
	q := url.Values{"per_page": {strconv.Itoa(c.o.PageSize)}, "order_by": {"id[ASC]"},
		"event_type": {strings.Join(EventTypes, ",")}}
	if after != "" {
		q.Set("after", after)
	}
	return q
}

// get fetches and decodes one list page.
func (c *Syncer) get(ctx context.Context, path string, q url.Values, decode func([]byte) (*Page, error)) (*Page, error) {
	return source.FetchPage(c.o.Deps, path, func(raw *json.RawMessage) error {
		_, err := c.client.GetJSON(ctx, c.o.BaseURL+path+"?"+q.Encode(), raw)
		return err
	}, func(raw *json.RawMessage) (*Page, error) { return decode(*raw) })
}

// discountKey prefixes the discount cache's records, beside the engine's.
const discountKey = "paddle/discount/"

// commit resolves the page's discounts, then applies its subscriptions
// and stores the cursor, the aggregates and the new discounts in one
// transaction, and publishes.
func (c *Syncer) commit(ctx context.Context, p *Page, next cursor) error {
	known := map[string]*Discount{}
	put := map[string][]byte{}
	for _, s := range p.Subs {
		id := s.DiscountID()
		if id == "" {
			continue
		}
		if _, done := known[id]; done {
			continue
		}
		d, fresh, err := c.discount(ctx, id)
		if err != nil {
			return err
		}
		known[id] = d
		if fresh && d != nil {
			put[discountKey+id], _ = json.Marshal(d)
		}
	}
	subs := make([]billing.Subscription, 0, len(p.Subs))
	page := source.Page{Rejected: p.Rejected, Cursor: next}
	for _, s := range p.Subs {
		b, rj := s.Canonical(func(id string) (Discount, bool) {
			if d := known[id]; d != nil {
				return *d, true
			}
			return Discount{}, false
		})
		if rj != nil {
			page.Rejected = append(page.Rejected, *rj)
			continue
		}
		subs = append(subs, b)
	}
	return c.o.CommitSubscriptions(c.o.Tracker, subs, page, func(recs state.Records) error {
		for k, v := range put {
			if err := recs.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// discount reads a discount from the state, or else from Paddle (fresh).
// A discount Paddle does not know is nil: the subscription counts without
// it.
func (c *Syncer) discount(ctx context.Context, id string) (d *Discount, fresh bool, err error) {
	var stored []byte
	_ = c.o.State.View(func(tx *state.Tx) error {
		stored = append([]byte(nil), tx.Records().Get(discountKey+id)...)
		return nil
	})
	if len(stored) > 0 {
		var d Discount
		if json.Unmarshal(stored, &d) == nil {
			return &d, false, nil
		}
	}
	d, err = c.fetchDiscount(ctx, id)
	return d, d != nil, err
}

// fetchDiscount reads a discount from Paddle; nil when Paddle does not
// know it.
func (c *Syncer) fetchDiscount(ctx context.Context, id string) (*Discount, error) {
	var raw struct {
		Data *Discount `json:"data"`
	}
	_, err := c.client.GetJSON(ctx, c.o.BaseURL+"/discounts/"+url.PathEscape(id), &raw)
	var se *upstream.StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		c.o.Logger.Warn("discount not found: counting its subscriptions without it", "discount", id)
		return nil, nil
	}
	if err != nil {
		return nil, c.o.FetchFailed(err)
	}
	if raw.Data == nil {
		return nil, c.o.MalformedPage("/discounts/{id}", errors.New("no data"))
	}
	return raw.Data, nil
}
