// Package zendesk is a fake of the parts of Zendesk Support's REST API the
// exporter reads: the cursor-based incremental ticket export
// (GET /api/v2/incremental/tickets/cursor.json) with side-loaded metric sets,
// and the time-based incremental ticket event export
// (GET /api/v2/incremental/ticket_events.json, for `cx-exporter backfill`),
// which shares the export's per-minute request budget.
//
// The fake follows Zendesk's documented behaviour where it matters to a
// collector: Basic "email/token" and Bearer authentication, the
// "start_time must be at least a minute old" rule, records changed in the
// last Options.Lag left out of the export, opaque after_cursor values that
// stay valid forever, end_of_stream, per_page up to 1000, exclude_deleted,
// the per-minute request budget of the incremental endpoints with
// X-Rate-Limit headers and 429 + Retry-After, and JSON with Zendesk's field
// names and nulls. Tests script the account (Put, Delete, Touch) and switch on
// faults (InjectFault); the demo mode runs Simulate to keep the account
// changing.
//
// The export lists records in the order of their last change, which is
// generated_timestamp order as long as the clock does not go backwards.
// Within one second the order is that of the changes rather than of ids, so
// that a ticket changed again always lands after every cursor already handed
// out: paging never skips or repeats a record, and a changed ticket comes back
// once at the next poll.
//
// Only the standard library is used; the server is built on net/http/httptest.
package zendesk

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// ExportPath is the path of the cursor-based incremental ticket export. The
// same path without the ".json" suffix is served too.
const ExportPath = "/api/v2/incremental/tickets/cursor.json"

const (
	defaultPageSize   = 1000
	maxPageSize       = 1000
	defaultRateLimit  = 10
	minStartTimeAge   = time.Minute
	rateLimitWindow   = time.Minute
	defaultRetryAfter = 2
	// accountRateLimit is the account's per-minute budget of the other
	// endpoints (Zendesk's Professional plan: 400; Enterprise 700).
	accountRateLimit = 700
)

// Options configures a Server. The zero value is an open server (no
// credentials required) on 127.0.0.1 with Zendesk's page size and rate limit
// and no export lag.
type Options struct {
	// Email and APIToken, when both set, make the server accept Basic
	// authentication with user "Email/token" and password APIToken.
	Email, APIToken string
	// OAuthToken, when set, makes the server accept
	// "Authorization: Bearer OAuthToken".
	OAuthToken string
	// PageSize is the default per_page (0 means Zendesk's 1000). A request's
	// per_page overrides it; both are capped at 1000.
	PageSize int
	// Lag leaves out of the export the records whose generated_timestamp is
	// newer than Now()-Lag; they are served by a later request. Zendesk's lag
	// is one minute: pass time.Minute for that behaviour. Zero means no lag.
	Lag time.Duration
	// Now is the server's clock (default time.Now). It drives
	// generated_timestamp, the start_time check, Lag and the rate-limit
	// window.
	Now func() time.Time
	// Addr is the listen address; "" means 127.0.0.1 on a free port.
	Addr string
	// RateLimit is the per-minute request budget of the export endpoint
	// (0 means Zendesk's 10).
	RateLimit int
	// NoRateLimit turns enforcement off: the X-Rate-Limit headers are still
	// sent, but an exhausted budget does not answer 429.
	NoRateLimit bool
}

// Fault is a failure the server can be told to produce on export requests
// (see InjectFault):
//   - Fault429 answers 429 Too Many Requests with Retry-After (see
//     SetRetryAfter) and a plain-text body, as Zendesk does;
//   - Fault500 answers 500 with a JSON error body;
//   - FaultSlow waits SlowDelay (see SetSlowDelay) and then answers normally;
//   - FaultTruncated answers 200 with the normal body cut in half (invalid
//     JSON; Content-Length matches what is sent);
//   - FaultUnknownStatus serves the page normally except that the first
//     ticket's status is "escalated", a value Zendesk never sends;
//   - FaultDown closes the connection without answering. Note that Go's
//     http.Transport transparently retries an idempotent request once when
//     a reused keep-alive connection is closed without a response, so a
//     single FaultDown may be invisible to a client with keep-alives; use
//     n < 0 or a client without keep-alives to observe it.
type Fault = fake.Fault

// The injectable faults; FaultNone serves requests normally.
const (
	FaultNone, Fault429, Fault500, FaultSlow      = fake.FaultNone, fake.Fault429, fake.Fault500, fake.FaultSlow
	FaultTruncated, FaultUnknownStatus, FaultDown = fake.FaultTruncated, fake.FaultUnknownStatus, fake.FaultDown
)

// Request is one request the server received.
type Request struct {
	// At is the server clock (Options.Now) when the request arrived.
	At time.Time
	// Path is the URL path; Query the raw query string. Headers, and so
	// credentials, are never recorded.
	Path, Query string
	// Status is the HTTP status answered; 0 when the connection was closed
	// without an answer (FaultDown) or the answer is still being written.
	Status int
}

// record is a stored ticket and its position in the export.
type record struct {
	t   Ticket
	gts int64  // generated_timestamp, unix seconds
	seq uint64 // order of the last change; the export order
}

// Server is a running fake Zendesk account. All methods are safe for
// concurrent use.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:1234, without a trailing
	// slash.
	URL string

	ts      *httptest.Server
	opts    Options
	closing chan struct{}
	once    sync.Once

	mu      sync.Mutex
	tickets map[int64]*record
	seq     uint64
	lastID  int64
	inst    uint32 // tags this server's cursors
	// audits is the ticket event log in timestamp order (CreateTicket,
	// UpdateTicket); eventSeq numbers audits and their child events.
	audits   []audit
	eventSeq int64

	slowDelay time.Duration

	faults  fake.Faults
	log     fake.RequestLog[Request]
	limiter *fake.RateLimiter
	// account is the account-wide budget of the other endpoints
	// (show_many), separate from the export's.
	account *fake.RateLimiter
	auth    fake.Auth

	// People is the account's agents and groups, listed by the directory
	// endpoints (see directory.go).
	fake.People
	hooks fake.WebhookSender // off until SendWebhooks
}

// NewServer starts a fake Zendesk account. It panics if Options.Addr cannot
// be listened on.
func NewServer(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PageSize <= 0 {
		o.PageSize = defaultPageSize
	}
	o.PageSize = min(o.PageSize, maxPageSize)
	if o.RateLimit <= 0 {
		o.RateLimit = defaultRateLimit
	}
	s := &Server{
		opts:      o,
		closing:   make(chan struct{}),
		tickets:   make(map[int64]*record),
		slowDelay: 5 * time.Second,
		inst:      uint32(time.Now().UnixNano()>>10) ^ instances.Add(0x9e3779b9),
		limiter:   &fake.RateLimiter{Limit: o.RateLimit, Window: rateLimitWindow, Off: o.NoRateLimit},
		account:   &fake.RateLimiter{Limit: accountRateLimit, Window: rateLimitWindow, Off: o.NoRateLimit},
		auth:      fake.Auth{Token: o.OAuthToken},
	}
	if o.Email != "" && o.APIToken != "" {
		s.auth.User, s.auth.Password = o.Email+"/token", o.APIToken
	}
	s.faults.SetRetryAfter(defaultRetryAfter)
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if o.Addr != "" {
		ln, err := net.Listen("tcp", o.Addr)
		if err != nil {
			panic(fmt.Sprintf("fake zendesk: listen on %s: %v", o.Addr, err))
		}
		s.ts.Listener.Close()
		s.ts.Listener = ln
	}
	// Set before Start: handlers read it, and nothing orders a write after
	// Start with the serving goroutines.
	s.URL = "http://" + s.ts.Listener.Addr().String()
	s.ts.Start()
	return s
}

// Close shuts the server down. Requests held by FaultSlow are released.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	s.ts.Close()
	s.hooks.CloseWebhooks()
}

func (s *Server) now() time.Time { return s.opts.Now() }

// ---------------------------------------------------------------------------
// Scripting API

// Put inserts or replaces a ticket and bumps its generated_timestamp to
// Now(), so the ticket comes (back) in the export after every record already
// served. A zero UpdatedAt is set to Now(), a zero CreatedAt to UpdatedAt. A
// ticket with ID <= 0 gets a fresh id (use NextID to pick one you can refer
// to).
func (s *Server) Put(t Ticket) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = now
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = t.UpdatedAt
	}
	if t.ID <= 0 {
		s.lastID++
		t.ID = s.lastID
	}
	s.storeLocked(t.clone(), now.Unix())
}

// storeLocked stores t as the newest change with generated_timestamp gts.
func (s *Server) storeLocked(t Ticket, gts int64) {
	if t.ID > s.lastID {
		s.lastID = t.ID
	}
	s.seq++
	_, known := s.tickets[t.ID]
	s.tickets[t.ID] = &record{t: t, gts: gts, seq: s.seq}
	s.notifyLocked(&t, !known)
}

// Get returns a copy of the stored ticket.
func (s *Server) Get(id int64) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	return r.t.clone(), true
}

// Delete soft-deletes a ticket as Zendesk does: its status becomes "deleted",
// updated_at and generated_timestamp are bumped, and it keeps being exported
// (unless the request says exclude_deleted=true). Unknown ids are ignored.
func (s *Server) Delete(id int64) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.tickets[id]; ok {
		t := r.t
		t.Status, t.UpdatedAt = "deleted", now
		s.storeLocked(t, now.Unix())
	}
}

// Touch bumps a ticket's generated_timestamp without changing it, like a
// Zendesk system update: the same ticket comes back in the export with an
// unchanged updated_at. Unknown ids are ignored.
func (s *Server) Touch(id int64) { s.modify(id, func(*Ticket) bool { return true }) }

// modify applies fn to a copy of the stored ticket and stores the result as a
// new change, atomically. It reports whether the ticket exists and fn returned
// true (false leaves the ticket untouched).
func (s *Server) modify(id int64, fn func(t *Ticket) bool) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.tickets[id]
	if !ok {
		return false
	}
	t := r.t.clone()
	if !fn(&t) {
		return false
	}
	s.storeLocked(t, now.Unix())
	return true
}

// Len returns the number of stored tickets, deleted ones included.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tickets)
}

// NextID reserves and returns an id no stored ticket has and no earlier
// NextID call returned.
func (s *Server) NextID() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastID++
	return s.lastID
}

// InjectFault makes the next n export requests fail with f (n < 0: every
// request until ClearFaults; n == 0 or FaultNone clears). It replaces any
// fault already injected. Faults apply after authentication and rate
// limiting, to requests on the export path.
func (s *Server) InjectFault(f Fault, n int) { s.faults.Inject(f, n) }

// ClearFaults stops injecting faults.
func (s *Server) ClearFaults() { s.faults.Clear() }

// SetRetryAfter sets the Retry-After seconds sent with Fault429 (default 2).
func (s *Server) SetRetryAfter(sec int) { s.faults.SetRetryAfter(sec) }

// SetSlowDelay sets how long FaultSlow holds a request (default 5s, measured
// on the real clock, not Options.Now).
func (s *Server) SetSlowDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slowDelay = d
}

// Requests returns the requests received so far, in arrival order.
func (s *Server) Requests() []Request { return s.log.All() }

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() { s.log.Reset() }

// ---------------------------------------------------------------------------
// HTTP

// response is an answer before it is written (so faults can alter it).
type response = fake.Response

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	e := s.log.Add(Request{At: now, Path: r.URL.Path, Query: r.URL.RawQuery})
	status := s.handle(w, r, now)
	s.log.Update(e, func(rec *Request) { rec.Status = status })
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, now time.Time) int {
	if r.URL.Path == ShowManyPath || r.URL.Path == strings.TrimSuffix(ShowManyPath, ".json") {
		return s.handleShowMany(w, r, now)
	}
	if isDirectory(r.URL.Path) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return write(w, jsonError(http.StatusMethodNotAllowed, "InvalidEndpoint", "Only GET is allowed on this endpoint"))
		}
		if !s.auth.Allows(r) {
			return write(w, response{Status: http.StatusUnauthorized, Header: jsonHeader(), Body: []byte(`{"error":"Couldn't authenticate you"}`)})
		}
		return write(w, s.directory(r, now))
	}
	isEvents := r.URL.Path == EventsPath || r.URL.Path == strings.TrimSuffix(EventsPath, ".json")
	if r.URL.Path != ExportPath && r.URL.Path != strings.TrimSuffix(ExportPath, ".json") && !isEvents {
		return write(w, jsonError(http.StatusNotFound, "InvalidEndpoint", "Not found"))
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		resp := jsonError(http.StatusMethodNotAllowed, "InvalidEndpoint", "Only GET is allowed on this endpoint")
		resp.Header.Set("Allow", "GET, HEAD")
		return write(w, resp)
	}
	if !s.auth.Allows(r) {
		resp := response{
			Status: http.StatusUnauthorized,
			Header: jsonHeader(),
			Body:   []byte(`{"error":"Couldn't authenticate you"}`),
		}
		resp.Header.Set("WWW-Authenticate", `Basic realm="Web Password"`)
		s.rateHeaders(resp.Header, now, false)
		return write(w, resp)
	}
	if limited, retry := s.rateHeaders(w.Header(), now, true); limited {
		resp := response{
			Status: http.StatusTooManyRequests,
			Header: textHeader(),
			Body:   []byte("Number of allowed incremental export API requests per minute exceeded\n"),
		}
		resp.Header.Set("Retry-After", strconv.Itoa(retry))
		return write(w, resp)
	}

	fault := s.faults.Take()
	s.mu.Lock()
	slow := s.slowDelay
	s.mu.Unlock()
	switch fault {
	case Fault429:
		resp := response{
			Status: http.StatusTooManyRequests,
			Header: textHeader(),
			Body:   []byte("Number of allowed incremental export API requests per minute exceeded\n"),
		}
		resp.Header.Set("Retry-After", strconv.Itoa(s.faults.RetryAfter()))
		return write(w, resp)
	case Fault500:
		return write(w, jsonError(http.StatusInternalServerError, "InternalError", "Something went wrong, please try again"))
	case FaultDown:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return 0
	case FaultSlow:
		t := time.NewTimer(slow)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return 0
		case <-s.closing:
			t.Stop()
			return 0
		}
	}

	var resp response
	if isEvents {
		resp = s.events(r, now)
	} else {
		resp = s.export(r, now, fault == FaultUnknownStatus)
	}
	if fault == FaultTruncated {
		resp.Body = resp.Body[:len(resp.Body)/2]
	}
	return write(w, resp)
}

// handleShowMany serves show_many under the account's rate limit.
func (s *Server) handleShowMany(w http.ResponseWriter, r *http.Request, now time.Time) int {
	if r.Method != http.MethodGet {
		return write(w, jsonError(http.StatusMethodNotAllowed, "InvalidEndpoint", "Only GET is allowed on this endpoint"))
	}
	if !s.auth.Allows(r) {
		return write(w, response{Status: http.StatusUnauthorized, Header: jsonHeader(), Body: []byte(`{"error":"Couldn't authenticate you"}`)})
	}
	b := s.account.Take(now)
	w.Header().Set("X-Rate-Limit", strconv.Itoa(b.Limit))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(b.Remaining))
	if b.Limited {
		resp := response{Status: http.StatusTooManyRequests, Header: textHeader(), Body: []byte("Rate limit exceeded\n")}
		resp.Header.Set("Retry-After", strconv.Itoa(b.RetryAfter(now)))
		return write(w, resp)
	}
	return write(w, s.showMany(r))
}

// write sends resp and returns its status.
func write(w http.ResponseWriter, resp response) int { return resp.Write(w) }

func jsonHeader() http.Header {
	h := make(http.Header)
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Zendesk-API-Version", "v2")
	return h
}

func textHeader() http.Header {
	h := make(http.Header)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Zendesk-API-Version", "v2")
	return h
}

// jsonError is an error answer shaped like Zendesk's.
func jsonError(status int, code, description string) response {
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"description"`
	}{code, description})
	return response{Status: status, Header: jsonHeader(), Body: body}
}

// rateHeaders sets X-Rate-Limit and X-Rate-Limit-Remaining. With consume it
// counts the request against the current one-minute window and reports
// whether the request must be refused, with the seconds until the window
// resets.
func (s *Server) rateHeaders(h http.Header, now time.Time, consume bool) (limited bool, retryAfter int) {
	b := s.limiter.Peek(now)
	if consume {
		b = s.limiter.Take(now)
	}
	h.Set("X-Rate-Limit", strconv.Itoa(b.Limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(b.Remaining))
	if b.Limited {
		return true, b.RetryAfter(now)
	}
	return false, 0
}

// ---------------------------------------------------------------------------
// Export

// instances distinguishes the cursors of servers in one process.
var instances atomic.Uint32

// position is a point in the export stream: after the change seq, and only
// records with generated_timestamp >= floor (the first request's start_time).
// inst is the server the position belongs to: cursors of another server
// (e.g. a demo restarted) are rejected as Zendesk rejects a foreign cursor.
type position struct {
	gts   int64 // generated_timestamp of the record at seq (informative)
	seq   uint64
	floor int64
	inst  uint32
}

// encodeCursor renders an opaque cursor.
func encodeCursor(p position) string {
	raw := fmt.Sprintf("%d.0||%d|%d|%x", p.gts, p.seq, p.floor, p.inst)
	return base64.StdEncoding.EncodeToString([]byte(raw))
}

// decodeCursor parses a cursor made by encodeCursor.
func decodeCursor(c string) (position, bool) {
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(c); err == nil {
			break
		}
	}
	if err != nil {
		return position{}, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 5 || parts[1] != "" || !strings.HasSuffix(parts[0], ".0") {
		return position{}, false
	}
	gts, err1 := strconv.ParseInt(strings.TrimSuffix(parts[0], ".0"), 10, 64)
	seq, err2 := strconv.ParseUint(parts[2], 10, 64)
	floor, err3 := strconv.ParseInt(parts[3], 10, 64)
	inst, err4 := strconv.ParseUint(parts[4], 16, 32)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || floor < 0 {
		return position{}, false
	}
	return position{gts: gts, seq: seq, floor: floor, inst: uint32(inst)}, true
}

// exportPage is the JSON body of an export answer.
type exportPage struct {
	Tickets      []ticketJSON     `json:"tickets"`
	MetricSets   *[]metricSetJSON `json:"metric_sets,omitempty"` // only with include=metric_sets
	AfterURL     *string          `json:"after_url"`
	AfterCursor  *string          `json:"after_cursor"`
	BeforeURL    *string          `json:"before_url"`
	BeforeCursor *string          `json:"before_cursor"`
	EndOfStream  bool             `json:"end_of_stream"`
}

// export answers an export request.
func (s *Server) export(r *http.Request, now time.Time, unknownStatus bool) response {
	q := r.URL.Query()
	startStr, cursorStr := q.Get("start_time"), q.Get("cursor")
	hasStart, hasCursor := q.Has("start_time"), q.Has("cursor")

	perPage := s.opts.PageSize
	if q.Has("per_page") {
		n, err := strconv.Atoi(q.Get("per_page"))
		if err != nil || n < 1 {
			return jsonError(http.StatusBadRequest, "InvalidValue", "per_page must be a positive integer")
		}
		perPage = min(n, maxPageSize)
	}
	withMetrics := false
	for _, inc := range strings.Split(q.Get("include"), ",") {
		if strings.TrimSpace(inc) == "metric_sets" {
			withMetrics = true
		}
	}
	excludeDeleted := q.Get("exclude_deleted") == "true" || q.Get("exclude_deleted") == "1"

	var start position
	switch {
	case hasStart && hasCursor:
		return jsonError(http.StatusBadRequest, "InvalidValue", "Send either start_time (first request) or cursor (later requests), not both")
	case hasCursor:
		p, ok := decodeCursor(cursorStr)
		s.mu.Lock()
		maxSeq := s.seq
		s.mu.Unlock()
		if !ok || p.seq > maxSeq || p.inst != s.inst {
			return jsonError(http.StatusBadRequest, "InvalidValue", "Invalid cursor")
		}
		start = p
	case hasStart:
		st, err := strconv.ParseInt(startStr, 10, 64)
		if err != nil || st < 0 {
			return jsonError(http.StatusBadRequest, "InvalidValue", "start_time must be a unix epoch time in seconds")
		}
		if st > now.Add(-minStartTimeAge).Unix() {
			return jsonError(http.StatusBadRequest, "InvalidValue", "Too recent start_time. Use a start_time older than 1 minute")
		}
		start = position{gts: st, seq: 0, floor: st, inst: s.inst}
	default:
		return jsonError(http.StatusBadRequest, "InvalidValue", "start_time or cursor is required")
	}

	cutoff := now.Add(-s.opts.Lag)

	s.mu.Lock()
	var cands []*record
	for _, rec := range s.tickets {
		if rec.seq > start.seq && rec.gts >= start.floor {
			cands = append(cands, rec)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].seq < cands[j].seq })
	last := start
	var out []record
	more := false
	for _, rec := range cands {
		if time.Unix(rec.gts, 0).After(cutoff) {
			break // too fresh: this and every later change come at a later request
		}
		if excludeDeleted && rec.t.Status == "deleted" {
			if len(out) < perPage {
				last = position{gts: rec.gts, seq: rec.seq, floor: start.floor, inst: s.inst}
			}
			continue
		}
		if len(out) == perPage {
			more = true
			break
		}
		out = append(out, record{t: rec.t.clone(), gts: rec.gts, seq: rec.seq})
		last = position{gts: rec.gts, seq: rec.seq, floor: start.floor, inst: s.inst}
	}
	s.mu.Unlock()

	base := s.URL
	if r.Host != "" {
		base = "http://" + r.Host
	}
	page := exportPage{Tickets: make([]ticketJSON, 0, len(out)), EndOfStream: !more}
	metricSets := make([]metricSetJSON, 0, len(out))
	for _, rec := range out {
		page.Tickets = append(page.Tickets, rec.t.toJSON(base, rec.gts))
		if withMetrics {
			metricSets = append(metricSets, rec.t.metricSetJSON(base))
		}
	}
	if withMetrics {
		page.MetricSets = &metricSets
	}
	if unknownStatus && len(page.Tickets) > 0 {
		page.Tickets[0].Status = "escalated"
	}
	pageURL := func(c string) *string {
		v := url.Values{}
		v.Set("cursor", c)
		for _, k := range []string{"per_page", "include", "exclude_deleted"} {
			if q.Has(k) {
				v.Set(k, q.Get(k))
			}
		}
		u := base + r.URL.Path + "?" + v.Encode()
		return &u
	}
	after := encodeCursor(last)
	page.AfterCursor, page.AfterURL = &after, pageURL(after)
	if hasCursor {
		before := cursorStr
		page.BeforeCursor, page.BeforeURL = &before, pageURL(before)
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(page); err != nil {
		return jsonError(http.StatusInternalServerError, "InternalError", err.Error())
	}
	return response{Status: http.StatusOK, Header: jsonHeader(), Body: buf.Bytes()}
}
