// Package helpscout is the Help Scout (Mailbox API 2.0) collector: it
// authenticates with OAuth2 client credentials, follows the conversations
// listing ordered by modification time, reads threads only for the
// conversations whose reply facts can have changed, reads the happiness
// ratings report, maps conversations to the canonical model and feeds the
// helpdesk engine one committed page at a time.
//
// Requests per sync, proportional to the changes and not to the account:
//
//   - token: one POST /v2/oauth2/token per token lifetime (and once more
//     after a 401);
//   - listing: ceil(changed/page size) pages, plus the one page that
//     re-reads the last second of the previous sync (the overlap);
//   - threads: one GET per listed conversation that is new, still has no
//     agent reply in the stored state, or has just been closed (to count
//     the replies at the solve); more only for conversations with more
//     than one page of threads;
//   - ratings: the report pages of the window since the last sync (one
//     usually), and one GET /v2/conversations/{id} per new or changed
//     rating.
//
// Mapping (see Statuses and Channels): active → open, pending → pending,
// closed → solved, spam → deleted, state "deleted" → deleted, drafts are
// skipped; no priority in Help Scout → "none"; type → "none"; mailboxId →
// group; closedAt → solved_at; reopens are not counted by Help Scout, so
// the engine counts closed → active transitions; business durations are
// computed by the engine (CX_BUSINESS_HOURS).
package helpscout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// Endpoints of the Mailbox API 2.0.
const (
	TokenPath         = "/v2/oauth2/token"
	ConversationsPath = "/v2/conversations"
	RatingsPath       = "/v2/reports/happiness/ratings"
)

// ratingsOverlap re-reads the end of the previous ratings window, for
// ratings the report shows late. Ratings already stored are not fetched again.
const ratingsOverlap = time.Hour

// Options configure a Syncer.
type Options struct {
	source.Deps
	BaseURL   string // https://api.helpscout.net
	AppID     string
	AppSecret string
	// Watermark starts the first ratings window: earlier ratings are history.
	Watermark time.Time
	Tracker   *helpdesk.Tracker
}

// Syncer syncs one Help Scout account.
type Syncer struct {
	o      Options
	client *upstream.Client
	tokens *retryablehttp.Client

	mu      sync.Mutex
	token   string
	expires time.Time

	ratingsOff bool // the ratings report answered 403: plan-gated

	gets atomic.Int64 // API GETs made (the backfill's cost)
}

// cursor is the persisted sync position.
type cursor struct {
	ModifiedSince time.Time `json:"modified_since"`
	Page          int       `json:"page"`
	MaxSeen       time.Time `json:"max_seen,omitzero"`
	RatingsSince  time.Time `json:"ratings_since,omitzero"`
}

// New returns a collector. The secret and the tokens go only into request
// bodies and headers, never into logs or errors.
func New(o Options) (*Syncer, error) {
	o.Deps = o.WithDefaults()
	if u, err := url.Parse(o.BaseURL); err != nil || o.BaseURL == "" || u.Host == "" {
		return nil, fmt.Errorf("helpscout base URL is not an absolute URL")
	}
	if o.AppID == "" || o.AppSecret == "" {
		return nil, errors.New("helpscout needs an app id and an app secret")
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	c := &Syncer{o: o}
	authorize := func(r *http.Request) {
		c.mu.Lock()
		tok := c.token
		c.mu.Unlock()
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	c.client = o.NewClient(authorize, "X-RateLimit-Remaining-Minute")
	tc := retryablehttp.NewClient()
	tc.Logger = nil
	tc.RetryMax = 2
	tc.RetryWaitMin, tc.RetryWaitMax = cmpDur(o.Client.RetryWaitMin, 500*time.Millisecond), cmpDur(o.Client.RetryWaitMax, 5*time.Second)
	tc.HTTPClient.Timeout = cmpDur(o.Client.Timeout, 30*time.Second)
	// The token request carries the app secret: never to another origin.
	tc.HTTPClient.CheckRedirect = upstream.SameOriginRedirects(o.Name)
	tc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c.tokens = tc
	return c, nil
}

func cmpDur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// ensureToken fetches a token when there is none or it is about to expire.
func (c *Syncer) ensureToken(ctx context.Context) error {
	c.mu.Lock()
	ok := c.token != "" && c.o.Now().Before(c.expires)
	c.mu.Unlock()
	if ok {
		return nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.o.AppID}, "client_secret": {c.o.AppSecret}}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.o.BaseURL+TokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s: POST %s: bad request", c.o.Name, TokenPath)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.o.Client.UserAgent != "" {
		req.Header.Set("User-Agent", c.o.Client.UserAgent)
	}
	resp, err := c.tokens.Do(req)
	if err != nil {
		c.countToken("error")
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: POST %s: %w", c.o.Name, TokenPath, err)
	}
	defer resp.Body.Close()
	c.countToken(strconv.Itoa(resp.StatusCode))
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: POST %s: reading body: %w", c.o.Name, TokenPath, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		msg := fmt.Sprintf("%s: POST %s: %d %s", c.o.Name, TokenPath, resp.StatusCode, http.StatusText(resp.StatusCode))
		if e.Error != "" {
			msg += ": " + upstream.Sanitize(e.Error, 100, c.o.AppSecret, c.o.AppID)
		}
		return errors.New(msg)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" {
		return fmt.Errorf("%s: POST %s: malformed token response", c.o.Name, TokenPath)
	}
	ttl := time.Duration(tok.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour
	}
	// Refresh before expiry: a tenth of the lifetime early, at most a minute.
	early := min(ttl/10, time.Minute)
	c.mu.Lock()
	c.token, c.expires = tok.AccessToken, c.o.Now().Add(ttl-early)
	c.mu.Unlock()
	c.o.Logger.Debug("helpscout access token obtained", "expires_in", ttl)
	return nil
}

func (c *Syncer) countToken(code string) {
	if m := c.o.Client.Metrics; m != nil {
		m.Requests.WithLabelValues(c.o.Name, code).Inc()
	}
}

func (c *Syncer) dropToken() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}

// get fetches an API URL with a valid token; a 401 refreshes the token and
// tries once more.
func (c *Syncer) get(ctx context.Context, u string, v any) error {
	for attempt := 0; ; attempt++ {
		if err := c.ensureToken(ctx); err != nil {
			return err
		}
		c.gets.Add(1)
		_, err := c.client.GetJSON(ctx, u, v)
		var se *upstream.StatusError
		if attempt == 0 && errors.As(err, &se) && se.Status == http.StatusUnauthorized {
			c.o.Logger.Debug("helpscout token rejected, refreshing")
			c.dropToken()
			continue
		}
		return err
	}
}

// Sync follows the conversations listing from the persisted cursor to its
// end, committing each page with its cursor, then reads the ratings.
// Cancelling ctx stops it between pages; the page in flight is fetched and
// committed first.
func (c *Syncer) Sync(ctx context.Context) error {
	err := c.o.Pages(ctx, func(wctx context.Context) (bool, error) {
		cur, err := c.cursor()
		if err != nil {
			return false, err
		}
		page, err := c.fetchPage(wctx, cur)
		if err != nil {
			return false, err
		}
		if err := c.complete(wctx, page.Tickets); err != nil {
			return false, err
		}
		c.o.ResolveNames(wctx, page.Tickets)
		next := cur
		if page.MaxModified.After(next.MaxSeen) {
			next.MaxSeen = page.MaxModified.UTC()
		}
		// A modification time ahead of our clock (skew) must not move the
		// cursor past changes still to come.
		if now := c.o.Now().UTC().Truncate(time.Second); next.MaxSeen.After(now) {
			next.MaxSeen = now
		}
		if page.Last {
			if !next.MaxSeen.IsZero() && next.MaxSeen.Add(-time.Second).After(next.ModifiedSince) {
				next.ModifiedSince = next.MaxSeen.Add(-time.Second)
			}
			next.Page, next.MaxSeen = 1, time.Time{}
		} else {
			next.Page = max(cur.Page, 1) + 1
		}
		return page.Last, c.commit(page.Tickets, page.Rejected, func(p *cursor) { rs := p.RatingsSince; *p = next; p.RatingsSince = rs })
	})
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return c.syncRatings(ctx)
}

func (c *Syncer) cursor() (cursor, error) {
	var cur cursor
	if err := c.o.LoadCursor(&cur); err != nil {
		return cur, err
	}
	if cur.ModifiedSince.IsZero() {
		cur.ModifiedSince = time.Unix(0, 0).UTC()
	}
	cur.Page = max(cur.Page, 1)
	return cur, nil
}

func (c *Syncer) listURL(cur cursor) string {
	q := url.Values{
		"status":        {"all"},
		"modifiedSince": {cur.ModifiedSince.UTC().Format(time.RFC3339)},
		"sortField":     {"modifiedAt"},
		"sortOrder":     {"asc"},
		"page":          {strconv.Itoa(cur.Page)},
	}
	return c.o.BaseURL + ConversationsPath + "?" + q.Encode()
}

func (c *Syncer) fetchPage(ctx context.Context, cur cursor) (*Page, error) {
	return source.FetchPage(c.o.Deps, ConversationsPath, func(raw *listPage) error {
		return c.get(ctx, c.listURL(cur), raw)
	}, (*listPage).decode)
}

// stored reads the engine's state of the given tickets.
func (c *Syncer) stored(ids []string) (map[string]*helpdesk.State, error) {
	out := make(map[string]*helpdesk.State, len(ids))
	err := c.o.State.View(func(tx *state.Tx) error {
		rec := tx.Records()
		for _, id := range ids {
			if v := rec.Get(id); v != nil {
				s := new(helpdesk.State)
				if err := s.UnmarshalBinary(v); err != nil {
					return fmt.Errorf("ticket %s: %w", id, err)
				}
				out[id] = s
			}
		}
		return nil
	})
	return out, err
}

// complete fills the reply facts and the rating of listed conversations:
// from the stored state when they cannot have changed, else from threads.
func (c *Syncer) complete(ctx context.Context, ts []helpdesk.Ticket) error {
	ids := make([]string, len(ts))
	for i := range ts {
		ids[i] = ts[i].ID
	}
	prev, err := c.stored(ids)
	if err != nil {
		return fmt.Errorf("%s: %w", c.o.Name, err)
	}
	for i := range ts {
		t := &ts[i]
		p := prev[t.ID]
		if p != nil {
			t.Replied, t.AgentReplies, t.Satisfaction = p.Replied, int(p.AgentReplies), p.Rating
			if t.UpdatedAt.UnixNano() < p.UpdatedAt {
				continue // stale: the engine ignores it
			}
			// An equal modifiedAt is not proof of no change: Help Scout
			// dates changes to the second, so a reply in the same second
			// as the stored version is only seen by reading the threads.
		}
		need := p == nil || !p.Replied || (t.Status.Resolved() && !p.Status.Resolved())
		if !need || t.Status == helpdesk.StatusDeleted {
			continue
		}
		r, err := c.threads(ctx, t.ID)
		var se *upstream.StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			continue // deleted since it was listed: the next listing says so
		}
		if err != nil {
			return err
		}
		t.AgentReplies, t.FirstReplyAt = max(r.Count, t.AgentReplies), r.First
		t.Replied = t.Replied || r.Count > 0
	}
	return nil
}

// threads reads all threads of a conversation.
func (c *Syncer) threads(ctx context.Context, id string) (Replies, error) {
	var r Replies
	for page := 1; page <= 1000; page++ {
		var tp threadsPage
		u := c.o.BaseURL + ConversationsPath + "/" + url.PathEscape(id) + "/threads?page=" + strconv.Itoa(page)
		if err := c.get(ctx, u, &tp); err != nil {
			return r, err
		}
		r.add(&tp)
		if tp.Page == nil || tp.Links.Next == nil || tp.Page.Number >= tp.Page.TotalPages {
			break
		}
	}
	return r, nil
}

// commit applies tickets and stores the updated cursor and the aggregates
// in one transaction, then publishes them to scrapes.
func (c *Syncer) commit(tickets []helpdesk.Ticket, rejected []source.Rejection, move func(*cursor)) error {
	var cur cursor
	if err := c.o.LoadCursor(&cur); err != nil {
		return err
	}
	move(&cur)
	return c.o.CommitTickets(c.o.Tracker, tickets, source.Page{Rejected: rejected, Cursor: cur})
}

// resolved maps tickets' assignee and mailbox ids to names (ratings
// re-read conversations outside the listing).
func (c *Syncer) resolved(ctx context.Context, tickets []helpdesk.Ticket) []helpdesk.Ticket {
	c.o.ResolveNames(ctx, tickets)
	return tickets
}

// syncRatings reads the happiness ratings given since the last sync and
// applies those that are new or changed, fetching their conversations.
// The report is plan-gated (Plus and Pro): a 403 disables ratings for the
// life of the process with one warning, and the source stays up.
func (c *Syncer) syncRatings(ctx context.Context) error {
	fctx, stop := c.o.FetchContext(ctx)
	defer stop()
	c.mu.Lock()
	off := c.ratingsOff
	c.mu.Unlock()
	if off {
		return nil
	}
	cur, err := c.cursor()
	if err != nil {
		return err
	}
	start := cur.RatingsSince
	if start.IsZero() {
		start = c.o.Watermark
	}
	end := c.o.Now().UTC().Truncate(time.Second)
	if start.IsZero() || start.After(end) {
		start = end
	}
	latest, forbidden, err := c.ratings(ctx, start, end)
	if err != nil {
		return err
	}
	if forbidden {
		c.mu.Lock()
		c.ratingsOff = true
		c.mu.Unlock()
		c.o.Logger.Warn("helpscout happiness ratings report forbidden (plan-gated?): satisfaction ratings disabled", "src", c.o.Name)
		return nil
	}
	ids := make([]string, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	prev, err := c.stored(ids)
	if err != nil {
		return fmt.Errorf("%s: %w", c.o.Name, err)
	}
	var tickets []helpdesk.Ticket
	var rejected []source.Rejection
	for _, id := range ids {
		r := latest[id]
		if p := prev[id]; p != nil && p.Rating == r.Rating {
			continue
		}
		var ac apiConversation
		err := c.get(fctx, c.o.BaseURL+ConversationsPath+"/"+url.PathEscape(id), &ac)
		var se *upstream.StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			continue // deleted since
		}
		if err != nil {
			return err
		}
		t, skip, rej := canonical(&ac)
		if rej != nil {
			rejected = append(rejected, *rej)
			continue
		}
		if skip {
			continue
		}
		one := []helpdesk.Ticket{t}
		if err := c.complete(ctx, one); err != nil {
			return err
		}
		one[0].Satisfaction, one[0].SatisfactionAt = r.Rating, r.At
		tickets = append(tickets, one[0])
	}
	return c.commit(c.resolved(ctx, tickets), rejected, func(cur *cursor) {
		cur.RatingsSince = end.Add(-ratingsOverlap)
		if cur.RatingsSince.Before(c.o.Watermark) {
			cur.RatingsSince = c.o.Watermark
		}
	})
}

// ratings reads the happiness ratings report of [start, end]: each
// conversation's latest rating. forbidden: the report is plan-gated (403).
func (c *Syncer) ratings(ctx context.Context, start, end time.Time) (latest map[string]Rating, forbidden bool, err error) {
	latest = map[string]Rating{}
	for page := 1; page <= 10000; page++ {
		q := url.Values{"start": {start.UTC().Format(time.RFC3339)}, "end": {end.UTC().Format(time.RFC3339)},
			"rating": {"all"}, "page": {strconv.Itoa(page)}}
		var rp ratingsPage
		err := c.get(ctx, c.o.BaseURL+RatingsPath+"?"+q.Encode(), &rp)
		var se *upstream.StatusError
		if errors.As(err, &se) && se.Status == http.StatusForbidden {
			return nil, true, nil
		}
		if err != nil {
			return nil, false, err
		}
		for _, r := range rp.Results {
			v, ok := RatingValues[r.RatingID]
			if !ok || r.ConversationID == 0 {
				c.o.Reject(strconv.FormatInt(r.ConversationID, 10), "unknown_value", fmt.Errorf("unknown rating %d", r.RatingID))
				continue
			}
			var at time.Time
			if r.RatingCreatedAt != nil {
				at = *r.RatingCreatedAt
			}
			id := strconv.FormatInt(r.ConversationID, 10)
			if old, ok := latest[id]; !ok || !at.Before(old.At) {
				latest[id] = Rating{ConversationID: id, Rating: v, At: at}
			}
		}
		if rp.Page >= rp.Pages || len(rp.Results) == 0 {
			break
		}
	}
	return latest, false, nil
}
