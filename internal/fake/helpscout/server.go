// Package helpscout is a fake Help Scout Mailbox API 2.0 for tests and
// demo mode: OAuth2 client credentials with expiring tokens, the
// conversations listing with HAL paging and modifiedSince, threads, the
// happiness ratings report, per-minute rate limits and injectable faults.
package helpscout

import (
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

// Options configure a Server.
type Options struct {
	AppID, AppSecret string
	// TokenTTL is the lifetime of issued tokens (default 48h, Help Scout's).
	TokenTTL time.Duration
	// PageSize is the listing page size (default 50).
	PageSize int
	// RateLimit is requests per minute (default 400); NoRateLimit disables it.
	RateLimit   int
	NoRateLimit bool
	Now         func() time.Time
}

// Fault is an injectable failure of API (not token) requests:
// FaultRateLimit answers 429 with Retry-After and X-RateLimit-Retry-After,
// FaultServerError 500, FaultTruncated 200 with a cut body;
// FaultUnknownStatus makes the next n listing pages whose last conversation
// was changed after the fault was injected report that one with status
// "bogus" (other requests do not consume it); FaultExpireTokens expires
// every issued token now (the next API call gets 401).
type Fault = fake.Fault

// The faults.
const (
	FaultNone, FaultRateLimit, FaultServerError           = fake.FaultNone, fake.Fault429, fake.Fault500
	FaultTruncated, FaultUnknownStatus, FaultExpireTokens = fake.FaultTruncated, fake.FaultUnknownStatus, fake.FaultExpireTokens
)

// Conversation is a conversation as the fake stores it.
type Conversation struct {
	ID        int64
	Status    string // active, pending, closed, spam
	State     string // published (default), draft, deleted
	MailboxID int64
	// AssigneeID is the assigned user (0: unassigned, no assignee object).
	AssigneeID int64
	Source     string // source.type: email, chat, phone, beacon-v2, api…
	CreatedAt  time.Time
	ClosedAt   time.Time
	// ModifiedAt is set to the server's now by every change when zero.
	ModifiedAt time.Time
	// Threads given to Put are appended to the conversation's threads in
	// the same change; Get leaves them out.
	Threads []Thread
}

// Thread is one thread of a conversation.
type Thread struct {
	ID        int64
	Type      string // reply, customer, note, chat, phone…
	CreatedBy string // user (an agent) or customer
	CreatedAt time.Time
}

// Request is one request the fake answered.
type Request struct {
	At     time.Time
	Method string
	Path   string
	Query  string
	Status int
}

type record struct {
	c       Conversation
	seq     int64
	threads []Thread
	rating  string // great, okay, not_good
	ratedAt time.Time
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	opts Options

	mu        sync.Mutex
	convs     map[int64]*record
	seq       int64
	threadID  int64
	tokens    map[string]time.Time
	tokenN    int
	forbidden bool
	bogusN    int
	bogusSeq  int64 // only conversations changed after this are made bogus

	faults  fake.Faults        // its latency delays listings
	hooks   fake.WebhookSender // off until SendWebhooks
	log     fake.RequestLog[Request]
	limiter *fake.RateLimiter

	// People is the account's users and mailboxes, listed by GET /v2/users
	// and GET /v2/mailboxes (Person.Group is unused: mailboxes are not
	// users' groups).
	fake.People
}

// NewServer starts a fake.
func NewServer(o Options) *Server {
	if o.TokenTTL <= 0 {
		o.TokenTTL = 48 * time.Hour
	}
	if o.PageSize <= 0 {
		o.PageSize = 50
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 400
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, convs: map[int64]*record{}, tokens: map[string]time.Time{},
		limiter: &fake.RateLimiter{Limit: o.RateLimit, Window: time.Minute}}
	// Assigned before Start, which sets URL before serving: the HAL
	// handlers read s.URL for their links, and nothing would order an
	// assignment after Start with the serving goroutines.
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.Server.Start()
	return s
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

func (s *Server) touchLocked(r *record, at time.Time) {
	s.seq++
	created := r.seq == 0
	r.seq = s.seq
	if at.IsZero() {
		at = s.now()
	}
	r.c.ModifiedAt = at
	s.notifyLocked(r, created)
}

// Put creates or replaces a conversation (its threads and rating stay;
// c.Threads are added).
func (s *Server) Put(c Conversation) { s.PutAll(c) }

// PutAll puts conversations in one atomic change, in order.
func (s *Server) PutAll(cs ...Conversation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		s.putLocked(c)
	}
}

func (s *Server) putLocked(c Conversation) {
	if c.State == "" {
		c.State = "published"
	}
	if c.Source == "" {
		c.Source = "email"
	}
	r := s.convs[c.ID]
	if r == nil {
		r = &record{}
		s.convs[c.ID] = r
	}
	mod := c.ModifiedAt
	for _, t := range c.Threads {
		r.threads = append(r.threads, s.newThreadLocked(t))
	}
	c.Threads = nil
	r.c = c
	s.touchLocked(r, mod)
}

func (s *Server) newThreadLocked(t Thread) Thread {
	s.threadID++
	t.ID = s.threadID
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	if t.Type == "" {
		t.Type = "reply"
	}
	if t.CreatedBy == "" {
		t.CreatedBy = "user"
	}
	return t
}

// Get returns a conversation.
func (s *Server) Get(id int64) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.convs[id]
	if !ok {
		return Conversation{}, false
	}
	return r.c, true
}

// AddThread appends a thread (its CreatedAt defaults to now) and marks the
// conversation modified.
func (s *Server) AddThread(id int64, t Thread) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.convs[id]
	if !ok {
		return
	}
	r.threads = append(r.threads, s.newThreadLocked(t))
	s.touchLocked(r, time.Time{})
}

// Rate records a happiness rating (great, okay, not_good; or good,
// neutral, bad) given now. Ratings do not modify the conversation.
func (s *Server) Rate(id int64, rating string) {
	s.RateAt(id, rating, time.Time{})
}

// RateAt is Rate with the time of the rating.
func (s *Server) RateAt(id int64, rating string, at time.Time) {
	switch rating {
	case "good":
		rating = "great"
	case "neutral":
		rating = "okay"
	case "bad":
		rating = "not_good"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.convs[id]; ok {
		if at.IsZero() {
			at = s.now()
		}
		r.rating, r.ratedAt = rating, at
	}
}

// Delete marks a conversation deleted (it stays listed with state "deleted").
func (s *Server) Delete(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.convs[id]; ok {
		r.c.State = "deleted"
		s.touchLocked(r, time.Time{})
	}
}

// Touch marks a conversation modified without changing it.
func (s *Server) Touch(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.convs[id]; ok {
		s.touchLocked(r, time.Time{})
	}
}

// Len is the number of conversations.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.convs)
}

// InjectFault makes the next n API requests fail with f (n < 0: all;
// FaultNone clears).
func (s *Server) InjectFault(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Clear()
	switch f {
	case FaultUnknownStatus:
		s.bogusN, s.bogusSeq = n, s.seq
	case FaultExpireTokens:
		for k := range s.tokens {
			s.tokens[k] = time.Time{}
		}
	case FaultNone:
		s.bogusN = 0
	default:
		s.faults.Inject(f, n)
	}
}

// SetRatingsForbidden makes the ratings report answer 403 (a plan without reports).
func (s *Server) SetRatingsForbidden(v bool) {
	s.mu.Lock()
	s.forbidden = v
	s.mu.Unlock()
}

// SetListDelay slows every listing response down by d.
func (s *Server) SetListDelay(d time.Duration) { s.faults.SetLatency(d) }

// Requests returns the requests answered so far.
func (s *Server) Requests() []Request { return s.log.All() }

// ResetRequests forgets the requests answered so far.
func (s *Server) ResetRequests() { s.log.Reset() }

type response = fake.Response

func jsonResp(status int, v any) response {
	b, _ := json.Marshal(v)
	return response{Status: status, Header: http.Header{"Content-Type": {"application/hal+json"}}, Body: b}
}

func jsonError(status int, code string) response {
	return jsonResp(status, map[string]string{"error": code})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	at := s.now()
	if r.URL.Path == "/v2/conversations" {
		s.faults.Delay(r.Context())
	}
	s.mu.Lock()
	resp := s.handle(r, at)
	s.mu.Unlock()
	s.log.Add(Request{At: s.now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: resp.Status})
	resp.Write(w)
}

// handle answers a request; the caller holds s.mu.
func (s *Server) handle(r *http.Request, now time.Time) response {
	if r.URL.Path == "/v2/oauth2/token" {
		return s.token(r, now)
	}
	if !s.authorized(r, now) {
		return jsonError(http.StatusUnauthorized, "invalid_token")
	}
	h := http.Header{}
	if !s.opts.NoRateLimit {
		b := s.limiter.Take(now)
		h.Set("X-RateLimit-Limit-Minute", strconv.Itoa(b.Limit))
		h.Set("X-RateLimit-Remaining-Minute", strconv.Itoa(b.Remaining))
		if b.Limited {
			retry := strconv.Itoa(int(max(b.Reset.Sub(now), time.Second).Seconds()))
			h.Set("Retry-After", retry)
			h.Set("X-RateLimit-Retry-After", retry)
			return withHeader(jsonError(http.StatusTooManyRequests, "rate_limited"), h)
		}
	} else {
		h.Set("X-RateLimit-Remaining-Minute", "400")
	}
	fault := s.faults.Take()
	switch fault {
	case FaultRateLimit:
		h.Set("Retry-After", "1")
		h.Set("X-RateLimit-Retry-After", "1")
		h.Set("X-RateLimit-Remaining-Minute", "0")
		return withHeader(jsonError(http.StatusTooManyRequests, "rate_limited"), h)
	case FaultServerError:
		return withHeader(jsonError(http.StatusInternalServerError, "server_error"), h)
	}
	if r.Method != http.MethodGet {
		return jsonError(http.StatusMethodNotAllowed, "method_not_allowed")
	}
	var resp response
	path := r.URL.Path
	switch {
	case path == "/v2/conversations":
		resp = s.list(r)
	case strings.HasPrefix(path, "/v2/conversations/") && strings.HasSuffix(path, "/threads"):
		resp = s.threads(r, strings.TrimSuffix(strings.TrimPrefix(path, "/v2/conversations/"), "/threads"))
	case strings.HasPrefix(path, "/v2/conversations/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(path, "/v2/conversations/"), 10, 64)
		if rec, ok := s.convs[id]; ok {
			resp = jsonResp(http.StatusOK, s.conversationJSON(rec, false))
		} else {
			resp = jsonError(http.StatusNotFound, "not_found")
		}
	case path == "/v2/users" || path == "/v2/mailboxes":
		resp = s.directory(r)
	case path == "/v2/reports/happiness/ratings":
		if s.forbidden {
			resp = jsonError(http.StatusForbidden, "forbidden")
		} else {
			resp = s.ratings(r)
		}
	default:
		resp = jsonError(http.StatusNotFound, "not_found")
	}
	if fault == FaultTruncated && resp.Status == http.StatusOK && len(resp.Body) > 2 {
		resp.Body = resp.Body[:len(resp.Body)/2]
	}
	return withHeader(resp, h)
}

func withHeader(resp response, h http.Header) response {
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	for k, v := range h {
		resp.Header[k] = v
	}
	return resp
}

func (s *Server) token(r *http.Request, now time.Time) response {
	if r.Method != http.MethodPost {
		return jsonError(http.StatusMethodNotAllowed, "method_not_allowed")
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		return jsonError(http.StatusBadRequest, "unsupported_grant_type")
	}
	if r.PostForm.Get("client_id") != s.opts.AppID || r.PostForm.Get("client_secret") != s.opts.AppSecret {
		return jsonError(http.StatusUnauthorized, "invalid_client")
	}
	s.tokenN++
	tok := fmt.Sprintf("fake-access-%d-%d", s.tokenN, now.UnixNano())
	s.tokens[tok] = now.Add(s.opts.TokenTTL)
	return jsonResp(http.StatusOK, map[string]any{"token_type": "bearer", "access_token": tok, "expires_in": int64(s.opts.TokenTTL / time.Second)})
}

func (s *Server) authorized(r *http.Request, now time.Time) bool {
	tok, ok := fake.BearerToken(r)
	if !ok {
		return false
	}
	exp, ok := s.tokens[tok]
	return ok && now.Before(exp)
}

type hal struct {
	Embedded map[string]any `json:"_embedded"`
	Page     map[string]int `json:"page"`
	Links    map[string]any `json:"_links"`
}

func (s *Server) halPage(r *http.Request, key string, items []any) response {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	size := s.opts.PageSize
	total := (len(items) + size - 1) / size
	lo := min((page-1)*size, len(items))
	hi := min(lo+size, len(items))
	out := hal{
		Embedded: map[string]any{key: append([]any{}, items[lo:hi]...)},
		Page:     map[string]int{"size": size, "totalElements": len(items), "totalPages": total, "number": page},
		Links:    map[string]any{"self": map[string]string{"href": s.URL + r.URL.RequestURI()}},
	}
	if page < total {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		out.Links["next"] = map[string]string{"href": s.URL + r.URL.Path + "?" + q.Encode()}
	}
	return jsonResp(http.StatusOK, out)
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) conversationJSON(r *record, bogus bool) map[string]any {
	c := r.c
	status := c.Status
	if bogus {
		status = "bogus"
	}
	typ := c.Source
	if typ != "chat" && typ != "phone" {
		typ = "email"
	}
	m := map[string]any{
		"id": c.ID, "number": c.ID, "type": typ, "status": status, "state": c.State,
		"mailboxId": c.MailboxID, "threads": len(r.threads), "subject": fmt.Sprintf("Conversation %d", c.ID),
		"createdAt": ts(c.CreatedAt), "closedAt": ts(c.ClosedAt),
		"userUpdatedAt": ts(c.ModifiedAt), "modifiedAt": ts(c.ModifiedAt),
		"source": map[string]string{"type": c.Source, "via": "customer"},
	}
	if c.AssigneeID != 0 {
		// Help Scout embeds the assignee's name; the exporter reads names
		// from /v2/users like every vendor's directory.
		first, last := "", ""
		for _, a := range s.People.Agents() {
			if a.ID == c.AssigneeID {
				first, last, _ = strings.Cut(a.Name, " ")
			}
		}
		m["assignee"] = map[string]any{"id": c.AssigneeID, "type": "user", "first": first, "last": last,
			"email": fmt.Sprintf("user%d@example.invalid", c.AssigneeID)}
	}
	return m
}

// directory answers GET /v2/users and /v2/mailboxes: HAL pages of 50.
func (s *Server) directory(r *http.Request) response {
	page := 1
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return jsonError(http.StatusBadRequest, "invalid page")
		}
		page = n
	}
	const size = 50
	users := r.URL.Path == "/v2/users"
	all := s.People.Groups()
	if users {
		all = s.People.Agents()
	}
	from, to := min((page-1)*size, len(all)), min(page*size, len(all))
	items := []map[string]any{}
	for _, p := range all[from:to] {
		if users {
			first, last, _ := strings.Cut(p.Name, " ")
			items = append(items, map[string]any{"id": p.ID, "firstName": first, "lastName": last, "role": "user", "type": "user",
				"email": fmt.Sprintf("user%d@example.invalid", p.ID), "timezone": "UTC"})
		} else {
			items = append(items, map[string]any{"id": p.ID, "name": p.Name, "slug": fmt.Sprintf("mbx%d", p.ID),
				"email": fmt.Sprintf("mailbox%d@example.invalid", p.ID)})
		}
	}
	key := "mailboxes"
	if users {
		key = "users"
	}
	total := (len(all) + size - 1) / size
	links := map[string]any{"self": map[string]string{"href": s.URL + r.URL.Path + "?page=" + strconv.Itoa(page)}}
	if page < total {
		links["next"] = map[string]string{"href": s.URL + r.URL.Path + "?page=" + strconv.Itoa(page+1)}
	}
	return jsonResp(http.StatusOK, map[string]any{
		"_embedded": map[string]any{key: items},
		"page":      map[string]int{"size": size, "totalElements": len(all), "totalPages": total, "number": page},
		"_links":    links,
	})
}

func (s *Server) list(r *http.Request) response {
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("modifiedSince"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return jsonError(http.StatusBadRequest, "invalid modifiedSince")
		}
		since = t
	}
	if f := q.Get("sortField"); f != "" && f != "modifiedAt" {
		return jsonError(http.StatusBadRequest, "unsupported sortField")
	}
	var recs []*record
	for _, rec := range s.convs {
		if rec.c.State == "draft" && q.Get("status") != "all" {
			continue
		}
		if !rec.c.ModifiedAt.Truncate(time.Second).Before(since) {
			recs = append(recs, rec)
		}
	}
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i].c.ModifiedAt.Truncate(time.Second), recs[j].c.ModifiedAt.Truncate(time.Second)
		if !a.Equal(b) {
			return a.Before(b)
		}
		return recs[i].seq < recs[j].seq
	})
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	last := min(page*s.opts.PageSize, len(recs)) - 1
	items := make([]any, len(recs))
	for i, rec := range recs {
		bogus := i == last && s.bogusN > 0 && rec.seq > s.bogusSeq
		if bogus {
			s.bogusN--
		}
		items[i] = s.conversationJSON(rec, bogus)
	}
	return s.halPage(r, "conversations", items)
}

func (s *Server) threads(r *http.Request, idText string) response {
	id, _ := strconv.ParseInt(idText, 10, 64)
	rec, ok := s.convs[id]
	if !ok {
		return jsonError(http.StatusNotFound, "not_found")
	}
	items := make([]any, 0, len(rec.threads))
	for i := len(rec.threads) - 1; i >= 0; i-- { // newest first, as Help Scout lists them
		t := rec.threads[i]
		items = append(items, map[string]any{
			"id": t.ID, "type": t.Type, "status": "active", "state": "published",
			"createdAt": ts(t.CreatedAt), "createdBy": map[string]any{"id": 1, "type": t.CreatedBy},
		})
	}
	return s.halPage(r, "threads", items)
}

var ratingIDs = map[string]int{"great": 1, "okay": 2, "not_good": 3}

func (s *Server) ratings(r *http.Request) response {
	q := r.URL.Query()
	start, err1 := time.Parse(time.RFC3339, q.Get("start"))
	end, err2 := time.Parse(time.RFC3339, q.Get("end"))
	if err1 != nil || err2 != nil {
		return jsonError(http.StatusBadRequest, "start and end are required")
	}
	var recs []*record
	for _, rec := range s.convs {
		at := rec.ratedAt.Truncate(time.Second)
		if rec.rating != "" && !at.Before(start) && !at.After(end) {
			recs = append(recs, rec)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].c.ID < recs[j].c.ID })
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	size := s.opts.PageSize
	pages := max((len(recs)+size-1)/size, 1)
	lo := min((page-1)*size, len(recs))
	hi := min(lo+size, len(recs))
	results := []map[string]any{}
	for _, rec := range recs[lo:hi] {
		results = append(results, map[string]any{
			"id": rec.c.ID, "number": rec.c.ID, "type": "email", "threadid": 1,
			"ratingId": ratingIDs[rec.rating], "ratingCreatedAt": ts(rec.ratedAt),
			"ratingComments": "", "ratingCustomerName": "Customer",
		})
	}
	return jsonResp(http.StatusOK, map[string]any{"results": results, "page": page, "pages": pages, "count": len(recs)})
}
