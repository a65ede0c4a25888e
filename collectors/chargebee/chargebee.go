// Package chargebee is the Chargebee (API v2) billing collector: it lists
// subscriptions changed since its cursor, oldest change first
// (GET /api/v2/subscriptions?sort_by[asc]=updated_at&updated_at[after]=…
// &include_deleted=true, paged with offset/next_offset), maps them to the
// canonical model and feeds the billing engine one committed page at a
// time.
//
// The cursor, persisted with each page in the page's transaction, is the
// listing's lower bound (updated_after), the offset of the next page and
// the highest updated_at seen so far. A restart, even a kill -9, resumes
// the listing at the next page; when a listing ends, the next one starts
// one second before the newest change seen, so changes made within that
// second are not missed. Versions seen twice (that overlap, or a record
// that changed while the listing ran and came again at its end) are
// ignored or re-applied without effect by the engine, which orders
// versions by updated_at refined with resource_version.
package chargebee

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// ListPath is the subscription list endpoint.
const ListPath = "/api/v2/subscriptions"

// MaxPageSize is Chargebee's largest limit.
const MaxPageSize = 100

// Options configure a Syncer.
type Options struct {
	source.Deps
	// Site is the Chargebee site ("acme" → https://acme.chargebee.com);
	// BaseURL, when set, is used instead (proxies, tests).
	Site    string
	BaseURL string
	// APIKey is sent as the Basic auth user with an empty password.
	APIKey string
	// PageSize is limit (1..100, default 100).
	PageSize int
	// StartTime is the first listing's updated_at[after] (default the
	// epoch: a full backfill, so the gauges see every subscription).
	StartTime time.Time
	// MaxPagesPerSync bounds the pages one Sync fetches (0: no bound); the
	// listing resumes from the persisted cursor at the next Sync.
	MaxPagesPerSync int
	Tracker         *billing.Tracker
}

// Syncer syncs one Chargebee site.
type Syncer struct {
	o      Options
	client *upstream.Client
}

var siteRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// SiteURL returns the API base URL of a Chargebee site.
func SiteURL(site string) (string, error) {
	if !siteRE.MatchString(site) {
		return "", fmt.Errorf("chargebee site %q is not a site name (lower-case letters, digits and dashes)", site)
	}
	return "https://" + site + ".chargebee.com", nil
}

// New returns a collector. The API key goes only into request headers.
func New(o Options) (*Syncer, error) {
	if o.State == nil || o.Tracker == nil {
		return nil, errors.New("chargebee collector needs a state source and a tracker")
	}
	return newReader(o)
}

// newReader returns a collector that only reads (the backfill's).
func newReader(o Options) (*Syncer, error) {
	if o.PageSize <= 0 || o.PageSize > MaxPageSize {
		o.PageSize = MaxPageSize
	}
	if o.StartTime.IsZero() {
		o.StartTime = time.Unix(0, 0)
	}
	o.Deps = o.WithDefaults()
	if o.BaseURL == "" {
		if o.Site == "" {
			return nil, errors.New("chargebee needs a site or a base URL")
		}
		u, err := SiteURL(o.Site)
		if err != nil {
			return nil, err
		}
		o.BaseURL = u
	}
	if u, err := url.Parse(o.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("chargebee base URL %q is not an http(s) URL", source.RedactURL(o.BaseURL))
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.APIKey == "" {
		return nil, errors.New("chargebee needs an API key")
	}
	key := o.APIKey
	return &Syncer{o: o, client: o.NewClient(func(r *http.Request) { r.SetBasicAuth(key, "") })}, nil
}

// Cursor is the persisted position of the sync.
type Cursor struct {
	// UpdatedAfter is the listing's updated_at[after], unix seconds.
	UpdatedAfter int64 `json:"updated_after"`
	// NextOffset is the offset of the listing's next page; "" when no
	// listing is in progress.
	NextOffset string `json:"next_offset,omitempty"`
	// MaxUpdatedAt is the highest updated_at seen by the listing in
	// progress, unix seconds.
	MaxUpdatedAt int64 `json:"max_updated_at,omitempty"`
}

// Sync lists the subscriptions changed since the persisted cursor,
// committing each page with the cursor. Cancelling ctx stops it between
// pages; the page in flight is fetched and committed first.
func (c *Syncer) Sync(ctx context.Context) error {
	fctx, stop := c.o.FetchContext(ctx)
	defer stop()
	for pages := 0; c.o.MaxPagesPerSync <= 0 || pages < c.o.MaxPagesPerSync; pages++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur, err := c.cursor()
		if err != nil {
			return err
		}
		page, err := c.fetch(fctx, cur)
		var se *upstream.StatusError
		if err != nil && cur.NextOffset != "" && errors.As(err, &se) && se.Status == http.StatusBadRequest {
			// An offset Chargebee no longer accepts: list again from
			// updated_after; the engine ignores what it has seen.
			c.o.Logger.Warn("offset refused, listing again", "updated_after", cur.UpdatedAfter, "err", err)
			if err := c.putCursor(Cursor{UpdatedAfter: cur.UpdatedAfter}); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if page.NextOffset != "" && page.NextOffset == cur.NextOffset {
			return fmt.Errorf("%s: %s: next_offset did not advance", c.o.Name, ListPath)
		}
		next := advance(cur, page, c.o.Now())
		if err := c.commit(page, next); err != nil {
			return err
		}
		c.o.Logger.Debug("page committed", "subscriptions", len(page.Subscriptions), "rejected", len(page.Rejected),
			"updated_after", next.UpdatedAfter, "more", next.NextOffset != "")
		if next.NextOffset == "" {
			return nil
		}
	}
	return nil
}

// advance is the cursor after page: the next page of the same listing, or,
// at its end, a new listing from one second before the newest change seen
// (never later than now, never earlier than before).
func advance(cur Cursor, page *Page, now time.Time) Cursor {
	next := cur
	next.MaxUpdatedAt = max(cur.MaxUpdatedAt, page.MaxUpdatedAt)
	next.NextOffset = page.NextOffset
	if page.NextOffset != "" {
		return next
	}
	if next.MaxUpdatedAt > 0 {
		next.UpdatedAfter = max(cur.UpdatedAfter, min(next.MaxUpdatedAt-1, now.Unix()))
	}
	next.MaxUpdatedAt = 0
	return next
}

// cursor reads the persisted cursor. A cursor that cannot be read starts a
// new listing from StartTime: the engine ignores what it has seen.
func (c *Syncer) cursor() (Cursor, error) {
	cur := Cursor{UpdatedAfter: c.o.StartTime.Unix()}
	err := c.o.LoadCursor(&cur)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typ) {
		c.o.Logger.Warn("unreadable sync cursor, listing again from the start time", "err", err)
		return Cursor{UpdatedAfter: c.o.StartTime.Unix()}, nil
	}
	return cur, err
}

func (c *Syncer) putCursor(cur Cursor) error { return c.o.SaveCursor(cur) }

func (c *Syncer) listURL(cur Cursor) string {
	q := url.Values{
		"limit":             {strconv.Itoa(c.o.PageSize)},
		"sort_by[asc]":      {"updated_at"},
		"include_deleted":   {"true"},
		"updated_at[after]": {strconv.FormatInt(cur.UpdatedAfter, 10)},
	}
	if cur.NextOffset != "" {
		q.Set("offset", cur.NextOffset)
	}
	return c.o.BaseURL + ListPath + "?" + q.Encode()
}

func (c *Syncer) fetch(ctx context.Context, cur Cursor) (*Page, error) {
	return source.FetchPage(c.o.Deps, ListPath, func(raw *listPage) error {
		_, err := c.client.GetJSON(ctx, c.listURL(cur), raw)
		return err
	}, (*listPage).decode)
}

// commit applies a page and stores the next cursor and the aggregates in
// one transaction, then publishes it to scrapes.
func (c *Syncer) commit(page *Page, next Cursor) error {
	return c.o.CommitSubscriptions(c.o.Tracker, page.Subscriptions, source.Page{Rejected: page.Rejected, Cursor: next}, nil)
}
