// Package intercom is a fake of the part of Intercom's REST API the
// exporter reads: POST /conversations/search with a single updated_at (or
// created_at) filter, cursor pagination (pagination.per_page up to 150,
// opaque pages.next.starting_after) and sort.
//
// It follows Intercom where it matters to a collector: Bearer
// authentication with Intercom's error.list body on 401, the
// Intercom-Version header (defaulted when absent, 400 when unknown),
// X-RateLimit-Limit/-Remaining/-Reset over 10-second windows with 429 when
// over (plus Retry-After, which Intercom does not send but our client
// honours), unix-second timestamps and Intercom's field names and nulls.
// Tests script the workspace (Put) and switch on faults (InjectFault); the
// demo mode runs Simulate.
//
// Deletions are not modelled: Intercom's search never returns a deleted
// conversation, so a collector cannot observe one.
//
// Cursors are stateless: they encode the (updated_at, change sequence) of
// the last conversation served, so they stay valid forever, and a
// conversation changed during paging lands after every cursor handed out.
package intercom

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SearchPath is the conversation search endpoint.
const SearchPath = "/conversations/search"

const (
	maxPageSize     = 150
	defaultPageSize = 20
	rateWindow      = 10 * time.Second
)

// versions are the Intercom-Version values the fake accepts.
var versions = map[string]bool{"2.7": true, "2.8": true, "2.9": true, "2.10": true, "2.11": true, "2.12": true, "2.13": true, "2.14": true, "Unstable": true}

// DefaultVersion is used when a request has no Intercom-Version.
const DefaultVersion = "2.11"

// Options configure a Server.
type Options struct {
	// Token, when set, is the only accepted Bearer token.
	Token string
	// MaxPageSize caps per_page below Intercom's 150 (tests use it to make
	// many pages); 0 means 150.
	MaxPageSize int
	// Latency delays every answer (tests use it to catch a sync mid-way).
	Latency time.Duration
	// RateLimit is the request budget per 10-second window (default 166,
	// about Intercom's 1000/minute).
	RateLimit int
	// NoRateLimit sends the headers but never answers 429.
	NoRateLimit bool
	// Now is the server clock (default time.Now).
	Now func() time.Time
}

// Fault is a failure the server can produce on search requests: Fault429
// answers 429 with X-RateLimit-Reset and Retry-After: 1, Fault500 500 with
// an error.list body, FaultTruncated 200 with half of the body, and
// FaultUnknownState serves the page with the first conversation's state
// set to "escalated".
type Fault = fake.Fault

// The injectable faults.
const (
	FaultNone, Fault429, Fault500     = fake.FaultNone, fake.Fault429, fake.Fault500
	FaultTruncated, FaultUnknownState = fake.FaultTruncated, fake.FaultUnknownStatus
)

// Conversation is a scripted conversation. Zero times are null in JSON.
type Conversation struct {
	ID          string
	State       string // open, closed, snoozed (anything is served as is)
	Priority    string // "priority", "not_priority" or "" (null)
	SourceType  string // email, conversation, phone_call, twitter, …; default conversation
	DeliveredAs string // customer_initiated (default), admin_initiated, automated, …
	TeamID      int64  // team_assignee_id; 0 is null
	AdminID     int64  // admin_assignee_id; 0 is null

	CreatedAt, UpdatedAt time.Time

	FirstContactReplyAt time.Time
	FirstAdminReplyAt   time.Time
	LastAdminReplyAt    time.Time
	FirstCloseAt        time.Time
	LastCloseAt         time.Time
	CountReopens        int
	CountAssignments    int

	Rating   int // 1–5, 0 none
	RatingAt time.Time
	Remark   string
}

// Request is one request the server received. Headers, and so
// credentials, are never recorded.
type Request struct {
	At      time.Time
	Method  string
	Path    string
	Body    string
	Version string // Intercom-Version as sent ("" when absent)
	Status  int
}

type record struct {
	c   Conversation
	seq uint64
}

// Server is a running fake Intercom workspace, safe for concurrent use.
type Server struct {
	URL string

	ts   *httptest.Server
	opts Options

	mu     sync.Mutex
	convs  map[string]*record
	seq    uint64
	lastID int64

	faults  fake.Faults
	log     fake.RequestLog[Request]
	limiter *fake.RateLimiter

	// People is the workspace's admins (teammates) and teams, listed by
	// GET /admins and GET /teams (unpaged, as Intercom lists them).
	fake.People
	hooks fake.WebhookSender // off until SendWebhooks
	notif uint64
}

// NewServer starts a fake on 127.0.0.1.
func NewServer(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxPageSize <= 0 || o.MaxPageSize > maxPageSize {
		o.MaxPageSize = maxPageSize
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 166
	}
	s := &Server{opts: o, convs: map[string]*record{},
		limiter: &fake.RateLimiter{Limit: o.RateLimit, Window: rateWindow, Aligned: true, Off: o.NoRateLimit}}
	s.faults.SetLatency(o.Latency)
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.ts.Close()
	s.hooks.CloseWebhooks()
}

// NextID returns a fresh numeric conversation id.
func (s *Server) NextID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastID++
	return strconv.FormatInt(s.lastID, 10)
}

// Put inserts or replaces conversations, in order, as the newest changes.
// A zero UpdatedAt is set to now, a zero CreatedAt to UpdatedAt, an empty
// ID to a fresh one.
func (s *Server) Put(cs ...Conversation) {
	now := s.opts.Now().UTC().Truncate(time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		if c.UpdatedAt.IsZero() {
			c.UpdatedAt = now
		}
		if c.CreatedAt.IsZero() {
			c.CreatedAt = c.UpdatedAt
		}
		if c.ID == "" {
			s.lastID++
			c.ID = strconv.FormatInt(s.lastID, 10)
		} else if n, err := strconv.ParseInt(c.ID, 10, 64); err == nil && n > s.lastID {
			s.lastID = n
		}
		s.seq++
		_, known := s.convs[c.ID]
		s.convs[c.ID] = &record{c: c, seq: s.seq}
		s.notifyLocked(&c, !known)
	}
}

// Get returns a stored conversation.
func (s *Server) Get(id string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.convs[id]
	if !ok {
		return Conversation{}, false
	}
	return r.c, true
}

// Len is the number of conversations.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.convs)
}

// InjectFault makes the next n search requests fail with f (n < 0: all).
func (s *Server) InjectFault(f Fault, n int) { s.faults.Inject(f, n) }

// Requests returns the requests received so far.
func (s *Server) Requests() []Request { return s.log.All() }

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() { s.log.Reset() }

// SetLatency changes Options.Latency.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "error.list", "request_id": "fake", "errors": []apiError{{code, msg}}})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := readAll(r)
	if !s.faults.Delay(r.Context()) {
		return
	}
	rec := &fake.StatusWriter{ResponseWriter: w}
	s.serve(rec, r, body)
	s.log.Add(Request{At: s.opts.Now(), Method: r.Method, Path: r.URL.Path, Body: string(body),
		Version: r.Header.Get("Intercom-Version"), Status: rec.Status})
}

func readAll(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, 1<<20))
	return b.Bytes(), err
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	if auth := (fake.Auth{Token: s.opts.Token}); !auth.Allows(r) {
		writeError(w, http.StatusUnauthorized, "unauthorized", "Access Token Invalid")
		return
	}
	if v := r.Header.Get("Intercom-Version"); v != "" && !versions[v] {
		writeError(w, http.StatusBadRequest, "intercom_version_invalid", "The requested version could not be found")
		return
	}
	if r.URL.Path == "/admins" || r.URL.Path == "/teams" {
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET")
			return
		}
		if !s.rateLimit(w) {
			writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Exceeded rate limit")
			return
		}
		s.directory(w, r.URL.Path == "/admins")
		return
	}
	if r.URL.Path != SearchPath {
		writeError(w, http.StatusNotFound, "not_found", "Resource Not Found")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	if !s.rateLimit(w) {
		writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Exceeded rate limit")
		return
	}
	fault := s.faults.Take()
	switch fault {
	case Fault429:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Exceeded rate limit")
		return
	case Fault500:
		writeError(w, http.StatusInternalServerError, "server_error", "Server Error")
		return
	}
	var req searchRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "parameter_invalid", "invalid JSON body")
		return
	}
	out, code, msg := s.search(&req, fault == FaultUnknownState)
	if code != "" {
		writeError(w, http.StatusBadRequest, code, msg)
		return
	}
	b, _ := json.Marshal(out)
	if fault == FaultTruncated {
		b = b[:len(b)/2]
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// rateLimit counts the request in the current window, sets the headers and
// reports whether it may be served.
func (s *Server) rateLimit(w http.ResponseWriter) bool {
	now := s.opts.Now()
	b := s.limiter.Take(now)
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(b.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(b.Reset.Unix(), 10))
	if b.Limited {
		h.Set("Retry-After", strconv.Itoa(b.RetryAfter(now)))
		return false
	}
	return true
}

type searchRequest struct {
	Query *struct {
		Field    string          `json:"field"`
		Operator string          `json:"operator"`
		Value    json.RawMessage `json:"value"`
	} `json:"query"`
	Pagination *struct {
		PerPage       *int   `json:"per_page"`
		StartingAfter string `json:"starting_after"`
	} `json:"pagination"`
	Sort *struct {
		Field string `json:"field"`
		Order string `json:"order"`
	} `json:"sort"`
}

func encodeCursor(at int64, seq uint64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "ic1:%d:%d", at, seq))
}

func decodeCursor(c string) (int64, uint64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, false
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != "ic1" {
		return 0, 0, false
	}
	at, err1 := strconv.ParseInt(parts[1], 10, 64)
	seq, err2 := strconv.ParseUint(parts[2], 10, 64)
	return at, seq, err1 == nil && err2 == nil
}

// search answers a request; code is an error code for a 400.
func (s *Server) search(req *searchRequest, badState bool) (map[string]any, string, string) {
	if req.Query == nil {
		return nil, "parameter_not_found", "query is required"
	}
	q := req.Query
	field := q.Field
	if field != "updated_at" && field != "created_at" {
		return nil, "parameter_invalid", "the fake searches updated_at and created_at only"
	}
	var value int64
	if err := json.Unmarshal(q.Value, &value); err != nil {
		var str string
		if json.Unmarshal(q.Value, &str) != nil {
			return nil, "parameter_invalid", "value must be a unix timestamp"
		}
		if value, err = strconv.ParseInt(str, 10, 64); err != nil {
			return nil, "parameter_invalid", "value must be a unix timestamp"
		}
	}
	var match func(v int64) bool
	switch q.Operator {
	case ">":
		match = func(v int64) bool { return v > value }
	case "<":
		match = func(v int64) bool { return v < value }
	case "=":
		match = func(v int64) bool { return v == value }
	case "!=":
		match = func(v int64) bool { return v != value }
	default:
		return nil, "parameter_invalid", "unsupported operator " + q.Operator
	}
	perPage := defaultPageSize
	after := ""
	if p := req.Pagination; p != nil {
		if p.PerPage != nil {
			if *p.PerPage < 1 || *p.PerPage > maxPageSize {
				return nil, "parameter_invalid", "per_page must be between 1 and 150"
			}
			perPage = *p.PerPage
		}
		after = p.StartingAfter
	}
	perPage = min(perPage, s.opts.MaxPageSize)
	sortField, desc := "updated_at", false
	if so := req.Sort; so != nil {
		if so.Field != "" {
			if so.Field != "updated_at" && so.Field != "created_at" {
				return nil, "parameter_invalid", "the fake sorts on updated_at and created_at only"
			}
			sortField = so.Field
		}
		switch so.Order {
		case "", "ascending":
		case "descending":
			desc = true
		default:
			return nil, "invalid_sort_order", "Invalid sort order '" + so.Order + "'. Must be one of: ascending, descending"
		}
	}
	type item struct {
		key int64
		r   *record
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []item
	for _, r := range s.convs {
		v := r.c.UpdatedAt.Unix()
		if field == "created_at" {
			v = r.c.CreatedAt.Unix()
		}
		if !match(v) {
			continue
		}
		k := r.c.UpdatedAt.Unix()
		if sortField == "created_at" {
			k = r.c.CreatedAt.Unix()
		}
		items = append(items, item{k, r})
	}
	less := func(a, b item) bool {
		if a.key != b.key {
			return a.key < b.key
		}
		return a.r.seq < b.r.seq
	}
	sort.Slice(items, func(i, j int) bool {
		if desc {
			return less(items[j], items[i])
		}
		return less(items[i], items[j])
	})
	total := len(items)
	start := 0
	if after != "" {
		at, seq, ok := decodeCursor(after)
		if !ok {
			return nil, "parameter_invalid", "invalid starting_after"
		}
		cur := item{key: at, r: &record{seq: seq}}
		start = sort.Search(len(items), func(i int) bool {
			if desc {
				return less(items[i], cur)
			}
			return less(cur, items[i])
		})
	}
	end := min(start+perPage, len(items))
	convs := make([]map[string]any, 0, end-start)
	for i, it := range items[start:end] {
		m := render(&it.r.c)
		if badState && i == 0 {
			m["state"] = "escalated"
		}
		convs = append(convs, m)
	}
	totalPages := max((total+perPage-1)/perPage, 1)
	pages := map[string]any{"type": "pages", "page": start/perPage + 1, "per_page": perPage, "total_pages": totalPages}
	if end < len(items) {
		last := items[end-1]
		pages["next"] = map[string]any{"page": start/perPage + 2, "starting_after": encodeCursor(last.key, last.r.seq)}
	}
	return map[string]any{"type": "conversation.list", "conversations": convs, "total_count": total, "pages": pages}, "", ""
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

func secs(from, to time.Time) any {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return nil
	}
	return int64(to.Sub(from) / time.Second)
}

func orNil[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// render gives a conversation Intercom's JSON shape.
func render(c *Conversation) map[string]any {
	srcType := c.SourceType
	if srcType == "" {
		srcType = "conversation"
	}
	delivered := c.DeliveredAs
	if delivered == "" {
		delivered = "customer_initiated"
	}
	var team any
	if c.TeamID != 0 {
		team = strconv.FormatInt(c.TeamID, 10)
	}
	var admin any
	if c.AdminID != 0 {
		admin = c.AdminID
	}
	var rating any
	if c.Rating != 0 {
		rating = map[string]any{"rating": c.Rating, "remark": orNil(c.Remark), "created_at": ts(c.RatingAt),
			"contact": map[string]any{"type": "contact", "id": "c" + c.ID}, "teammate": map[string]any{"type": "admin", "id": "814860"}}
	}
	priority := c.Priority
	if priority == "" {
		priority = "not_priority"
	}
	return map[string]any{
		"type": "conversation", "id": c.ID, "title": nil,
		"created_at": c.CreatedAt.Unix(), "updated_at": c.UpdatedAt.Unix(),
		"waiting_since": nil, "snoozed_until": nil,
		"open": c.State == "open" || c.State == "snoozed", "state": c.State, "read": true,
		"priority": priority, "admin_assignee_id": admin, "team_assignee_id": team,
		"tags":     map[string]any{"type": "tag.list", "tags": []any{}},
		"source":   map[string]any{"type": srcType, "id": "s" + c.ID, "delivered_as": delivered, "subject": "", "body": "<p>Hi</p>", "author": map[string]any{"type": "user", "id": "u" + c.ID}, "attachments": []any{}, "url": nil, "redacted": false},
		"contacts": map[string]any{"type": "contact.list", "contacts": []any{map[string]any{"type": "contact", "id": "c" + c.ID}}},
		"statistics": map[string]any{
			"type":                           "conversation_statistics",
			"time_to_assignment":             nil,
			"time_to_admin_reply":            secs(c.CreatedAt, c.FirstAdminReplyAt),
			"time_to_first_close":            secs(c.CreatedAt, c.FirstCloseAt),
			"time_to_last_close":             secs(c.CreatedAt, c.LastCloseAt),
			"median_time_to_reply":           secs(c.CreatedAt, c.FirstAdminReplyAt),
			"first_contact_reply_at":         ts(c.FirstContactReplyAt),
			"first_assignment_at":            nil,
			"first_admin_reply_at":           ts(c.FirstAdminReplyAt),
			"first_close_at":                 ts(c.FirstCloseAt),
			"last_assignment_at":             nil,
			"last_assignment_admin_reply_at": nil,
			"last_contact_reply_at":          ts(c.FirstContactReplyAt),
			"last_admin_reply_at":            ts(c.LastAdminReplyAt),
			"last_close_at":                  ts(c.LastCloseAt),
			"last_closed_by_id":              nil,
			"count_reopens":                  c.CountReopens,
			"count_assignments":              c.CountAssignments,
			"count_conversation_parts":       1 + c.CountReopens,
		},
		"conversation_rating": rating,
	}
}

// directory answers GET /admins ({"type": "admin.list", "admins": […]}) and
// GET /teams ({"type": "team.list", "teams": […]}).
func (s *Server) directory(w http.ResponseWriter, admins bool) {
	var out map[string]any
	if admins {
		list := []any{}
		for _, a := range s.People.Agents() {
			var teams []int64
			if a.Group != 0 {
				teams = []int64{a.Group}
			}
			list = append(list, map[string]any{"type": "admin", "id": strconv.FormatInt(a.ID, 10), "name": a.Name,
				"email": fmt.Sprintf("admin%d@example.invalid", a.ID), "away_mode_enabled": false, "has_inbox_seat": true, "team_ids": teams})
		}
		out = map[string]any{"type": "admin.list", "admins": list}
	} else {
		list := []any{}
		for _, t := range s.People.Groups() {
			list = append(list, map[string]any{"type": "team", "id": strconv.FormatInt(t.ID, 10), "name": t.Name, "admin_ids": []int64{}})
		}
		out = map[string]any{"type": "team.list", "teams": list}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
