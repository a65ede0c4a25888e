// Package paddle is a fake of the part of the Paddle Billing API the
// exporter reads: GET /subscriptions, GET /events and GET /discounts/{id}.
//
// It follows Paddle's documented behaviour where it matters to a
// collector: Bearer authentication (403 authentication_missing,
// authentication_malformed or invalid_token otherwise), cursor paging
// with after=<id> and per_page (default 50, at most 200; more is served as
// 200) in id order, meta.pagination {per_page, next, has_more,
// estimated_total}, the status and event_type filters (comma-separated),
// order_by=id[ASC|DESC], and errors as Paddle's JSON
// ({"error": {type, code, detail, documentation_url}, "meta": {request_id}}).
// The rate limit is Paddle's: 240 requests a minute per client, then 429
// too_many_requests with Retry-After. Every change made through the
// scripting API (CreateSubscription, UpdateSubscription) is also an event
// carrying the whole subscription, as Paddle's webhooks and event log do:
// subscription.created (and subscription.trialing or .activated) at
// creation; subscription.updated at every change, followed by
// subscription.activated, .canceled, .paused, .resumed, .past_due or
// .trialing when the status changed so.
//
// Only the standard library is used; the server is built on
// net/http/httptest.
package paddle

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

// DefaultAPIKey is a key shaped like a Paddle sandbox key.
const DefaultAPIKey = "pdl_sdbx_apikey_01fake0000000000000000000000_FakeKeyNotASecret"

const (
	defaultPerPage = 50
	maxPerPage     = 200
	// RateLimit is Paddle's: requests per minute per client address.
	RateLimit = 240
)

// Options configures a Server.
type Options struct {
	// APIKey is the only Bearer token accepted (default DefaultAPIKey).
	APIKey string
	// Start is the clock at start (default now); the clock then follows
	// the wall clock, plus every Advance.
	Start time.Time
	// RateLimitOff counts requests but never refuses one for the rate
	// limit (the fault switch still can).
	RateLimitOff bool
}

// Price is a catalogue price.
type Price struct {
	ID, ProductID, Name string
	Currency            string // "USD"
	Amount              int64  // minor units
	Interval            string // day, week, month (default), year; "none" for one-time
	Frequency           int64  // default 1
}

// Discount is a catalogue discount.
type Discount struct {
	ID           string
	Type         string // percentage, flat, flat_per_seat
	Amount       string // percent, or minor units
	Currency     string // flat discounts
	Recur        bool
	MaxRecurring int64 // maximum_recurring_intervals; 0: null (forever when Recur)
	Code         string
}

// Item is one subscription item.
type Item struct {
	PriceID  string
	Quantity int64  // default 1
	Status   string // active (default), inactive, trialing
}

// Subscription is a subscription as tests script it.
type Subscription struct {
	ID, CustomerID string
	Status         string // active (default), trialing, past_due, paused, canceled
	Currency       string // default: the first item's price's
	Items          []Item
	DiscountID     string
	// ScheduledCancel sets scheduled_change {action: cancel}.
	ScheduledCancel bool
	CreatedAt       time.Time // default now
	PausedAt        time.Time
	CanceledAt      time.Time // default now when canceled
	UpdatedAt       time.Time // set by the server
}

// Request is one request the server received; credentials are never
// recorded.
type Request struct {
	At           time.Time // wall clock, when it was answered
	Method, Path string
	Query        string
	Status       int
}

type event struct {
	id, typ string
	at      time.Time
	data    json.RawMessage
}

// Server is a running fake Paddle account. All methods are safe for
// concurrent use.
type Server struct {
	URL string

	ts    *httptest.Server
	opts  Options
	start time.Time
	base  time.Time

	mu        sync.Mutex
	offset    time.Duration
	seq       int
	prices    map[string]Price
	discounts map[string]Discount
	subs      map[string]*Subscription
	events    []event

	faults fake.Faults
	limit  fake.RateLimiter
	log    fake.RequestLog[Request]
	hooks  fake.WebhookSender // off until SendWebhooks
	ntf    int
}

// NewServer starts a fake Paddle account.
func NewServer(o Options) *Server {
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if o.Start.IsZero() {
		o.Start = time.Now().UTC()
	}
	s := &Server{opts: o, start: o.Start, base: time.Now(), prices: map[string]Price{},
		discounts: map[string]Discount{}, subs: map[string]*Subscription{}}
	s.limit = fake.RateLimiter{Limit: RateLimit, Window: time.Minute, Off: o.RateLimitOff}
	s.faults.SetRetryAfter(1)
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// Set before Start: list handlers read it for their next links, and
	// nothing orders a write after Start with the serving goroutines.
	s.URL = "http://" + s.ts.Listener.Addr().String()
	s.ts.Start()
	return s
}

// Close shuts the server down.
func (s *Server) Close() {
	s.ts.Close()
	s.hooks.CloseWebhooks()
}

// Now is the account's clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.start.Add(time.Since(s.base) + s.offset).UTC() }

// Advance moves the clock forward by d.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// InjectFault makes the next n requests fail with f: Fault429 (Paddle's
// too_many_requests with Retry-After, see SetRetryAfter), Fault500
// (internal_error) or FaultTruncated (the body cut in half).
func (s *Server) InjectFault(f fake.Fault, n int) { s.faults.Inject(f, n) }

// SetLatency delays every later answer by d.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// SetRetryAfter sets the Retry-After seconds of an injected 429.
func (s *Server) SetRetryAfter(sec int) { s.faults.SetRetryAfter(sec) }

// Requests returns the requests received so far.
func (s *Server) Requests() []Request { return s.log.All() }

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() { s.log.Reset() }

func (s *Server) id(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_01h%010d", prefix, s.seq)
}

// CreatePrice adds a price and returns its id.
func (s *Server) CreatePrice(p Price) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == "" {
		p.ID = s.id("pri")
	}
	if p.Interval == "" {
		p.Interval = "month"
	}
	if p.Frequency == 0 {
		p.Frequency = 1
	}
	if p.Currency == "" {
		p.Currency = "USD"
	}
	s.prices[p.ID] = p
	return p.ID
}

// CreateDiscount adds a discount and returns its id.
func (s *Server) CreateDiscount(d Discount) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == "" {
		d.ID = s.id("dsc")
	}
	s.discounts[d.ID] = d
	return d.ID
}

// NewCustomerID returns a fresh customer id.
func (s *Server) NewCustomerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id("ctm")
}

// CreateSubscription adds a subscription, records its events and returns
// its id.
func (s *Server) CreateSubscription(sub Subscription) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := sub
	n.Items = slices.Clone(sub.Items)
	if n.ID == "" {
		n.ID = s.id("sub")
	}
	if n.CustomerID == "" {
		n.CustomerID = s.id("ctm")
	}
	if n.Status == "" {
		n.Status = "active"
	}
	now := s.nowLocked()
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now
	}
	if n.Currency == "" && len(n.Items) > 0 {
		n.Currency = s.prices[n.Items[0].PriceID].Currency
	}
	if n.Status == "canceled" && n.CanceledAt.IsZero() {
		n.CanceledAt = now
	}
	n.UpdatedAt = now
	s.subs[n.ID] = &n
	s.emitLocked("subscription.created", &n)
	switch n.Status {
	case "trialing":
		s.emitLocked("subscription.trialing", &n)
	case "active":
		s.emitLocked("subscription.activated", &n)
	}
	return n.ID
}

// UpdateSubscription changes a subscription with fn and records its
// events; it reports whether the subscription exists.
func (s *Server) UpdateSubscription(id string, fn func(*Subscription)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.subs[id]
	if p == nil {
		return false
	}
	n := *p
	n.Items = slices.Clone(p.Items)
	fn(&n)
	now := s.nowLocked()
	if n.Status == "canceled" && n.CanceledAt.IsZero() {
		n.CanceledAt = now
	}
	if n.Status == "paused" && n.PausedAt.IsZero() {
		n.PausedAt = now
	}
	if n.Status != "paused" {
		n.PausedAt = time.Time{}
	}
	n.UpdatedAt = now
	s.subs[id] = &n
	s.emitLocked("subscription.updated", &n)
	if n.Status != p.Status {
		switch n.Status {
		case "active":
			if p.Status == "paused" {
				s.emitLocked("subscription.resumed", &n)
			} else {
				s.emitLocked("subscription.activated", &n)
			}
		case "canceled", "paused", "past_due", "trialing":
			s.emitLocked("subscription."+n.Status, &n)
		}
	}
	return true
}

// Subscription returns a stored subscription.
func (s *Server) Subscription(id string) (Subscription, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.subs[id]
	if p == nil {
		return Subscription{}, false
	}
	c := *p
	c.Items = slices.Clone(p.Items)
	return c, true
}

// Len counts the subscriptions.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Events counts the events recorded.
func (s *Server) Events() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func (s *Server) emitLocked(typ string, sub *Subscription) {
	s.events = append(s.events, event{id: s.id("evt"), typ: typ, at: sub.UpdatedAt, data: s.renderLocked(sub)})
	s.notifyLocked(&s.events[len(s.events)-1])
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

func cycle(interval string, freq int64) any {
	if interval == "none" {
		return nil
	}
	return map[string]any{"interval": interval, "frequency": freq}
}

// renderLocked writes a subscription with Paddle's field names.
func (s *Server) renderLocked(sub *Subscription) json.RawMessage {
	items := []map[string]any{}
	subCycle := any(nil)
	for _, it := range sub.Items {
		p := s.prices[it.PriceID]
		qty := it.Quantity
		if qty == 0 {
			qty = 1
		}
		st := it.Status
		if st == "" {
			st = "active"
		}
		if subCycle == nil && p.Interval != "none" {
			subCycle = cycle(p.Interval, p.Frequency)
		}
		items = append(items, map[string]any{
			"status": st, "quantity": qty, "recurring": p.Interval != "none",
			"created_at": ts(sub.CreatedAt), "updated_at": ts(sub.UpdatedAt),
			"previously_billed_at": ts(sub.CreatedAt), "next_billed_at": nil, "trial_dates": nil,
			"price": map[string]any{
				"id": p.ID, "product_id": p.ProductID, "name": p.Name, "description": p.Name,
				"type": "standard", "billing_cycle": cycle(p.Interval, p.Frequency), "trial_period": nil,
				"tax_mode":             "account_setting",
				"unit_price":           map[string]any{"amount": strconv.FormatInt(p.Amount, 10), "currency_code": p.Currency},
				"unit_price_overrides": []any{},
				"quantity":             map[string]any{"minimum": 1, "maximum": 100},
				"status":               "active", "custom_data": nil,
			},
		})
	}
	m := map[string]any{
		"id": sub.ID, "status": sub.Status, "customer_id": sub.CustomerID,
		"address_id": "add_" + strings.TrimPrefix(sub.CustomerID, "ctm_"), "business_id": nil,
		"currency_code": sub.Currency, "created_at": ts(sub.CreatedAt), "updated_at": ts(sub.UpdatedAt),
		"started_at": ts(sub.CreatedAt), "first_billed_at": ts(sub.CreatedAt), "next_billed_at": nil,
		"paused_at": ts(sub.PausedAt), "canceled_at": ts(sub.CanceledAt),
		"collection_mode": "automatic", "billing_details": nil, "current_billing_period": nil,
		"billing_cycle": subCycle, "scheduled_change": nil, "items": items, "discount": nil,
		"custom_data": nil, "import_meta": nil,
		"management_urls": map[string]any{"update_payment_method": nil, "cancel": "https://buyer-portal.paddle.com/subscriptions/" + sub.ID + "/cancel"},
	}
	if sub.ScheduledCancel && sub.Status != "canceled" {
		m["scheduled_change"] = map[string]any{"action": "cancel", "effective_at": ts(sub.UpdatedAt.AddDate(0, 0, 20)), "resume_at": nil}
	}
	if sub.DiscountID != "" {
		m["discount"] = map[string]any{"id": sub.DiscountID, "starts_at": ts(sub.CreatedAt), "ends_at": nil}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("fake paddle: %v", err))
	}
	return b
}

func renderDiscount(d Discount) map[string]any {
	m := map[string]any{
		"id": d.ID, "status": "active", "description": d.ID, "enabled_for_checkout": true,
		"code": nil, "type": d.Type, "amount": d.Amount, "currency_code": nil, "recur": d.Recur,
		"maximum_recurring_intervals": nil, "usage_limit": nil, "restrict_to": nil, "expires_at": nil,
		"times_used": 1, "custom_data": nil,
	}
	if d.Code != "" {
		m["code"] = d.Code
	}
	if d.Currency != "" {
		m["currency_code"] = d.Currency
	}
	if d.MaxRecurring > 0 {
		m["maximum_recurring_intervals"] = d.MaxRecurring
	}
	return m
}

// ---------------------------------------------------------------------------
// HTTP

var requestSeq struct {
	sync.Mutex
	n int
}

func requestID() string {
	requestSeq.Lock()
	defer requestSeq.Unlock()
	requestSeq.n++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", requestSeq.n)
}

// APIError is the error object of Paddle's error answers.
type APIError struct {
	Type             string `json:"type"`
	Code             string `json:"code"`
	Detail           string `json:"detail"`
	DocumentationURL string `json:"documentation_url"`
}

func errorResponse(status int, typ, code, detail string) fake.Response {
	b, _ := json.Marshal(map[string]any{
		"error": APIError{Type: typ, Code: code, Detail: detail, DocumentationURL: "https://developer.paddle.com/errors/shared/" + code},
		"meta":  map[string]any{"request_id": requestID()},
	})
	return fake.Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.faults.Delay(r.Context())
	at := time.Now()
	resp := s.handle(r, s.Now())
	status := resp.Write(w)
	s.log.Add(Request{At: at, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: status})
}

func (s *Server) handle(r *http.Request, now time.Time) fake.Response {
	h := r.Header.Get("Authorization")
	switch tok, ok := fake.BearerToken(r); {
	case h == "":
		return errorResponse(http.StatusForbidden, "request_error", "authentication_missing", "Authentication header missing.")
	case !ok || tok == "":
		return errorResponse(http.StatusForbidden, "request_error", "authentication_malformed", "Authentication header included, but incorrectly formatted.")
	case tok != s.opts.APIKey:
		return errorResponse(http.StatusForbidden, "request_error", "invalid_token", "Invalid or revoked API key.")
	}
	if b := s.limit.Take(now); b.Limited {
		resp := errorResponse(http.StatusTooManyRequests, "api_error", "too_many_requests",
			"IP address exceeded the allowed rate limit. Retry after the number of seconds in the Retry-After header.")
		resp.Header.Set("Retry-After", strconv.Itoa(b.RetryAfter(now)))
		return resp
	}
	fault := s.faults.Take()
	switch fault {
	case fake.Fault429:
		resp := errorResponse(http.StatusTooManyRequests, "api_error", "too_many_requests",
			"IP address exceeded the allowed rate limit. Retry after the number of seconds in the Retry-After header.")
		if ra := s.faults.RetryAfter(); ra >= 0 {
			resp.Header.Set("Retry-After", strconv.Itoa(ra))
		}
		return resp
	case fake.Fault500:
		return errorResponse(http.StatusInternalServerError, "api_error", "internal_error", "An internal error has occurred.")
	}
	if r.Method != http.MethodGet {
		return errorResponse(http.StatusMethodNotAllowed, "request_error", "method_not_allowed", "Method not allowed.")
	}
	var resp fake.Response
	switch {
	case r.URL.Path == "/subscriptions":
		resp = s.listSubscriptions(r)
	case r.URL.Path == "/events":
		resp = s.listEvents(r)
	case strings.HasPrefix(r.URL.Path, "/discounts/"):
		resp = s.getDiscount(strings.TrimPrefix(r.URL.Path, "/discounts/"))
	default:
		resp = errorResponse(http.StatusNotFound, "request_error", "not_found", "Entity not found.")
	}
	if fault == fake.FaultTruncated && resp.Status == http.StatusOK {
		resp.Body = resp.Body[:len(resp.Body)/2]
	}
	return resp
}

func ok(v any) fake.Response {
	b, _ := json.Marshal(v)
	return fake.Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
}

func badRequest(field, msg string) fake.Response {
	resp := errorResponse(http.StatusBadRequest, "request_error", "bad_request", "Invalid request.")
	var m map[string]any
	_ = json.Unmarshal(resp.Body, &m)
	m["error"].(map[string]any)["errors"] = []map[string]string{{"field": field, "message": msg}}
	resp.Body, _ = json.Marshal(m)
	return resp
}

// listing is a parsed list request.
type listing struct {
	perPage int
	after   string
	desc    bool
	filter  []string
}

func parseListing(r *http.Request, filter string) (*listing, *fake.Response) {
	v := r.URL.Query()
	l := &listing{perPage: defaultPerPage, after: v.Get("after")}
	if p := v.Get("per_page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			resp := badRequest("per_page", "must be a positive integer")
			return nil, &resp
		}
		l.perPage = min(n, maxPerPage)
	}
	switch o := v.Get("order_by"); o {
	case "", "id[ASC]":
	case "id[DESC]":
		l.desc = true
	default:
		resp := badRequest("order_by", "invalid order_by "+strconv.Quote(o))
		return nil, &resp
	}
	if f := v.Get(filter); f != "" {
		l.filter = strings.Split(f, ",")
	}
	return l, nil
}

// page cuts ids (sorted ascending) to one page of l; next is the next
// page's URL.
func (l *listing) page(ids []string, base string, q url.Values) (out []string, next string, more bool) {
	if l.desc {
		slices.Reverse(ids)
	}
	var rest []string
	for _, id := range ids {
		if l.after == "" || (!l.desc && id > l.after) || (l.desc && id < l.after) {
			rest = append(rest, id)
		}
	}
	more = len(rest) > l.perPage
	if more {
		rest = rest[:l.perPage]
	}
	after := l.after
	if len(rest) > 0 {
		after = rest[len(rest)-1]
	}
	q.Set("after", after)
	return rest, base + "?" + q.Encode(), more
}

func meta(l *listing, next string, more bool, total int) map[string]any {
	return map[string]any{"request_id": requestID(), "pagination": map[string]any{
		"per_page": l.perPage, "next": next, "has_more": more, "estimated_total": total}}
}

func (s *Server) listSubscriptions(r *http.Request) fake.Response {
	l, bad := parseListing(r, "status")
	if bad != nil {
		return *bad
	}
	for _, st := range l.filter {
		if !slices.Contains([]string{"active", "canceled", "past_due", "paused", "trialing"}, st) {
			return badRequest("status", "invalid status "+strconv.Quote(st))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, sub := range s.subs {
		if len(l.filter) == 0 || slices.Contains(l.filter, sub.Status) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	total := len(ids)
	page, next, more := l.page(ids, s.URL+"/subscriptions", r.URL.Query())
	data := []json.RawMessage{}
	for _, id := range page {
		data = append(data, s.renderLocked(s.subs[id]))
	}
	return ok(map[string]any{"data": data, "meta": meta(l, next, more, total)})
}

// EventRetention is how long Paddle's API returns events: 90 days
// (developer.paddle.com changelog, 2024: "events and notifications older
// than 90 days are no longer available").
const EventRetention = 90 * 24 * time.Hour

func (s *Server) listEvents(r *http.Request) fake.Response {
	l, bad := parseListing(r, "event_type")
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	byID := map[string]*event{}
	var ids []string
	kept := s.nowLocked().Add(-EventRetention)
	for i := range s.events {
		e := &s.events[i]
		if e.at.Before(kept) {
			continue // no longer returned, as Paddle's
		}
		if len(l.filter) == 0 || slices.Contains(l.filter, e.typ) {
			ids = append(ids, e.id)
			byID[e.id] = e
		}
	}
	total := len(ids)
	page, next, more := l.page(ids, s.URL+"/events", r.URL.Query())
	data := []map[string]any{}
	for _, id := range page {
		e := byID[id]
		data = append(data, map[string]any{"event_id": e.id, "event_type": e.typ, "occurred_at": ts(e.at), "data": e.data})
	}
	return ok(map[string]any{"data": data, "meta": meta(l, next, more, total)})
}

func (s *Server) getDiscount(id string) fake.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, found := s.discounts[id]
	if !found {
		return errorResponse(http.StatusNotFound, "request_error", "entity_not_found", "Entity "+id+" not found")
	}
	return ok(map[string]any{"data": renderDiscount(d), "meta": map[string]any{"request_id": requestID()}})
}
