// Package udesk is a fake Udesk Open API v2 account for tests and demo
// mode: the work-order list (GET /open_api_v1/tickets, page and per_page
// up to 100, meta paging with current_page, total_pages and total_count,
// updated_since, oldest change first), every request signed
// (email, timestamp, nonce, sign_version=v2, sign =
// SHA256(email&token&timestamp&nonce&v2)) with each nonce accepted once
// within 15 minutes, a per-minute request limit (60 by default) answered
// with HTTP 429 and Udesk's {code, message} body, and the shared fault
// switch.
//
// Where Udesk's public reference is silent (the filter that lists the
// work orders changed since a time, the names of the reply, resolution
// and satisfaction fields, the error codes), the fake follows the
// assumptions stated in docs/vendors.md, and the collector reads what the
// fake serves.
package udesk

import (
	"crypto/sha256"
	"encoding/hex"
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

// ListPath is the work-order list, below the base URL.
const ListPath = "/open_api_v1/tickets"

// Udesk's result codes: the body's "code" (1000 is success). The error
// codes are the fake's; docs/vendors.md says so.
const (
	CodeOK           = 1000
	CodeBadSignature = 2001 // sign, email or sign_version wrong or missing
	CodeBadTimestamp = 2002 // timestamp missing or more than 15 minutes off
	CodeNonceReused  = 2003 // nonce missing or already used within 15 minutes
	CodeRateLimited  = 2004 // over the requests-per-minute limit
	CodeBadParameter = 2005
	CodeServerError  = 5000
)

// NonceWindow is how long a nonce stays used, and how far a timestamp may
// be from the server's clock.
const NonceWindow = 15 * time.Minute

// Options configure a Server. The zero value is an open server (no
// signature checked) with Udesk's limits.
type Options struct {
	// Email and Token, when set, are the administrator's email and the
	// open_api_token every request is signed with.
	Email, Token string
	// PageSize caps per_page below the API's 100 (0: 100).
	PageSize int
	// RateLimit is the per-minute request budget (0: 60, Udesk's default).
	RateLimit int
	// NoRateLimit never answers 429 for the budget.
	NoRateLimit bool
	// Latency delays every answer.
	Latency time.Duration
	// Now is the server's clock (default time.Now).
	Now func() time.Time
}

// Satisfaction is a work order's satisfaction survey result: Score on
// Udesk's five-point scale (1 very dissatisfied … 5 very satisfied).
type Satisfaction struct {
	Score     int
	CreatedAt time.Time
}

// Ticket is a stored work order in Udesk's codes: StatusID 1 open,
// 2 resolved, 3 closed, 4 solving; PriorityID 1 urgent, 2 high, 3 medium,
// 4 low (0 is null); Platform one of email, weibo, wechat, im, call,
// feedback, hc, manual_input, api. Zero times are null.
type Ticket struct {
	ID           int64
	Subject      string
	StatusID     int
	PriorityID   int
	Platform     string
	GroupID      int64 // user_group_id, 0 is null
	AssigneeID   int64 // assignee_id (the agent, 客服), 0 is null
	CreatedAt    time.Time
	UpdatedAt    time.Time // set to the server's clock by Put when zero
	FirstReplyAt time.Time
	ResolvedAt   time.Time
	ClosedAt     time.Time
	Satisfaction *Satisfaction
}

// Fault is a failure the server can be told to produce: Fault429 answers
// 429 with code 2004 (Udesk sends no Retry-After, so neither does the
// fake), Fault500 a 500 with code 5000, FaultTruncated 200 with the body
// cut in half, FaultUnknownStatus serves the page's first work order with
// status_id 99.
type Fault = fake.Fault

// The injectable faults.
const (
	FaultNone, Fault429, Fault500      = fake.FaultNone, fake.Fault429, fake.Fault500
	FaultTruncated, FaultUnknownStatus = fake.FaultTruncated, fake.FaultUnknownStatus
)

// Request is one request the server received (never its signature).
type Request struct {
	At     time.Time
	Path   string
	Page   int
	Status int
	Code   int // the body's code
}

// Server is a running fake Udesk account, safe for concurrent use.
type Server struct {
	// URL is the base URL (http://127.0.0.1:port), without /open_api_v1.
	URL  string
	opts Options
	hs   *httptest.Server

	mu      sync.Mutex
	tickets map[int64]*Ticket
	nonces  map[string]time.Time

	faults  fake.Faults
	log     fake.RequestLog[Request]
	hooks   fake.WebhookSender // off until SendWebhooks
	limiter *fake.RateLimiter

	// People is the account's agents and user groups, listed by
	// AgentsPath and UserGroupsPath.
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
	if o.RateLimit <= 0 {
		o.RateLimit = 60
	}
	s := &Server{opts: o, tickets: map[int64]*Ticket{}, nonces: map[string]time.Time{},
		limiter: &fake.RateLimiter{Limit: o.RateLimit, Window: time.Minute, Off: o.NoRateLimit}}
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

// Put stores a work order (a new one or a new version); a zero UpdatedAt
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
	if t.Satisfaction != nil {
		sat := *t.Satisfaction
		t.Satisfaction = &sat
	}
	s.tickets[t.ID] = &t
	s.notifyLocked(t.ID)
}

// Get returns a stored work order.
func (s *Server) Get(id int64) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	return *t, true
}

// Touch bumps a work order's updated_at without changing it.
func (s *Server) Touch(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tickets[id]; ok {
		t.UpdatedAt = s.now()
		s.notifyLocked(id)
	}
}

// Rate records a satisfaction survey result now (score 1-5).
func (s *Server) Rate(id int64, score int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tickets[id]; ok {
		t.Satisfaction = &Satisfaction{Score: score, CreatedAt: s.now()}
		t.UpdatedAt = s.now()
		s.notifyLocked(id)
	}
}

// Len is the number of stored work orders.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tickets)
}

// InjectFault makes the next n requests fail with f (n < 0: all).
func (s *Server) InjectFault(f Fault, n int) { s.faults.Inject(f, n) }

// SetLatency changes Options.Latency.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// Requests returns the requests received so far.
func (s *Server) Requests() []Request { return s.log.All() }

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() { s.log.Reset() }

// Sign is Udesk's v2 signature: hex SHA-256 of email&token&timestamp&nonce&v2.
func Sign(email, token, timestamp, nonce string) string {
	sum := sha256.Sum256([]byte(email + "&" + token + "&" + timestamp + "&" + nonce + "&v2"))
	return hex.EncodeToString(sum[:])
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	e := s.log.Add(Request{At: s.opts.Now(), Path: r.URL.Path, Page: page})
	sw := &fake.StatusWriter{ResponseWriter: w}
	code := s.handle(sw, r)
	s.log.Update(e, func(rec *Request) { rec.Status, rec.Code = sw.Status, code })
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status, code int, message string) int {
	writeJSON(w, status, map[string]any{"code": code, "message": message})
	return code
}

// checkSignature verifies the request's signature and spends its nonce.
func (s *Server) checkSignature(q url.Values) (status, code int, msg string) {
	if s.opts.Email == "" && s.opts.Token == "" {
		return 0, 0, ""
	}
	email, ts, nonce, sign := q.Get("email"), q.Get("timestamp"), q.Get("nonce"), q.Get("sign")
	if q.Get("sign_version") != "v2" || email != s.opts.Email || sign == "" {
		return http.StatusUnauthorized, CodeBadSignature, "签名验证失败 (signature verification failed)"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	now := s.opts.Now()
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > NonceWindow {
		return http.StatusUnauthorized, CodeBadTimestamp, "时间戳无效 (timestamp expired or invalid)"
	}
	if sign != Sign(email, s.opts.Token, ts, nonce) {
		return http.StatusUnauthorized, CodeBadSignature, "签名验证失败 (signature verification failed)"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, at := range s.nonces {
		if now.Sub(at) > NonceWindow {
			delete(s.nonces, n)
		}
	}
	if _, used := s.nonces[nonce]; used || nonce == "" {
		return http.StatusUnauthorized, CodeNonceReused, "nonce已被使用 (nonce already used within 15 minutes)"
	}
	s.nonces[nonce] = now
	return 0, 0, ""
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	if status, code, msg := s.checkSignature(q); status != 0 {
		return fail(w, status, code, msg)
	}
	if r.Method == http.MethodGet && (r.URL.Path == AgentsPath || r.URL.Path == UserGroupsPath) {
		if s.limiter.Take(s.opts.Now()).Limited {
			return fail(w, http.StatusTooManyRequests, CodeRateLimited, "请求过于频繁 (over 60 requests per minute)")
		}
		return s.directory(w, q, r.URL.Path == AgentsPath)
	}
	if r.Method != http.MethodGet || r.URL.Path != ListPath {
		return fail(w, http.StatusNotFound, CodeBadParameter, "接口不存在 (no such endpoint)")
	}
	s.faults.Delay(r.Context())
	b := s.limiter.Take(s.opts.Now())
	fault := FaultNone
	if !b.Limited {
		fault = s.faults.Take()
	}
	switch fault {
	case Fault429:
		return fail(w, http.StatusTooManyRequests, CodeRateLimited, "请求过于频繁 (over 60 requests per minute)")
	case Fault500:
		return fail(w, http.StatusInternalServerError, CodeServerError, "服务器内部错误 (internal server error)")
	}
	if b.Limited {
		return fail(w, http.StatusTooManyRequests, CodeRateLimited, "请求过于频繁 (over 60 requests per minute)")
	}
	page, perPage := 1, 20
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fail(w, http.StatusBadRequest, CodeBadParameter, "page 参数错误")
		}
		page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return fail(w, http.StatusBadRequest, CodeBadParameter, "per_page 参数错误 (1-100)")
		}
		perPage = n
	}
	perPage = min(perPage, s.opts.PageSize)
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fail(w, http.StatusBadRequest, CodeBadParameter, "updated_since 参数错误")
		}
		since = t
	}
	items := s.list(since)
	total := len(items)
	pages := max((total+perPage-1)/perPage, 1)
	from := min((page-1)*perPage, total)
	to := min(from+perPage, total)
	out := items[from:to]
	if fault == FaultUnknownStatus && len(out) > 0 {
		out[0]["status_id"] = 99
	}
	body := map[string]any{"code": CodeOK, "message": "success", "tickets": out,
		"meta": map[string]int{"current_page": page, "total_pages": pages, "total_count": total}}
	if fault == FaultTruncated {
		raw, _ := json.Marshal(body)
		raw = raw[:len(raw)/2]
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(raw)
		return CodeOK
	}
	writeJSON(w, http.StatusOK, body)
	return CodeOK
}

// The directory endpoints the fake serves (assumed: see docs/vendors.md):
// agents (客服) and user groups (客服组), paged like work orders.
const (
	AgentsPath     = "/open_api_v1/agents"
	UserGroupsPath = "/open_api_v1/user_groups"
)

// directory answers the agents and user-group lists:
// {"code": 1000, "agents"|"user_groups": [...], "meta": {...}}.
func (s *Server) directory(w http.ResponseWriter, q url.Values, agents bool) int {
	page, perPage := 1, 20
	if v := q.Get("page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 {
			page = n
		}
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return fail(w, http.StatusBadRequest, CodeBadParameter, "per_page 参数错误 (1-100)")
		}
		perPage = n
	}
	all := s.People.Groups()
	if agents {
		all = s.People.Agents()
	}
	from, to := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
	items := []map[string]any{}
	for _, p := range all[from:to] {
		if agents {
			items = append(items, map[string]any{"id": p.ID, "nick_name": p.Name, "email": fmt.Sprintf("agent%d@example.invalid", p.ID),
				"user_group_ids": []int64{p.Group}})
		} else {
			items = append(items, map[string]any{"id": p.ID, "name": p.Name})
		}
	}
	key := "user_groups"
	if agents {
		key = "agents"
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": CodeOK, "message": "success", key: items,
		"meta": map[string]int{"current_page": page, "total_pages": max((len(all)+perPage-1)/perPage, 1), "total_count": len(all)}})
	return CodeOK
}

// beijing is the zone Udesk's times are written in.
var beijing = time.FixedZone("CST", 8*3600)

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(beijing).Format("2006-01-02T15:04:05.000-07:00")
}

var statusNames = map[int][2]string{1: {"开启", "open"}, 2: {"已解决", "resolved"}, 3: {"已关闭", "closed"}, 4: {"解决中", "solving"}}
var priorityNames = map[int]string{1: "紧急", 2: "高", 3: "标准", 4: "低"}

// list returns the work orders updated at or after since, oldest change
// first (ties by id).
func (s *Server) list(since time.Time) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ts []*Ticket
	for _, t := range s.tickets {
		if !t.UpdatedAt.Before(since) {
			ts = append(ts, t)
		}
	}
	slices.SortFunc(ts, func(a, b *Ticket) int {
		if c := a.UpdatedAt.Compare(b.UpdatedAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	out := make([]map[string]any, 0, len(ts))
	for _, t := range ts {
		out = append(out, ticketJSON(t))
	}
	return out
}

func ticketJSON(t *Ticket) map[string]any {
	m := map[string]any{
		"id": t.ID, "field_num": "T" + strconv.FormatInt(t.ID, 10), "subject": t.Subject,
		"status_id": t.StatusID, "status": statusNames[t.StatusID][0], "status_en": statusNames[t.StatusID][1],
		"priority_id": nil, "priority": nil, "platform_name": t.Platform, "user_group_id": nil,
		"created_at": ts(t.CreatedAt), "updated_at": ts(t.UpdatedAt),
		"first_reply_at": ts(t.FirstReplyAt), "resolved_at": ts(t.ResolvedAt), "closed_at": ts(t.ClosedAt),
		"satisfaction": nil,
	}
	if t.PriorityID != 0 {
		m["priority_id"], m["priority"] = t.PriorityID, priorityNames[t.PriorityID]
	}
	if t.GroupID != 0 {
		m["user_group_id"] = t.GroupID
	}
	m["assignee_id"] = nil
	if t.AssigneeID != 0 {
		m["assignee_id"] = t.AssigneeID
	}
	if sat := t.Satisfaction; sat != nil {
		m["satisfaction"] = map[string]any{"score": sat.Score, "created_at": ts(sat.CreatedAt)}
	}
	return m
}
