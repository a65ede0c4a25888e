// Package edesk is a fake eDesk Open API (v1) account for tests and demo
// mode, from eDesk's OpenAPI reference (developers.edesk.com): the ticket
// list (GET /v1/tickets: {data, paginator{currentPage, itemsPerPage,
// totalItemsCount}}, page and itemsPerPage up to 100, order_by and
// order_direction, filter_last_updated_at_gte as a date — inclusive from
// the start of that day in the account's time zone), one ticket item at a
// time (GET /v1/messages/{id}), the channels (GET /v1/channels), bearer
// authentication, eDesk's rate limit (a burst of 60 requests refilled at
// 2 a second: 429 {"error": {"httpCode": 429, "message": "Out of quota"}}
// with Retry-After), and the shared fault switch.
//
// Where eDesk's reference is silent the fake states its assumption:
// last_updated_at is the time of the ticket's latest item (message, note,
// status change or rating), formatted "2006-01-02 15:04:05" in UTC, as is
// created_at; messages_ids lists every item of the ticket, oldest first;
// replies counts the outgoing items of type Message; a Status item's body
// is the new status; a Rating item's body is the customer's rating
// ("Good", "Neutral", "Bad", or 1 to 5).
package edesk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// Layout is eDesk's date-time format (UTC).
const Layout = "2006-01-02 15:04:05"

// Options configure a Server. The zero value is an open server with
// eDesk's limits.
type Options struct {
	// Token, when set, is the bearer token required.
	Token string
	// PageSize caps itemsPerPage below the API's 100 (0: 100), to make
	// paging visible with little data.
	PageSize int
	// Latency delays every ticket listing, e.g. to make a sync slow enough to be
	// killed in its middle.
	Latency time.Duration
	// RateLimit is the burst of requests served before 429 (0: eDesk's
	// 60), refilled at RateLimit/30 a second (eDesk: 2 a second); the fake
	// approximates the bucket with a window of 30 s.
	RateLimit int
	// NoRateLimit never answers 429 for the budget.
	NoRateLimit bool
	// Location is the account's time zone, in which
	// filter_last_updated_at_gte days start (default UTC).
	Location *time.Location
	// Now is the server's clock (default time.Now).
	Now func() time.Time
}

// Ticket item types and directions used by the fake.
const (
	TypeMessage = "Message"
	TypeNote    = "Note"
	TypeStatus  = "Status"
	TypeRating  = "Rating"

	Incoming = "Incoming"
	Outgoing = "Outgoing"
	Other    = "Other"
)

// Item is a ticket item (GET /v1/messages/{id}).
type Item struct {
	ID        int64
	Type      string // Message, Note, Status, Rating, AutoReply, …
	Direction string // Incoming, Outgoing, Other
	Body      string
	// CreatedAt is set to the server's clock by AddItem when zero.
	CreatedAt time.Time
}

// Ticket is a stored ticket, in eDesk's terms: Status "Open", "Pending",
// "Closed", "Archived", "Spam" or "Scheduled".
type Ticket struct {
	ID          int64
	Subject     string
	Type        string // ticket type label, e.g. "ProductQuery"
	ChannelID   int64
	Status      string
	OwnerUserID int64 // 0 is none
	ContactID   int64
	CreatedAt   time.Time
	// UpdatedAt is last_updated_at: set to the server's clock by every
	// change when zero.
	UpdatedAt time.Time
	Items     []Item
}

// Channel is a connected channel (GET /v1/channels).
type Channel struct {
	ID   int64
	Type string // Email, Chat, Phone, Facebook, ContactForm, Amazon, eBay, …
	Name string
}

// DefaultChannels are the channels of a new fake account.
var DefaultChannels = []Channel{
	{1, "Email", "Support mailbox"}, {2, "ContactForm", "Web form"}, {3, "Chat", "Live chat"},
	{4, "Phone", "Voice"}, {5, "Facebook", "Facebook page"}, {6, "Amazon", "Amazon US"}, {7, "API", "Integrations"},
}

// Fault is a failure the server can be told to produce: Fault429 answers
// 429 "Out of quota" with Retry-After (see SetRetryAfter), Fault500 500
// with eDesk's error body, FaultTruncated 200 with the body cut in half,
// and FaultUnknownStatus serves the listing with the first ticket's
// status replaced by "Escalated".
type Fault = fake.Fault

// The injectable faults.
const (
	FaultNone, Fault429, Fault500      = fake.FaultNone, fake.Fault429, fake.Fault500
	FaultTruncated, FaultUnknownStatus = fake.FaultTruncated, fake.FaultUnknownStatus
)

// Request is one request the server received (never its headers).
type Request struct {
	At          time.Time
	Path, Query string
	Status      int
}

// Server is a running fake eDesk account, safe for concurrent use.
type Server struct {
	// URL is the API base URL, http://127.0.0.1:port/v1.
	URL  string
	opts Options
	hs   *httptest.Server

	mu       sync.Mutex
	tickets  map[int64]*Ticket
	items    map[int64]itemRef
	channels []Channel
	nextItem int64

	faults  fake.Faults
	log     fake.RequestLog[Request]
	hooks   fake.WebhookSender // off until SendWebhooks
	limiter *fake.RateLimiter

	// People is the account's users (agents), listed by GET /v1/users;
	// tickets' owner_user_id is one of them. eDesk has no groups.
	fake.People
}

type itemRef struct {
	ticket int64
	i      int
}

// NewServer starts a server on 127.0.0.1.
func NewServer(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PageSize <= 0 || o.PageSize > 100 {
		o.PageSize = 100
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 60
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	s := &Server{opts: o, tickets: map[int64]*Ticket{}, items: map[int64]itemRef{}, nextItem: 5000,
		channels: slices.Clone(DefaultChannels),
		limiter:  &fake.RateLimiter{Limit: o.RateLimit, Window: 30 * time.Second, Off: o.NoRateLimit}}
	s.faults.SetRetryAfter(1)
	s.faults.SetLatency(o.Latency)
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.hs.URL + "/v1"
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.hs.Close()
	s.hooks.CloseWebhooks()
}

func (s *Server) now() time.Time { return s.opts.Now().UTC().Truncate(time.Second) }

// Put stores a ticket (a new one or a new version of its fields); its
// Items are added to those already stored, and a zero UpdatedAt becomes
// the server's clock.
func (s *Server) Put(t Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putLocked(t)
}

func (s *Server) putLocked(t Ticket) {
	now := s.now()
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = now
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = t.UpdatedAt
	}
	add := t.Items
	t.Items = nil
	if old, ok := s.tickets[t.ID]; ok {
		t.Items = old.Items
	}
	s.tickets[t.ID] = &t
	for _, it := range add {
		s.addItemLocked(&t, it, now)
	}
	s.notifyLocked(t.ID)
}

func (s *Server) addItemLocked(t *Ticket, it Item, now time.Time) int64 {
	if it.CreatedAt.IsZero() {
		it.CreatedAt = now
	}
	it.CreatedAt = it.CreatedAt.UTC().Truncate(time.Second)
	if it.ID == 0 {
		s.nextItem++
		it.ID = s.nextItem
	}
	t.Items = append(t.Items, it)
	s.items[it.ID] = itemRef{t.ID, len(t.Items) - 1}
	return it.ID
}

// AddItem adds an item to a ticket and makes it the ticket's latest
// change (last_updated_at is the server's clock). It returns the item id.
func (s *Server) AddItem(ticketID int64, it Item) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[ticketID]
	if !ok {
		return 0
	}
	now := s.now()
	t.UpdatedAt = now
	defer s.notifyLocked(ticketID)
	return s.addItemLocked(t, it, now)
}

// Reply adds an agent's reply at a given time (zero: now).
func (s *Server) Reply(ticketID int64, at time.Time) int64 {
	return s.AddItem(ticketID, Item{Type: TypeMessage, Direction: Outgoing, Body: "Thanks for writing in.", CreatedAt: at})
}

// SetStatus changes a ticket's status, recording the change as a Status
// item dated at (zero: now).
func (s *Server) SetStatus(ticketID int64, status string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[ticketID]
	if !ok {
		return
	}
	now := s.now()
	t.Status, t.UpdatedAt = status, now
	s.addItemLocked(t, Item{Type: TypeStatus, Direction: Other, Body: status, CreatedAt: at}, now)
	s.notifyLocked(ticketID)
}

// Rate records a customer's rating of a ticket now, as a Rating item
// whose body is the rating.
func (s *Server) Rate(ticketID int64, rating string) {
	s.AddItem(ticketID, Item{Type: TypeRating, Direction: Incoming, Body: rating})
}

// Touch bumps a ticket's last_updated_at without changing it.
func (s *Server) Touch(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tickets[id]; ok {
		t.UpdatedAt = s.now()
		s.notifyLocked(id)
	}
}

// Get returns a stored ticket.
func (s *Server) Get(id int64) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	c := *t
	c.Items = slices.Clone(t.Items)
	return c, true
}

// Len is the number of stored tickets.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tickets)
}

// SetChannels replaces the account's channels.
func (s *Server) SetChannels(cs ...Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels = slices.Clone(cs)
}

// InjectFault makes the next n requests fail with f (n < 0: all).
func (s *Server) InjectFault(f Fault, n int) { s.faults.Inject(f, n) }

// SetRetryAfter sets the Retry-After seconds of injected 429 answers.
func (s *Server) SetRetryAfter(sec int) { s.faults.SetRetryAfter(sec) }

// SetLatency changes Options.Latency.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// Requests returns the requests received so far.
func (s *Server) Requests() []Request { return s.log.All() }

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() { s.log.Reset() }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	e := s.log.Add(Request{At: s.opts.Now(), Path: r.URL.Path, Query: r.URL.RawQuery})
	sw := &fake.StatusWriter{ResponseWriter: w}
	s.handle(sw, r)
	s.log.Update(e, func(rec *Request) { rec.Status = sw.Status })
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is eDesk's error body.
func apiError(w http.ResponseWriter, status int, message, details string) {
	e := map[string]any{"httpCode": status, "message": message}
	if details != "" {
		e["details"] = details
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if tok, ok := fake.BearerToken(r); s.opts.Token != "" && (!ok || tok != s.opts.Token) {
		apiError(w, http.StatusUnauthorized, "Unauthorized", "Invalid or expired token")
		return
	}
	if r.Method != http.MethodGet {
		apiError(w, http.StatusMethodNotAllowed, "Method Not Allowed", "")
		return
	}
	path := r.URL.Path
	switch {
	case path == "/v1/tickets", path == "/v1/channels", path == "/v1/users", strings.HasPrefix(path, "/v1/messages/"):
	default:
		apiError(w, http.StatusNotFound, "Not Found", "")
		return
	}
	if path == "/v1/tickets" {
		s.faults.Delay(r.Context())
	}
	now := s.opts.Now()
	b := s.limiter.Take(now)
	fault := FaultNone
	if !b.Limited {
		fault = s.faults.Take()
	}
	if b.Limited || fault == Fault429 {
		retry := b.RetryAfter(now)
		if fault == Fault429 {
			retry = s.faults.RetryAfter()
		}
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		apiError(w, http.StatusTooManyRequests, "Out of quota", "")
		return
	}
	if fault == Fault500 {
		apiError(w, http.StatusInternalServerError, "Internal Server Error", "")
		return
	}
	var status int
	var body any
	switch {
	case path == "/v1/tickets":
		status, body = s.listTickets(r.URL.Query(), fault == FaultUnknownStatus)
	case path == "/v1/channels":
		status, body = s.listChannels(r.URL.Query())
	case path == "/v1/users":
		status, body = s.listUsers(r.URL.Query())
	default:
		status, body = s.getItem(strings.TrimPrefix(path, "/v1/messages/"))
	}
	if fault == FaultTruncated && status == http.StatusOK {
		b, _ := json.Marshal(body)
		b = b[:len(b)/2]
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return
	}
	writeJSON(w, status, body)
}

func errBody(status int, message, details string) (int, any) {
	return status, map[string]any{"error": map[string]any{"httpCode": status, "message": message, "details": details}}
}

// paging reads page and itemsPerPage (default 20, at most 100).
func (s *Server) paging(q url.Values) (page, per int, status int, body any) {
	page, per = 1, 20
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			status, body = errBody(http.StatusBadRequest, "Validation failed", "4005: page must be a numeric value of at least 1")
			return
		}
		page = n
	}
	if v := q.Get("itemsPerPage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			status, body = errBody(http.StatusBadRequest, "Validation failed", "4005: itemsPerPage must be a numeric value from 1 to 100")
			return
		}
		per = n
	}
	return page, min(per, s.opts.PageSize), 0, nil
}

func paginate(items []any, page, per int) map[string]any {
	from := min((page-1)*per, len(items))
	to := min(from+per, len(items))
	out := items[from:to]
	if out == nil {
		out = []any{}
	}
	return map[string]any{"data": out,
		"paginator": map[string]int{"currentPage": page, "itemsPerPage": per, "totalItemsCount": len(items)}}
}

func (s *Server) listTickets(q url.Values, unknownStatus bool) (int, any) {
	page, per, st, eb := s.paging(q)
	if st != 0 {
		return st, eb
	}
	var since time.Time
	hasSince := false
	if v := q.Get("filter_last_updated_at_gte"); v != "" {
		d, err := time.ParseInLocation("2006-01-02", v, s.opts.Location)
		if err != nil {
			return errBody(http.StatusBadRequest, "Validation failed", "4010: filter_last_updated_at_gte must be a valid date")
		}
		since, hasSince = d, true
	}
	orderBy := q.Get("order_by")
	switch orderBy {
	case "", "id", "created_at", "last_updated_at":
	default:
		return errBody(http.StatusBadRequest, "Validation failed", "4007: order_by must be one of the allowed values")
	}
	desc := false
	switch q.Get("order_direction") {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return errBody(http.StatusBadRequest, "Validation failed", "4007: order_direction must be one of the allowed values")
	}
	s.mu.Lock()
	var sel []*Ticket
	for _, t := range s.tickets {
		if hasSince && t.UpdatedAt.Before(since) {
			continue
		}
		sel = append(sel, t)
	}
	key := func(t *Ticket) int64 {
		switch orderBy {
		case "created_at":
			return t.CreatedAt.Unix()
		case "last_updated_at":
			return t.UpdatedAt.Unix()
		}
		return t.ID
	}
	slices.SortFunc(sel, func(a, b *Ticket) int {
		c := 0
		if ka, kb := key(a), key(b); ka != kb {
			c = cmpInt(ka, kb)
		} else {
			c = cmpInt(a.ID, b.ID)
		}
		if desc {
			c = -c
		}
		return c
	})
	items := make([]any, len(sel))
	for i, t := range sel {
		m := ticketJSON(t)
		if i == 0 && unknownStatus {
			m["status"] = "Escalated"
		}
		items[i] = m
	}
	s.mu.Unlock()
	return http.StatusOK, paginate(items, page, per)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func fmtTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(Layout)
}

func ticketJSON(t *Ticket) map[string]any {
	ids := make([]int64, len(t.Items))
	replies := 0
	for i, it := range t.Items {
		ids[i] = it.ID
		if it.Type == TypeMessage && it.Direction == Outgoing {
			replies++
		}
	}
	m := map[string]any{
		"id": t.ID, "subject": t.Subject, "type": t.Type, "channel_id": t.ChannelID, "status": t.Status,
		"created_at": fmtTime(t.CreatedAt), "last_updated_at": fmtTime(t.UpdatedAt),
		"owner_user_id": nil, "custom_fields": []any{}, "time_left_to_reply": false, "tags_ids": []int64{},
		"contact_id": t.ContactID, "messages_ids": ids, "uri": fmt.Sprintf("https://app.edesk.com/tickets/%d", t.ID),
		"replies": replies, "ai_classification": "",
	}
	if t.OwnerUserID != 0 {
		m["owner_user_id"] = t.OwnerUserID
	}
	if t.Type == "" {
		m["type"] = "Query"
	}
	return m
}

func (s *Server) listChannels(q url.Values) (int, any) {
	page, per, st, eb := s.paging(q)
	if st != 0 {
		return st, eb
	}
	s.mu.Lock()
	items := make([]any, len(s.channels))
	for i, c := range s.channels {
		items[i] = map[string]any{"id": c.ID, "type": c.Type, "name": c.Name, "country": "US", "currency": "USD"}
	}
	s.mu.Unlock()
	return http.StatusOK, paginate(items, page, per)
}

// listUsers answers GET /v1/users, paged like every list.
func (s *Server) listUsers(q url.Values) (int, any) {
	page, per, st, eb := s.paging(q)
	if st != 0 {
		return st, eb
	}
	items := []any{}
	for _, u := range s.People.Agents() {
		items = append(items, map[string]any{"id": u.ID, "name": u.Name, "email": fmt.Sprintf("user%d@example.invalid", u.ID),
			"username": fmt.Sprintf("user%d", u.ID), "role": "agent", "active": true})
	}
	return http.StatusOK, paginate(items, page, per)
}

func (s *Server) getItem(raw string) (int, any) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return errBody(http.StatusBadRequest, "Validation failed", "4005: messageId must be a numeric value")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok := s.items[id]
	if !ok {
		return errBody(http.StatusNotFound, "Not Found", "4002: not able to find an object")
	}
	t := s.tickets[ref.ticket]
	it := t.Items[ref.i]
	m := map[string]any{
		"id": it.ID, "external_id": "", "subject": t.Subject, "created_at": fmtTime(it.CreatedAt),
		"type": it.Type, "attachments": []any{}, "direction": it.Direction, "body": it.Body, "errors": []any{},
		"ticket_id": t.ID,
	}
	if it.Direction == Outgoing {
		m["from_user"] = map[string]any{"id": 77, "name": "Agent Smith", "email": "agent@example.com", "active": true, "username": "agent", "role": "agent"}
	} else {
		m["from_consumer_id"] = t.ContactID
	}
	return http.StatusOK, map[string]any{"data": m}
}
