// Package source is the kit every vendor package is built from: the one
// contract the process runs (Source), the dependencies the process hands a
// vendor (Deps), the page-and-cursor transaction every pull vendor commits
// through (Deps.Commit), the one shape of a rejected record (Rejection),
// and the registry through which a vendor declares its configuration, how
// to build it and how demo mode runs it (Register).
//
// The arrows point down: the process (exporter/) finds vendors only here;
// vendors (collectors/<vendor>) use this kit, the engines
// (collectors/helpdesk, collectors/billing) and the libraries under
// internal/; nothing here imports a vendor or the process.
package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// Source is one configured source as the process runs it: the scheduler
// calls Sync every poll interval, and scrapes render Collector.
type Source interface {
	// Sync brings the source's state up to date with its vendor. It is
	// never called concurrently with itself.
	Sync(ctx context.Context) error
	// Collector renders the source's KPIs at scrapes, from what the last
	// sync committed; it never calls upstream.
	Collector() prometheus.Collector
}

// Receiver is a Source that also takes pushes on the exporter's listener
// (the survey endpoint).
type Receiver interface {
	Source
	// Routes maps ServeMux patterns ("POST /api/v1/...") to handlers.
	Routes() map[string]http.Handler
}

// Syncer is a vendor's sync loop.
type Syncer interface {
	Sync(ctx context.Context) error
}

// New is the Source of a pull vendor: its syncer, and the engine's
// Prometheus collector that renders what the syncer commits.
func New(s Syncer, c prometheus.Collector) Source { return &pull{Syncer: s, c: c} }

// Fresh is a Source that knows when the newest record version it applied
// changed upstream (cx_exporter_newest_change_age_seconds).
type Fresh interface {
	NewestChange() time.Time
}

type pull struct {
	Syncer
	c prometheus.Collector
	// serial orders a sync and a webhook fetch of the source: each
	// begins its engine batch from the aggregates the other published.
	serial sync.Mutex
	newest func() time.Time
}

func (p *pull) Collector() prometheus.Collector { return p.c }

// Sync runs the vendor's sync under the source's lock.
func (p *pull) Sync(ctx context.Context) error {
	p.serial.Lock()
	defer p.serial.Unlock()
	return p.Syncer.Sync(ctx)
}

// NewestChange is the upstream time of the newest record version the
// engine applied; zero before any.
func (p *pull) NewestChange() time.Time {
	if p.newest == nil {
		return time.Time{}
	}
	return p.newest()
}

// RejectFunc is told of every record dropped as invalid; reason is the
// label value of cx_exporter_records_rejected_total.
type RejectFunc func(id, reason string, err error)

// Deps are what every vendor's syncer gets from the process. Vendor
// Options embed it.
type Deps struct {
	Name   string           // the source's instance name, e.g. "zendesk"
	Client upstream.Options // template of the source's upstream client
	State  *state.Source
	Reject RejectFunc
	Logger *slog.Logger
	Now    func() time.Time
	// FetchGrace overrides DefaultFetchGrace (tests).
	FetchGrace time.Duration
	// Names resolves assignee and group ids to display names (see
	// Env.Names); nil leaves ids as they are.
	Names *Names
	// WebhookResult counts one webhook received, by result (see
	// WebhookAccepted).
	WebhookResult func(result string)
	// Recent is told the ids of the records each commit applied.
	Recent *RecentIDs
}

// DefaultFetchGrace is how long the fetch in flight (the request, its
// body, its retries and their waits) may go on once a sync's context is
// done, for a page that is arriving to arrive and commit. It bounds
// shutdown: SIGTERM ends the process within this plus the HTTP server's
// 5 s shutdown, well inside Kubernetes' default 30 s grace period, even
// with a hung upstream or a 429 with Retry-After: 120.
const DefaultFetchGrace = 5 * time.Second

// FetchContext returns the context every vendor fetches pages with during
// one Sync: unlike ctx, it is not done as soon as ctx is (a page being
// received is received, then committed whole), but it is cancelled
// FetchGrace after ctx is done, which abandons the request and any retry
// wait; nothing of that page is committed. Call stop when the sync ends.
func (d Deps) FetchContext(ctx context.Context) (fetch context.Context, stop context.CancelFunc) {
	grace := d.FetchGrace
	if grace <= 0 {
		grace = DefaultFetchGrace
	}
	fetch, cancel := context.WithCancel(context.WithoutCancel(ctx))
	unhook := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return fetch, func() { unhook(); cancel() }
}

// Pages runs one sync of a pull vendor's listing: page fetches one page
// with fctx (FetchContext's) and commits it, reporting whether it was the
// last. Pages returns nil once the last page is committed, whatever ctx
// says by then (a sync that reached the end succeeded); between pages it
// stops with ctx's error.
func (d Deps) Pages(ctx context.Context, page func(fctx context.Context) (last bool, err error)) error {
	fctx, stop := d.FetchContext(ctx)
	defer stop()
	for {
		last, err := page(fctx)
		if err != nil || last {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// WithDefaults returns d with every unset hook filled in, so that a
// missing hook can never panic: Now is time.Now, Logger discards, Reject
// does nothing, and the client is named after the source.
func (d Deps) WithDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Reject == nil {
		d.Reject = func(string, string, error) {}
	}
	if d.WebhookResult == nil {
		d.WebhookResult = func(string) {}
	}
	if d.Recent == nil {
		d.Recent = new(RecentIDs)
	}
	d.Client.Source = d.Name
	return d
}

// NewClient returns the source's upstream client, authorizing each
// request with authorize and reading the quota left from the first of
// rateLimitHeaders found.
func (d Deps) NewClient(authorize func(*http.Request), rateLimitHeaders ...string) *upstream.Client {
	o := d.Client
	o.Source = d.Name
	o.Authorize = authorize
	o.RateLimitHeaders = rateLimitHeaders
	return upstream.New(o)
}

// Rejection is an upstream record that could not become a canonical
// record; the rest of its page still counts.
type Rejection struct {
	ID     string // the record id, or "" when even that is unreadable
	Reason string // label value of cx_exporter_records_rejected_total
	Err    error
}

// RejectAll reports every rejection of a page.
func (d Deps) RejectAll(rs []Rejection) {
	for _, r := range rs {
		d.Reject(r.ID, r.Reason, r.Err)
	}
}

// FetchFailed reports err as a malformed_page when the page arrived whole
// as JSON of the wrong shape (a Malformed upstream.BodyError), and returns
// err. A page that was cut, timed out or is not JSON at all is a transport
// fault: no record was dropped, the client counted the attempt as
// cx_exporter_api_requests_total{code="error"}, and the next sync fetches
// the page again.
func (d Deps) FetchFailed(err error) error {
	var be *upstream.BodyError
	if errors.As(err, &be) && be.Malformed {
		d.Reject("", "malformed_page", err)
	}
	return err
}

// MalformedPage reports a page that decoded but did not make sense, and
// returns err as "source: path: err".
func (d Deps) MalformedPage(path string, err error) error {
	d.Reject("", "malformed_page", err)
	return fmt.Errorf("%s: %s: %w", d.Name, path, err)
}

// RecordID digs the id out of a record that failed to decode, for the
// log: a JSON string, or an integer; "" otherwise.
func RecordID(r json.RawMessage) string {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(r, &v) != nil {
		return ""
	}
	return LogID(v.ID)
}

// LogID is an id as a log line shows it: IDString when it is one, or else
// the raw JSON, cut to 64 bytes of valid UTF-8.
func LogID(raw json.RawMessage) string {
	if id := IDString(raw); id != "" {
		return id
	}
	id := string(raw)
	if len(id) > 64 {
		id = id[:64]
	}
	return strings.ToValidUTF8(id, "\uFFFD")
}

// IDString reads an id given as a JSON string or integer; "" otherwise.
func IDString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if _, err := n.Int64(); err == nil {
			return n.String()
		}
	}
	return ""
}

// LoadCursor reads the source's persisted cursor into v (JSON; a *string
// takes the raw bytes). It leaves v as it is when no cursor is stored.
func (d Deps) LoadCursor(v any) error {
	err := d.State.View(func(tx *state.Tx) error {
		b := tx.Get(state.KeyCursor)
		if len(b) == 0 {
			return nil
		}
		if s, ok := v.(*string); ok {
			*s = string(b)
			return nil
		}
		return json.Unmarshal(b, v)
	})
	if err != nil {
		return fmt.Errorf("%s: stored cursor: %w", d.Name, err)
	}
	return nil
}

// SaveCursor stores the cursor alone, for a move that commits no records
// (a listing that starts over, a phase that ends).
func (d Deps) SaveCursor(cursor any) error {
	b, err := encodeCursor(cursor)
	if err != nil {
		return err
	}
	return d.State.Update(func(tx *state.Tx) error { return tx.Put(state.KeyCursor, b) })
}

func encodeCursor(cursor any) ([]byte, error) {
	switch c := cursor.(type) {
	case string:
		return []byte(c), nil
	case []byte:
		return c, nil
	}
	return json.Marshal(cursor)
}

// Batch is one page's uncommitted changes to an engine.
type Batch interface {
	// Aggregates encodes the engine's aggregates after the page.
	Aggregates() ([]byte, error)
}

// Page is what a pull vendor commits: its rejections, the records to
// apply and the cursor after it.
type Page struct {
	Rejected []Rejection
	// Cursor is stored as is when a string or []byte, as JSON otherwise.
	Cursor any
	// KeepCursor leaves the stored cursor as it is (records fetched by id
	// for a webhook, not a page of the listing).
	KeepCursor bool
}

// Commit is every pull vendor's exactly-once unit. It reports the page's
// rejections, then, in one transaction, runs apply (which folds the page's
// records into batch through tx.Records()), stores the engine's aggregates and the
// page's cursor; once that has committed, publish makes the batch visible
// to scrapes. Nothing of the page is stored if any step fails.
func (d Deps) Commit(p Page, batch Batch, apply func(tx *state.Tx) error, publish func()) error {
	d.RejectAll(p.Rejected)
	fold := func(tx *state.Tx) ([]byte, error) {
		if err := apply(tx); err != nil {
			return nil, err
		}
		return batch.Aggregates()
	}
	var err error
	if p.KeepCursor {
		err = d.State.Update(func(tx *state.Tx) error {
			agg, err := fold(tx)
			if err != nil {
				return err
			}
			return tx.Put(state.KeyAggregates, agg)
		})
	} else {
		var cb []byte
		if cb, err = encodeCursor(p.Cursor); err != nil {
			return fmt.Errorf("%s: encoding cursor: %w", d.Name, err)
		}
		err = d.State.CommitPage(cb, fold)
	}
	if err != nil {
		return fmt.Errorf("%s: committing page: %w", d.Name, err)
	}
	publish()
	return nil
}

// DecodePage parses a page body of type R and maps it with decode; what
// names the page in the error of a body that is not JSON of that shape.
func DecodePage[R, P any](body []byte, what string, decode func(*R) (P, error)) (P, error) {
	var raw R
	if err := json.Unmarshal(body, &raw); err != nil {
		var zero P
		return zero, fmt.Errorf("malformed %s: %w", what, err)
	}
	return decode(&raw)
}

// FetchPage fetches one page into R with do (the vendor's request on its
// upstream client) and maps it with decode. A body that could not be read
// is reported by FetchFailed; one that maps to nothing sensible is a
// malformed page of path.
func FetchPage[R, P any](d Deps, path string, do func(raw *R) error, decode func(*R) (P, error)) (P, error) {
	var raw R
	var zero P
	if err := do(&raw); err != nil {
		return zero, d.FetchFailed(err)
	}
	p, err := decode(&raw)
	if err != nil {
		return zero, d.MalformedPage(path, err)
	}
	return p, nil
}
