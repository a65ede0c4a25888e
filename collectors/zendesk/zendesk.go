// Package zendesk is the Zendesk Support collector: it follows the
// cursor-based incremental ticket export with metric sets, maps tickets to
// the canonical model and feeds the helpdesk engine one committed page at
// a time.
package zendesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// ExportPath is the cursor-based incremental ticket export.
const ExportPath = "/api/v2/incremental/tickets/cursor.json"

// Options configure a Syncer.
type Options struct {
	source.Deps
	BaseURL    string // https://acme.zendesk.com
	Email      string
	APIToken   string
	OAuthToken string
	// PageSize is per_page (1..1000, default 1000).
	PageSize int
	// ExportRequestsPerMinute spaces export requests to stay within the
	// endpoint's own limit (default 10, Zendesk's on most plans).
	ExportRequestsPerMinute int
	// StartTime is the first request's start_time (default the epoch: a
	// full backfill, so the backlog gauges see every open ticket).
	StartTime time.Time
	Tracker   *helpdesk.Tracker
}

// Syncer syncs one Zendesk account.
type Syncer struct {
	o      Options
	client *upstream.Client

	mu       sync.Mutex
	nextCall time.Time // export rate limit: no request before this
}

// New returns a collector. Credentials go only into request headers.
func New(o Options) (*Syncer, error) {
	if o.PageSize <= 0 || o.PageSize > 1000 {
		o.PageSize = 1000
	}
	if o.ExportRequestsPerMinute <= 0 {
		o.ExportRequestsPerMinute = 10
	}
	if o.StartTime.IsZero() {
		o.StartTime = time.Unix(0, 0)
	}
	o.Deps = o.WithDefaults()
	if _, err := url.Parse(o.BaseURL); err != nil || o.BaseURL == "" {
		return nil, fmt.Errorf("zendesk base URL %q is not a URL", source.RedactURL(o.BaseURL))
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	var authorize func(*http.Request)
	switch {
	case o.OAuthToken != "":
		token := o.OAuthToken
		authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	case o.Email != "" && o.APIToken != "":
		user, token := o.Email+"/token", o.APIToken
		authorize = func(r *http.Request) { r.SetBasicAuth(user, token) }
	default:
		return nil, errors.New("zendesk needs an API token with its email, or an OAuth token")
	}
	return &Syncer{o: o, client: o.NewClient(authorize, "X-Rate-Limit-Remaining", "ratelimit-remaining")}, nil
}

// Sync follows the export from the persisted cursor to the end of the
// stream, committing each page with its cursor. Cancelling ctx stops it
// between pages; the page in flight is fetched (within the kit's fetch
// grace) and committed first.
func (c *Syncer) Sync(ctx context.Context) error {
	return c.o.Pages(ctx, func(fctx context.Context) (bool, error) {
		cursor, err := c.cursor()
		if err != nil {
			return false, err
		}
		if err := c.wait(ctx); err != nil {
			return false, err
		}
		page, err := c.fetch(fctx, cursor)
		if err != nil {
			return false, err
		}
		c.o.ResolveNames(fctx, page.Tickets)
		return page.EndOfStream, c.commit(page)
	})
}

func (c *Syncer) cursor() (string, error) {
	var cur string
	err := c.o.LoadCursor(&cur)
	return cur, err
}

// wait spaces export requests at the configured rate.
func (c *Syncer) wait(ctx context.Context) error {
	c.mu.Lock()
	now := c.o.Now()
	d := c.nextCall.Sub(now)
	c.nextCall = now.Add(max(d, 0) + time.Minute/time.Duration(c.o.ExportRequestsPerMinute))
	c.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Syncer) exportURL(cursor string) string {
	q := url.Values{"include": {"metric_sets"}, "per_page": {strconv.Itoa(c.o.PageSize)}}
	if cursor == "" {
		q.Set("start_time", strconv.FormatInt(c.o.StartTime.Unix(), 10))
	} else {
		q.Set("cursor", cursor)
	}
	return c.o.BaseURL + ExportPath + "?" + q.Encode()
}

func (c *Syncer) fetch(ctx context.Context, cursor string) (*Page, error) {
	return source.FetchPage(c.o.Deps, ExportPath, func(raw *exportPage) error {
		_, err := c.client.GetJSON(ctx, c.exportURL(cursor), raw)
		return err
	}, (*exportPage).decode)
}

// commit applies a page and stores its cursor and the aggregates in one
// transaction, then publishes it to scrapes.
func (c *Syncer) commit(page *Page) error {
	return c.o.CommitTickets(c.o.Tracker, page.Tickets, source.Page{Rejected: page.Rejected, Cursor: page.AfterCursor})
}
