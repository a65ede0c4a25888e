// Package freshdesk is a fake Freshdesk API v2 account for tests and
// demo mode: the ticket list (bare JSON array, Link rel="next" paging,
// per_page up to 100, a page cap, updated_since, order_by/order_type,
// include=stats, filter=deleted), the satisfaction ratings list, Basic
// authentication with the API key, per-minute rate limits with 429 and
// Retry-After, and injectable faults.
package freshdesk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// Options configure a Server. The zero value is an open server with
// Freshdesk's limits.
type Options struct {
	// APIKey, when set, is required as the Basic user (any password;
	// Freshdesk's convention is "X").
	APIKey string
	// PageSize caps per_page below the API's 100 (0: 100), to make paging
	// visible with little data.
	PageSize int
	// PageCap is the last page served (0: Freshdesk's 300); beyond it the
	// list answers 400 with errors[0].field "page".
	PageCap int
	// Latency delays every list answer, e.g. to make a sync slow enough
	// to be killed in its middle.
	Latency time.Duration
	// RateLimit is the per-minute request budget (0: 400, the Growth plan).
	RateLimit int
	// NoRateLimit sends the headers but never answers 429 for the budget.
	NoRateLimit bool
	// Now is the server's clock (default time.Now).
	Now func() time.Time
}

// Stats is a ticket's stats object (include=stats); zero times are null.
type Stats struct {
	FirstRespondedAt     time.Time
	AgentRespondedAt     time.Time
	RequesterRespondedAt time.Time
	StatusUpdatedAt      time.Time
	ReopenedAt           time.Time
	ResolvedAt           time.Time
	ClosedAt             time.Time
	PendingSince         time.Time
}

// Ticket is a stored ticket, in Freshdesk's codes: Status 2 open,
// 3 pending, 4 resolved, 5 closed, 6+ custom; Priority 1-4; Source 1
// email, 2 portal, 3 phone, 7 chat, 9 feedback widget, 10 outbound email.
type Ticket struct {
	ID       int64
	Subject  string
	Status   int
	Priority int
	Source   int
	Type     string // "" is null
	GroupID  int64  // 0 is null
	// ResponderID is the assigned agent; 0 is null (unassigned).
	ResponderID int64
	CreatedAt   time.Time
	// UpdatedAt is set to the server's clock by Put when zero.
	UpdatedAt time.Time
	Stats     Stats
	Deleted   bool
	// RawStatus, when set, is served as the status instead of Status (a
	// string, which Freshdesk never sends: for rejection tests).
	RawStatus string
}

// SatisfactionRating is a survey result; Value is ratings.default_question.
type SatisfactionRating struct {
	ID        int64
	TicketID  int64
	Value     int
	CreatedAt time.Time
}

// Fault is a failure the server can be told to produce on list requests:
// Fault429 answers 429 with Retry-After (see SetRetryAfter), Fault500 500
// with a JSON error body, FaultTruncated 200 with the body cut in half, and
// FaultUnknownStatus serves the page with the first ticket's status
// replaced by the string "escalated".
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

// Server is a running fake Freshdesk account, safe for concurrent use.
type Server struct {
	// URL is the base URL (http://127.0.0.1:port), without /api/v2.
	URL  string
	opts Options
	hs   *httptest.Server

	mu         sync.Mutex
	tickets    map[int64]*Ticket
	ratings    []SatisfactionRating
	nextRating int64

	faults  fake.Faults
	log     fake.RequestLog[Request]
	hooks   fake.WebhookSender // off until SendWebhooks
	limiter *fake.RateLimiter

	// People is the account's agents and groups, listed by
	// GET /api/v2/agents and GET /api/v2/groups (page and per_page up to
	// 100, a Link rel="next" header while more follow, like tickets).
	fake.People
}

// NewServer starts a server on 127.0.0.1.
func NewServer(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PageSize <= 0 || o.PageSize > 100 {
		o.PageSize = 100
	}
	if o.PageCap <= 0 {
		o.PageCap = 300
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 400
	}
	s := &Server{opts: o, tickets: map[int64]*Ticket{}, nextRating: 1,
		limiter: &fake.RateLimiter{Limit: o.RateLimit, Window: time.Minute, Off: o.NoRateLimit}}
	s.faults.SetRetryAfter(1)
	s.faults.SetLatency(o.Latency)
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.hs.URL
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.hs.Close()
	s.hooks.CloseWebhooks()
}

func (s *Server) now() time.Time { return s.opts.Now().UTC().Truncate(time.Second) }

// Put stores a ticket (a new one or a new version); a zero UpdatedAt
// becomes the server's clock.
func (s *Server) Put(t Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putLocked(t)
}

func (s *Server) putLocked(t Ticket) {
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = s.now()
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = t.UpdatedAt
	}
	s.tickets[t.ID] = &t
	s.notifyLocked(t.ID)
}

// Get returns a stored ticket.
func (s *Server) Get(id int64) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	return *t, true
}

// Delete moves a ticket to the trash (listed only with filter=deleted).
func (s *Server) Delete(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tickets[id]; ok {
		t.Deleted, t.UpdatedAt = true, s.now()
		s.notifyLocked(id)
	}
}

// Touch bumps a ticket's updated_at without changing it.
func (s *Server) Touch(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tickets[id]; ok {
		t.UpdatedAt = s.now()
	}
}

// Len is the number of stored tickets, deleted ones included.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tickets)
}

// Rate records a satisfaction survey result for a ticket now.
func (s *Server) Rate(ticketID int64, value int) { s.RateAt(ticketID, value, s.now()) }

// RateAt records a satisfaction survey result at a given time.
func (s *Server) RateAt(ticketID int64, value int, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLocked(ticketID, value, at)
}

func (s *Server) rateLocked(ticketID int64, value int, at time.Time) {
	s.ratings = append(s.ratings, SatisfactionRating{ID: s.nextRating, TicketID: ticketID, Value: value, CreatedAt: at.UTC().Truncate(time.Second)})
	s.nextRating++
}

// InjectFault makes the next n list requests fail with f (n < 0: all).
func (s *Server) InjectFault(f Fault, n int) { s.faults.Inject(f, n) }

// SetRetryAfter sets the Retry-After seconds of 429 answers.
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
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func validation(field, message string) map[string]any {
	return map[string]any{"description": "Validation failed",
		"errors": []map[string]string{{"field": field, "message": message, "code": "invalid_value"}}}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if auth := (fake.Auth{User: s.opts.APIKey}); !auth.Allows(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"code": "method_not_allowed", "message": "GET only"})
		return
	}
	var list bool
	switch r.URL.Path {
	case "/api/v2/tickets", "/api/v2/surveys/satisfaction_ratings", "/api/v2/agents", "/api/v2/groups":
		list = true
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "not_found", "message": "no such endpoint"})
		return
	}
	if list {
		s.faults.Delay(r.Context())
	}
	limited, retryAfter := s.rateHeaders(w.Header())
	fault := FaultNone
	if !limited {
		fault = s.faults.Take()
	}
	if limited || fault == Fault429 {
		if fault == Fault429 {
			retryAfter = s.faults.RetryAfter()
		}
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"code": "too_many_requests", "message": "You have exceeded the limit of requests per minute"})
		return
	}
	if fault == Fault500 {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"code": "internal_error", "message": "We're sorry, but something went wrong."})
		return
	}
	q := r.URL.Query()
	page, perPage := 1, 30
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, validation("page", "It should be a/an Positive Integer"))
			return
		}
		page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeJSON(w, http.StatusBadRequest, validation("per_page", "It should be a/an Positive Integer less than or equal to 100"))
			return
		}
		perPage = n
	}
	perPage = min(perPage, s.opts.PageSize)
	if page > s.opts.PageCap {
		writeJSON(w, http.StatusBadRequest, validation("page", fmt.Sprintf("It should be a/an Positive Integer less than or equal to %d", s.opts.PageCap)))
		return
	}
	var items []any
	var status int
	var body any
	switch r.URL.Path {
	case "/api/v2/tickets":
		status, body = s.listTickets(q, fault == FaultUnknownStatus)
	case "/api/v2/agents":
		status, body = http.StatusOK, s.listAgents()
	case "/api/v2/groups":
		status, body = http.StatusOK, s.listGroups()
	default:
		status, body = s.listRatings(q)
	}
	if status != http.StatusOK {
		writeJSON(w, status, body)
		return
	}
	items = body.([]any)
	from := min((page-1)*perPage, len(items))
	to := min(from+perPage, len(items))
	if to < len(items) {
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.RequestURI()))
	}
	out := items[from:to]
	if out == nil {
		out = []any{}
	}
	if fault == FaultTruncated {
		b, _ := json.Marshal(out)
		b = b[:len(b)/2]
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// rateHeaders counts the request against the minute's budget.
func (s *Server) rateHeaders(h http.Header) (limited bool, retryAfter int) {
	now := s.opts.Now()
	b := s.limiter.Take(now)
	h.Set("X-RateLimit-Total", strconv.Itoa(b.Limit))
	h.Set("X-RateLimit-Used-CurrentRequest", "1")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.Remaining))
	if b.Limited {
		return true, b.RetryAfter(now)
	}
	return false, 0
}

func parseSince(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Server) listTickets(q url.Values, unknownStatus bool) (int, any) {
	since, hasSince := time.Time{}, false
	if v := q.Get("updated_since"); v != "" {
		t, ok := parseSince(v)
		if !ok {
			return http.StatusBadRequest, validation("updated_since", "It should be in the 'valid date time' format")
		}
		since, hasSince = t, true
	}
	orderBy := q.Get("order_by")
	switch orderBy {
	case "":
		orderBy = "created_at"
	case "created_at", "updated_at", "due_by", "status":
	default:
		return http.StatusBadRequest, validation("order_by", "It should be one of these values: 'created_at,due_by,updated_at,status'")
	}
	desc := true
	switch q.Get("order_type") {
	case "", "desc":
	case "asc":
		desc = false
	default:
		return http.StatusBadRequest, validation("order_type", "It should be one of these values: 'asc,desc'")
	}
	filter := q.Get("filter")
	switch filter {
	case "", "deleted", "spam", "new_and_my_open", "watching":
	default:
		return http.StatusBadRequest, validation("filter", "It should be one of these values: 'new_and_my_open,watching,spam,deleted'")
	}
	stats := q.Get("include") == "stats"
	s.mu.Lock()
	now := s.now()
	var sel []Ticket
	for _, t := range s.tickets {
		switch {
		case filter == "deleted" && !t.Deleted, filter != "deleted" && t.Deleted, filter == "spam":
			continue
		case hasSince && t.UpdatedAt.Before(since):
			continue
		case !hasSince && t.CreatedAt.Before(now.Add(-30*24*time.Hour)):
			continue
		}
		sel = append(sel, *t)
	}
	s.mu.Unlock()
	key := func(t *Ticket) int64 {
		switch orderBy {
		case "updated_at":
			return t.UpdatedAt.UnixNano()
		case "status":
			return int64(t.Status)
		}
		return t.CreatedAt.UnixNano()
	}
	slices.SortFunc(sel, func(a, b Ticket) int {
		c := 0
		if ka, kb := key(&a), key(&b); ka != kb {
			c = -1
			if ka > kb {
				c = 1
			}
		} else if a.ID != b.ID {
			c = -1
			if a.ID > b.ID {
				c = 1
			}
		}
		if desc {
			c = -c
		}
		return c
	})
	items := make([]any, len(sel))
	for i := range sel {
		m := ticketJSON(&sel[i], stats)
		if i == 0 && unknownStatus {
			m["status"] = "escalated"
		}
		items[i] = m
	}
	return http.StatusOK, items
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func ticketJSON(t *Ticket, stats bool) map[string]any {
	m := map[string]any{
		"id": t.ID, "subject": t.Subject, "status": t.Status, "priority": t.Priority, "source": t.Source,
		"type": nil, "group_id": nil, "requester_id": 1000 + t.ID%97, "responder_id": nil,
		"created_at": ts(t.CreatedAt), "updated_at": ts(t.UpdatedAt),
		"due_by": ts(t.CreatedAt.Add(72 * time.Hour)), "fr_due_by": ts(t.CreatedAt.Add(24 * time.Hour)),
		"is_escalated": false, "fr_escalated": false, "spam": false, "tags": []string{},
	}
	if t.Type != "" {
		m["type"] = t.Type
	}
	if t.GroupID != 0 {
		m["group_id"] = t.GroupID
	}
	if t.ResponderID != 0 {
		m["responder_id"] = t.ResponderID
	}
	if t.Deleted {
		m["deleted"] = true
	}
	if t.RawStatus != "" {
		m["status"] = t.RawStatus
	}
	if stats {
		st := t.Stats
		m["stats"] = map[string]any{
			"first_responded_at": ts(st.FirstRespondedAt), "agent_responded_at": ts(st.AgentRespondedAt),
			"requester_responded_at": ts(st.RequesterRespondedAt), "status_updated_at": ts(st.StatusUpdatedAt),
			"reopened_at": ts(st.ReopenedAt), "resolved_at": ts(st.ResolvedAt), "closed_at": ts(st.ClosedAt),
			"pending_since": ts(st.PendingSince),
		}
	}
	return m
}

func (s *Server) listRatings(q url.Values) (int, any) {
	var since time.Time
	if v := q.Get("created_since"); v != "" {
		t, ok := parseSince(v)
		if !ok {
			return http.StatusBadRequest, validation("created_since", "It should be in the 'valid date time' format")
		}
		since = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []any
	for _, r := range s.ratings {
		if r.CreatedAt.Before(since) {
			continue
		}
		items = append(items, map[string]any{
			"id": r.ID, "survey_id": 1, "user_id": 1000 + r.TicketID%97, "agent_id": nil, "group_id": nil,
			"ticket_id": r.TicketID, "feedback": "", "ratings": map[string]int{"default_question": r.Value},
			"created_at": ts(r.CreatedAt), "updated_at": ts(r.CreatedAt),
		})
	}
	if items == nil {
		items = []any{}
	}
	return http.StatusOK, items
}

// listAgents lists the agents as GET /api/v2/agents does: the name is the
// agent's contact's.
func (s *Server) listAgents() []any {
	out := []any{}
	for _, a := range s.People.Agents() {
		var groups []int64
		if a.Group != 0 {
			groups = []int64{a.Group}
		}
		out = append(out, map[string]any{
			"id": a.ID, "available": true, "occasional": false, "ticket_scope": 1, "type": "support_agent",
			"group_ids": groups, "created_at": "2024-01-08T09:00:00Z", "updated_at": "2024-01-08T09:00:00Z",
			"contact": map[string]any{"name": a.Name, "email": fmt.Sprintf("agent%d@example.invalid", a.ID), "active": true},
		})
	}
	return out
}

// listGroups lists the groups as GET /api/v2/groups does.
func (s *Server) listGroups() []any {
	out := []any{}
	for _, g := range s.People.Groups() {
		out = append(out, map[string]any{"id": g.ID, "name": g.Name, "description": nil,
			"created_at": "2024-01-08T09:00:00Z", "updated_at": "2024-01-08T09:00:00Z"})
	}
	return out
}
