// Package stripe is the Stripe Billing collector. Its first sync lists
// every subscription (status=all, discounts and their coupons expanded,
// items paged through /v1/subscription_items when a subscription has more
// than the list embeds); later syncs walk /v1/events forward from the last
// event applied (customer.subscription.created, .updated and .deleted),
// oldest first. Each page is committed with its cursor, the records it
// changed and the billing aggregates in one state transaction.
//
// When the event cursor is older than Stripe's 30-day event retention (by
// the cursor's stored creation time, or because Stripe no longer knows the
// event), the collector takes a fresh status=all snapshot, page by page,
// resuming from the last committed page after a crash.
//
// Mapping (see docs/metrics.md "Stripe mapping"): incomplete_expired is
// ended; cancellation_details.reason payment_failed and payment_disputed
// are involuntary; the plan label is the product id of the subscription's
// first licensed recurring item (the product, not the price or its
// nickname: monthly and yearly prices of one product are one plan, and a
// product id never changes when someone renames a price).
package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// APIVersion is the Stripe-Version every request pins.
const APIVersion = "2025-03-31.basil"

// EventTypes are the events incremental syncs follow.
var EventTypes = []string{"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"}

// Retention is how long Stripe keeps events.
const Retention = 30 * 24 * time.Hour

// retentionMargin: a cursor this close to the retention limit is treated
// as expired, so a sync never races the deletion of its cursor.
const retentionMargin = time.Hour

// Options configure a Syncer.
type Options struct {
	source.Deps
	BaseURL string // https://api.stripe.com
	APIKey  string // sk_… or rk_…
	// PageSize is limit (1..100, default 100).
	PageSize int
	Tracker  *billing.Tracker
}

// Syncer syncs one Stripe account.
type Syncer struct {
	o      Options
	client *upstream.Client
	seen   seenEvents // events applied lately, for webhooks
}

// New returns a collector. The key goes only into request headers.
func New(o Options) (*Syncer, error) {
	if o.PageSize <= 0 || o.PageSize > 100 {
		o.PageSize = 100
	}
	o.Deps = o.WithDefaults()
	if u, err := url.Parse(o.BaseURL); err != nil || o.BaseURL == "" || u.Host == "" {
		return nil, fmt.Errorf("stripe base URL %q is not a URL", source.RedactURL(o.BaseURL))
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if !validKey(o.APIKey) {
		return nil, errors.New("stripe needs a secret (sk_…) or restricted (rk_…) API key")
	}
	key := o.APIKey
	authorize := func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+key)
		r.Header.Set("Stripe-Version", APIVersion)
	}
	// Stripe documents no rate-limit headers.
	return &Syncer{o: o, client: o.NewClient(authorize)}, nil
}

// validKey reports whether key is shaped like a secret (sk_…) or
// restricted (rk_…) key.
func validKey(key string) bool {
	return strings.HasPrefix(key, "sk_") || strings.HasPrefix(key, "rk_")
}

// cursor is the sync position, stored as JSON under state.KeyCursor.
type cursor struct {
	// Mode is "" before the first sync, "relist" during a snapshot and
	// "events" after it.
	Mode string `json:"mode"`
	// Event is the newest event applied (events), or the newest event
	// before the snapshot began (relist); "" when there was none.
	Event string `json:"event,omitempty"`
	// EventCreated is Event's created time, unix seconds; with no Event,
	// when the snapshot began (events from then on are applied).
	EventCreated int64 `json:"event_created,omitempty"`
	// After is the last subscription of the snapshot committed.
	After string `json:"after,omitempty"`
	// RelistStart is when the snapshot began, unix seconds.
	RelistStart int64 `json:"relist_start,omitempty"`
}

func (c *Syncer) loadCursor() (cursor, error) {
	var cur cursor
	if err := c.o.LoadCursor(&cur); err != nil {
		return cursor{}, err
	}
	return cur, nil
}

// Sync brings the tracker up to date: a snapshot if none completed, then
// the events since the cursor. Cancelling ctx stops it between pages; the
// page in flight is fetched and committed first.
func (c *Syncer) Sync(ctx context.Context) error {
	cur, err := c.loadCursor()
	if err != nil {
		return err
	}
	for {
		fresh := false // a snapshot completed in this sync
		if cur.Mode != "events" {
			if cur, err = c.relist(ctx, cur); err != nil || ctx.Err() != nil || cur.Mode != "events" {
				return err
			}
			fresh = true
		}
		// Right after a snapshot the marker is trusted whatever its age:
		// only Stripe's answer can expire it then.
		var expired bool
		cur, expired, err = c.events(ctx, cur, !fresh)
		if err != nil || !expired || ctx.Err() != nil {
			return err
		}
		if fresh {
			return fmt.Errorf("%s: event cursor expired right after a snapshot", c.o.Name)
		}
		c.o.Logger.Warn("event cursor older than Stripe's event retention: taking a full snapshot", "src", c.o.Name)
		cur = cursor{}
	}
}

func (c *Syncer) eventsURL(extra url.Values) string {
	q := url.Values{"limit": {strconv.Itoa(c.o.PageSize)}, "types[]": EventTypes}
	for k, v := range extra {
		q[k] = v
	}
	return c.o.BaseURL + "/v1/events?" + q.Encode()
}

// getList fetches one list page.
func (c *Syncer) getList(ctx context.Context, u string) (*list, error) {
	var raw json.RawMessage
	if _, err := c.client.GetJSON(ctx, u, &raw); err != nil {
		return nil, c.o.FetchFailed(err)
	}
	l, err := decodeList(raw)
	if err != nil {
		path, _, _ := strings.Cut(strings.TrimPrefix(u, c.o.BaseURL), "?")
		return nil, c.o.MalformedPage(path, err)
	}
	return l, nil
}

// relist takes (or resumes) a status=all snapshot, committing page by page.
func (c *Syncer) relist(ctx context.Context, cur cursor) (cursor, error) {
	wctx, stop := c.o.FetchContext(ctx)
	defer stop()
	if cur.Mode != "relist" {
		now := c.o.Now().Unix()
		cur = cursor{Mode: "relist", RelistStart: now, EventCreated: now}
		l, err := c.getList(wctx, c.eventsURL(url.Values{"limit": {"1"}}))
		if err != nil {
			return cur, err
		}
		if len(l.Data) > 0 {
			var ev eventJSON
			if err := json.Unmarshal(l.Data[0], &ev); err != nil || ev.ID == "" {
				c.o.Reject("", "malformed_page", fmt.Errorf("newest event: %v", err))
				return cur, fmt.Errorf("%s: /v1/events: undecodable event", c.o.Name)
			}
			cur.Event, cur.EventCreated = ev.ID, ev.Created
		}
	}
	// The snapshot is at least as new as the marker event and as the
	// sync's start: versions dated so are never older than what events
	// applied before said.
	updatedAt := time.Unix(max(cur.RelistStart, cur.EventCreated), 0).UTC()
	for {
		q := url.Values{"status": {"all"}, "limit": {strconv.Itoa(c.o.PageSize)},
			"expand[]": {"data.discounts", "data.discounts.source.coupon"}}
		if cur.After != "" {
			q.Set("starting_after", cur.After)
		}
		l, err := c.getList(wctx, c.o.BaseURL+"/v1/subscriptions?"+q.Encode())
		if err != nil {
			return cur, err
		}
		var ps []*pending
		var rejects []*source.Rejection
		last := ""
		for _, raw := range l.Data {
			if id := rawID(raw); id != "" {
				last = id
			}
			p, rj := decodeSubscription(raw)
			if rj != nil {
				rejects = append(rejects, rj)
				continue
			}
			p.updatedAt = updatedAt
			ps = append(ps, p)
		}
		next := cur
		if *l.HasMore {
			if last == "" {
				return cur, fmt.Errorf("%s: /v1/subscriptions: has_more without a last id", c.o.Name)
			}
			next.After = last
		} else {
			next = cursor{Mode: "events", Event: cur.Event, EventCreated: cur.EventCreated}
		}
		if err := c.commitPage(wctx, ps, rejects, next); err != nil {
			return cur, err
		}
		cur = next
		if !*l.HasMore {
			return cur, nil // the snapshot's end is committed, whatever the deadline
		}
		if err := ctx.Err(); err != nil {
			return cur, err
		}
	}
}

// rawID is the id of a JSON object, "" when it has none.
func rawID(b json.RawMessage) string {
	var o struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(b, &o)
	return o.ID
}

// isMissing reports whether Stripe no longer knows the cursor event.
func isMissing(err error) bool {
	var se *upstream.StatusError
	if !errors.As(err, &se) {
		return false
	}
	return se.Status == http.StatusNotFound ||
		(se.Status == http.StatusBadRequest && (strings.Contains(se.Message, "No such") || strings.Contains(se.Message, "resource_missing")))
}

// events applies the events newer than the cursor, oldest first, a page
// per transaction. expired says the cursor fell out of the retention.
func (c *Syncer) events(ctx context.Context, cur cursor, checkAge bool) (cursor, bool, error) {
	wctx, stop := c.o.FetchContext(ctx)
	defer stop()
	if cur.Event == "" {
		return c.firstEvents(ctx, cur)
	}
	if checkAge && c.o.Now().Sub(time.Unix(cur.EventCreated, 0)) > Retention-retentionMargin {
		return cur, true, nil
	}
	for {
		l, err := c.getList(wctx, c.eventsURL(url.Values{"ending_before": {cur.Event}}))
		if isMissing(err) {
			return cur, true, nil
		}
		if err != nil {
			return cur, false, err
		}
		if len(l.Data) == 0 {
			return cur, false, nil
		}
		evs := slices.Clone(l.Data)
		slices.Reverse(evs)
		next, err := c.applyEvents(wctx, cur, evs)
		if err != nil {
			return cur, false, err
		}
		cur = next
		if !*l.HasMore {
			return cur, false, nil // the end is committed, whatever the deadline
		}
		if err := ctx.Err(); err != nil {
			return cur, false, err
		}
	}
}

// firstEvents handles an account that had no event when the snapshot
// began: the events created since then are listed whole (newest first,
// walking back with starting_after) and applied oldest first.
func (c *Syncer) firstEvents(ctx context.Context, cur cursor) (cursor, bool, error) {
	wctx, stop := c.o.FetchContext(ctx)
	defer stop()
	var all []json.RawMessage
	after := ""
	for {
		q := url.Values{"created[gte]": {strconv.FormatInt(cur.EventCreated, 10)}}
		if after != "" {
			q.Set("starting_after", after)
		}
		l, err := c.getList(wctx, c.eventsURL(q))
		if err != nil {
			return cur, false, err
		}
		all = append(all, l.Data...)
		if !*l.HasMore || len(l.Data) == 0 {
			break
		}
		if after = rawID(l.Data[len(l.Data)-1]); after == "" {
			return cur, false, fmt.Errorf("%s: /v1/events: has_more without a last id", c.o.Name)
		}
	}
	slices.Reverse(all)
	for chunk := range slices.Chunk(all, c.o.PageSize) {
		next, err := c.applyEvents(wctx, cur, chunk)
		if err != nil {
			return cur, false, err
		}
		cur = next
	}
	return cur, false, nil
}

// applyEvents commits events (oldest first) with the newest as cursor.
func (c *Syncer) applyEvents(ctx context.Context, cur cursor, evs []json.RawMessage) (cursor, error) {
	var ps []*pending
	var rejects []*source.Rejection
	next := cur
	for _, raw := range evs {
		var ev eventJSON
		if err := json.Unmarshal(raw, &ev); err != nil || ev.ID == "" {
			return cur, fmt.Errorf("%s: /v1/events: undecodable event %s", c.o.Name, rawID(raw))
		}
		next.Event, next.EventCreated = ev.ID, ev.Created
		if !slices.Contains(EventTypes, ev.Type) {
			continue
		}
		p, rj := decodeSubscription(ev.Data.Object)
		if rj != nil {
			rejects = append(rejects, rj)
			continue
		}
		p.updatedAt = time.Unix(ev.Created, 0).UTC()
		ps = append(ps, p)
	}
	if err := c.commitPage(ctx, ps, rejects, next); err != nil {
		return cur, err
	}
	for _, raw := range evs {
		c.seen.add(rawID(raw))
	}
	return next, nil
}

// commitPage completes the page's subscriptions (items beyond the embedded
// list, discounts given by id), then applies them and stores the cursor,
// the aggregates and the records in one transaction, and publishes.
func (c *Syncer) commitPage(ctx context.Context, ps []*pending, rejects []*source.Rejection, next cursor) error {
	look := &lookup{c: c, ctx: ctx, mem: map[string][]byte{}, put: map[string][]byte{}}
	subs := make([]billing.Subscription, 0, len(ps))
	for _, p := range ps {
		if p.itemsHasMore {
			if err := c.pageItems(ctx, p); err != nil {
				return err
			}
		}
		for id, cj := range discountCoupons(&p.raw) {
			b, _ := json.Marshal(cj)
			look.remember(discountKey+id, b)
			look.remember(couponKey+cj.ID, b)
		}
		look.sub = p.raw.ID
		s, rj := p.toCanonical(look)
		if look.err != nil {
			return look.err
		}
		if rj != nil {
			rejects = append(rejects, rj)
			continue
		}
		subs = append(subs, s)
	}
	page := source.Page{Cursor: next}
	for _, r := range rejects {
		page.Rejected = append(page.Rejected, *r)
	}
	return c.o.CommitSubscriptions(c.o.Tracker, subs, page, func(recs state.Records) error {
		for k, v := range look.put {
			if string(recs.Get(k)) != string(v) {
				if err := recs.Put(k, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// pageItems replaces a subscription's embedded items with all of them.
func (c *Syncer) pageItems(ctx context.Context, p *pending) error {
	var items []itemJSON
	after := ""
	for {
		q := url.Values{"subscription": {p.raw.ID}, "limit": {"100"}}
		if after != "" {
			q.Set("starting_after", after)
		}
		l, err := c.getList(ctx, c.o.BaseURL+"/v1/subscription_items?"+q.Encode())
		if err != nil {
			return err
		}
		for _, raw := range l.Data {
			var it itemJSON
			if err := json.Unmarshal(raw, &it); err != nil {
				return fmt.Errorf("%s: /v1/subscription_items: %w", c.o.Name, err)
			}
			items = append(items, it)
		}
		if !*l.HasMore || len(l.Data) == 0 {
			break
		}
		after = items[len(items)-1].ID
	}
	p.items, p.itemsHasMore = items, false
	return nil
}

// Record keys of the coupon cache, beside the engine's sub/ and cus/.
const (
	discountKey = "stripe/discount/"
	couponKey   = "stripe/coupon/"
)

// lookup resolves discounts that events render as ids: from this page's
// expanded subscriptions, the stored cache, or one request (the
// subscription with its discounts expanded, or the coupon).
type lookup struct {
	c   *Syncer
	ctx context.Context
	sub string
	mem map[string][]byte // known this page
	put map[string][]byte // to store with the page
	err error
}

func (l *lookup) remember(k string, v []byte) { l.mem[k], l.put[k] = v, v }

func (l *lookup) get(k string) []byte {
	if v, ok := l.mem[k]; ok {
		return v
	}
	var v []byte
	if l.c.o.State == nil {
		return nil // a backfill keeps no cache
	}
	_ = l.c.o.State.View(func(tx *state.Tx) error {
		v = append([]byte(nil), tx.Records().Get(k)...)
		return nil
	})
	if len(v) == 0 {
		return nil
	}
	l.mem[k] = v
	return v
}

func decodeCoupon(b []byte) (billing.Discount, bool) {
	var cj couponJSON
	if b == nil || json.Unmarshal(b, &cj) != nil {
		return billing.Discount{}, false
	}
	return cj.discount(), true
}

func (l *lookup) discount(id string) (billing.Discount, bool) {
	if d, ok := decodeCoupon(l.get(discountKey + id)); ok {
		return d, true
	}
	if l.err != nil || l.sub == "" {
		return billing.Discount{}, false
	}
	q := url.Values{"expand[]": {"discounts", "discounts.source.coupon"}}
	var raw json.RawMessage
	u := l.c.o.BaseURL + "/v1/subscriptions/" + url.PathEscape(l.sub) + "?" + q.Encode()
	if _, err := l.c.client.GetJSON(l.ctx, u, &raw); err != nil {
		var se *upstream.StatusError
		if !errors.As(err, &se) || se.Status >= 500 || se.Status == http.StatusTooManyRequests || se.Status == http.StatusUnauthorized {
			l.err = err
		}
		return billing.Discount{}, false
	}
	var s subscriptionJSON
	if json.Unmarshal(raw, &s) != nil {
		return billing.Discount{}, false
	}
	for did, cj := range discountCoupons(&s) {
		b, _ := json.Marshal(cj)
		l.remember(discountKey+did, b)
		l.remember(couponKey+cj.ID, b)
	}
	return decodeCoupon(l.mem[discountKey+id])
}

func (l *lookup) coupon(id string) (billing.Discount, bool) {
	if d, ok := decodeCoupon(l.get(couponKey + id)); ok {
		return d, true
	}
	if l.err != nil || id == "" {
		return billing.Discount{}, false
	}
	var cj couponJSON
	if _, err := l.c.client.GetJSON(l.ctx, l.c.o.BaseURL+"/v1/coupons/"+url.PathEscape(id), &cj); err != nil {
		var se *upstream.StatusError
		if !errors.As(err, &se) || se.Status >= 500 || se.Status == http.StatusTooManyRequests || se.Status == http.StatusUnauthorized {
			l.err = err
		}
		return billing.Discount{}, false
	}
	b, _ := json.Marshal(cj)
	l.remember(couponKey+id, b)
	return cj.discount(), true
}
