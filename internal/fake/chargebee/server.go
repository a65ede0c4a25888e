// Package chargebee is a fake of the part of Chargebee's API v2 the
// exporter reads: the subscription list, GET /api/v2/subscriptions.
//
// It follows Chargebee's documented behaviour where it matters to a
// collector: Basic authentication with the API key as user (password
// ignored), limit 1–100 (default 10), opaque offsets handed out as
// next_offset and absent on the last page, the updated_at and created_at
// filters (after, before, on_or_after, on_or_before), sort_by[asc|desc] on
// updated_at or created_at, include_deleted (deleted subscriptions carry
// deleted: true and are left out otherwise), list entries of
// {"subscription": …, "customer": …}, and errors as Chargebee's JSON
// ({"message","type","api_error_code","http_status_code"}). Tests script
// the site (Put, Delete, Advance) and switch on faults (InjectFault).
//
// Offsets are positions in the sort order, not indexes: a subscription
// changed while a listing is under way moves behind every offset already
// handed out, so with sort_by[asc]=updated_at it comes again at the end of
// the listing, and paging never skips a record.
//
// Only the standard library is used; the server is built on
// net/http/httptest.
package chargebee

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// ListPath is the subscription list endpoint.
const ListPath = "/api/v2/subscriptions"

const (
	defaultLimit      = 10
	maxLimit          = 100
	defaultRetryAfter = 1
)

// Options configures a Server. The zero value is an open server (any
// credentials accepted) whose clock starts at the current second.
type Options struct {
	// APIKey, when set, is the only Basic auth user accepted.
	APIKey string
	// Start is the initial server clock (default: now, truncated to the
	// second). The clock only moves with Advance.
	Start time.Time
}

// Item is one subscription_items element (product catalog 2.0).
type Item struct {
	ItemPriceID string
	ItemType    string // "plan" (default), "addon" or "charge"
	Quantity    int64  // sent when > 0
	UnitPrice   *int64 // minor units; nil: not sent (tiered prices)
	Amount      *int64 // minor units; nil: UnitPrice × Quantity when UnitPrice is set
	// BillingPeriod and BillingPeriodUnit (day, week, month, year) are not
	// sent for charges.
	BillingPeriod     int64
	BillingPeriodUnit string
	Metered           bool // sends metered_quantity
}

// Subscription is one subscription as the test scripts it; the server
// renders it with Chargebee's field names.
type Subscription struct {
	ID, CustomerID string
	Status         string // future, in_trial, active, non_renewing, paused, cancelled (anything else is sent as is)
	CurrencyCode   string // "USD"; default "USD"
	MRR            *int64 // minor units; nil: mrr not sent
	Items          []Item
	// Product catalog 1.0, used when Items is empty and PlanID is set.
	PlanID        string
	PlanUnitPrice int64
	PlanQuantity  int64
	// BillingPeriod and BillingPeriodUnit are the subscription's (1.0 and
	// 2.0 alike); default 1 month.
	BillingPeriod     int64
	BillingPeriodUnit string
	// CreatedAt defaults to the server clock at the first Put; StartedAt
	// and ActivatedAt are sent when set.
	CreatedAt, StartedAt, ActivatedAt time.Time
	CancelledAt                       time.Time // sent when set
	TrialStart, TrialEnd              time.Time // sent when set
	CancelReason                      string    // sent when set

	// Set by the server: Put and Delete stamp them.
	UpdatedAt       time.Time
	ResourceVersion int64 // milliseconds, increasing per subscription
	Deleted         bool
}

// Int64 returns a pointer to v, for the optional amounts.
func Int64(v int64) *int64 { return &v }

// Fault is a failure the server can be told to produce on list requests:
// Fault429 answers 429 with Retry-After (see SetRetryAfter) and
// api_error_code api_request_limit_exceeded, Fault500 answers 500 with
// api_error_code internal_error, FaultTruncated answers 200 with the normal
// body cut in half.
type Fault = fake.Fault

// The injectable faults.
const FaultNone, Fault429, Fault500, FaultTruncated = fake.FaultNone, fake.Fault429, fake.Fault500, fake.FaultTruncated

// Request is one request the server received. Headers, and so
// credentials, are never recorded.
type Request struct {
	At          time.Time // server clock
	Path, Query string    // Query is the raw query string
	Status      int
}

type record struct {
	s    Subscription
	seq  uint64 // order of the last change
	cseq uint64 // order of creation
}

// Server is a running fake Chargebee site. All methods are safe for
// concurrent use.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:1234, without a trailing slash.
	URL string

	ts   *httptest.Server
	opts Options

	mu   sync.Mutex
	now  time.Time
	subs map[string]*record
	seq  uint64

	faults fake.Faults
	log    fake.RequestLog[Request]
	hooks  fake.WebhookSender // off until SendWebhooks
	evSeq  uint64
}

// NewServer starts a fake Chargebee site.
func NewServer(o Options) *Server {
	if o.Start.IsZero() {
		o.Start = time.Now().UTC().Truncate(time.Second)
	}
	s := &Server{opts: o, now: o.Start, subs: map[string]*record{}}
	s.faults.SetRetryAfter(defaultRetryAfter)
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() {
	s.ts.Close()
	s.hooks.CloseWebhooks()
}

// ---------------------------------------------------------------------------
// Scripting API

// Now returns the server clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Advance moves the server clock forward by d.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d > 0 {
		s.now = s.now.Add(d)
	}
}

// Put inserts or replaces a subscription (by ID) and stamps it as changed
// now: updated_at is the server clock, resource_version its milliseconds
// (at least one more than the previous version's), and it moves behind
// every record in updated_at order. CreatedAt defaults to the stored
// version's, or now.
func (s *Server) Put(sub Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.subs[sub.ID]
	if r == nil {
		s.seq++
		r = &record{cseq: s.seq}
		s.subs[sub.ID] = r
	} else if sub.CreatedAt.IsZero() {
		sub.CreatedAt = r.s.CreatedAt
	}
	if sub.CreatedAt.IsZero() {
		sub.CreatedAt = s.now
	}
	created := r.s.ID == ""
	sub.ResourceVersion = r.s.ResourceVersion
	sub.Deleted = false
	r.s = sub
	s.touchLocked(r)
	s.notifyLocked(r, created)
}

func (s *Server) touchLocked(r *record) {
	s.seq++
	r.seq = s.seq
	r.s.UpdatedAt = s.now
	r.s.ResourceVersion = max(s.now.UnixMilli(), r.s.ResourceVersion+1)
}

// Get returns the stored subscription.
func (s *Server) Get(id string) (Subscription, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.subs[id]
	if !ok {
		return Subscription{}, false
	}
	return r.s, true
}

// Delete marks a subscription deleted (it is listed only with
// include_deleted=true, with deleted: true) and stamps it as changed. It
// reports whether the subscription exists.
func (s *Server) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.subs[id]
	if !ok {
		return false
	}
	r.s.Deleted = true
	s.touchLocked(r)
	s.notifyLocked(r, false)
	return true
}

// Len counts the stored subscriptions, deleted ones included.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// InjectFault makes the next n list requests fail with f (n < 0: every
// request until cleared; n == 0 or FaultNone clears). Faults apply after
// authentication.
func (s *Server) InjectFault(f Fault, n int) { s.faults.Inject(f, n) }

// SetRetryAfter sets the Retry-After seconds sent with Fault429 (default
// 1; negative: no Retry-After header, as Chargebee sometimes does).
func (s *Server) SetRetryAfter(sec int) { s.faults.SetRetryAfter(sec) }

// Requests returns the requests received so far, in arrival order.
func (s *Server) Requests() []Request { return s.log.All() }

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() { s.log.Reset() }

// ---------------------------------------------------------------------------
// HTTP

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	at := s.now
	s.mu.Unlock()
	status := s.handle(w, r)
	s.log.Add(Request{At: at, Path: r.URL.Path, Query: r.URL.RawQuery, Status: status})
}

// APIError is the body of Chargebee's error answers.
type APIError struct {
	Message        string `json:"message"`
	Type           string `json:"type,omitempty"`
	APIErrorCode   string `json:"api_error_code"`
	Param          string `json:"param,omitempty"`
	HTTPStatusCode int    `json:"http_status_code"`
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	b, _ := json.Marshal(v)
	return writeBody(w, status, b)
}

func writeBody(w http.ResponseWriter, status int, b []byte) int {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
	return status
}

func writeError(w http.ResponseWriter, status int, typ, code, param, msg string) int {
	return writeJSON(w, status, APIError{Message: msg, Type: typ, APIErrorCode: code, Param: param, HTTPStatusCode: status})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) int {
	if r.URL.Path != ListPath {
		return writeError(w, http.StatusNotFound, "invalid_request", "resource_not_found", "", "Sorry, we couldn't find that resource")
	}
	if r.Method != http.MethodGet {
		return writeError(w, http.StatusMethodNotAllowed, "invalid_request", "http_method_not_supported", "", "Sorry, the http method is not supported for this resource")
	}
	if auth := (fake.Auth{User: s.opts.APIKey}); !auth.Allows(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="api"`)
		return writeError(w, http.StatusUnauthorized, "", "api_authentication_failed", "", "Sorry, authentication failed. Invalid api key")
	}
	fault := s.faults.Take()
	switch fault {
	case Fault429:
		if retryAfter := s.faults.RetryAfter(); retryAfter >= 0 {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		}
		return writeError(w, http.StatusTooManyRequests, "", "api_request_limit_exceeded", "",
			"Sorry, access has been blocked temporarily due to request count exceeding acceptable limits. Please try after some time.")
	case Fault500:
		return writeError(w, http.StatusInternalServerError, "", "internal_error", "", "Sorry, something went wrong when trying to process the request.")
	}
	status, body := s.list(r)
	if fault == FaultTruncated && status == http.StatusOK {
		body = body[:len(body)/2]
	}
	return writeBody(w, status, body)
}

// query is a parsed list request.
type query struct {
	limit          int
	field          string // updated_at or created_at
	desc           bool
	includeDeleted bool
	filters        []func(*Subscription) bool
	after          *position
}

// position is a place in a sort order: the key of the last record served.
type position struct {
	key int64  // updated_at or created_at in milliseconds
	seq uint64 // tie-break: change or creation order
}

func paramError(param, msg string) (int, []byte) {
	b, _ := json.Marshal(APIError{Message: msg, Type: "invalid_request", APIErrorCode: "param_wrong_value", Param: param, HTTPStatusCode: 400})
	return http.StatusBadRequest, b
}

func parseQuery(r *http.Request) (*query, string, string) {
	v := r.URL.Query()
	q := &query{limit: defaultLimit, field: "created_at", desc: true}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxLimit {
			return nil, "limit", "limit : The value must be between 1 and 100"
		}
		q.limit = n
	}
	asc, desc := v.Get("sort_by[asc]"), v.Get("sort_by[desc]")
	switch {
	case asc != "" && desc != "":
		return nil, "sort_by", "sort_by : only one sort order is allowed"
	case asc != "":
		q.field, q.desc = asc, false
	case desc != "":
		q.field, q.desc = desc, true
	}
	if q.field != "updated_at" && q.field != "created_at" {
		return nil, "sort_by", "sort_by : invalid value " + strconv.Quote(q.field)
	}
	switch d := v.Get("include_deleted"); d {
	case "", "false":
	case "true":
		q.includeDeleted = true
	default:
		return nil, "include_deleted", "include_deleted : invalid boolean value"
	}
	for _, field := range []string{"updated_at", "created_at"} {
		get := func(s *Subscription) int64 { return s.UpdatedAt.Unix() }
		if field == "created_at" {
			get = func(s *Subscription) int64 { return s.CreatedAt.Unix() }
		}
		for _, op := range []string{"after", "before", "on_or_after", "on_or_before"} {
			raw := v.Get(field + "[" + op + "]")
			if raw == "" {
				continue
			}
			t, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return nil, field + "[" + op + "]", field + "[" + op + "] : invalid timestamp"
			}
			var f func(*Subscription) bool
			switch op {
			case "after":
				f = func(s *Subscription) bool { return get(s) > t }
			case "before":
				f = func(s *Subscription) bool { return get(s) < t }
			case "on_or_after":
				f = func(s *Subscription) bool { return get(s) >= t }
			case "on_or_before":
				f = func(s *Subscription) bool { return get(s) <= t }
			}
			q.filters = append(q.filters, f)
		}
	}
	if off := v.Get("offset"); off != "" {
		p, ok := decodeOffset(off)
		if !ok {
			return nil, "offset", "offset : invalid value"
		}
		q.after = &p
	}
	return q, "", ""
}

// Offsets look like Chargebee's: a JSON array of two numbers as strings.
func encodeOffset(p position) string {
	b, _ := json.Marshal([]string{strconv.FormatInt(p.key, 10), strconv.FormatUint(p.seq, 10)})
	return string(b)
}

func decodeOffset(s string) (position, bool) {
	var parts []string
	if json.Unmarshal([]byte(s), &parts) != nil || len(parts) != 2 {
		return position{}, false
	}
	k, err1 := strconv.ParseInt(parts[0], 10, 64)
	q, err2 := strconv.ParseUint(parts[1], 10, 64)
	return position{k, q}, err1 == nil && err2 == nil
}

func (q *query) pos(r *record) position {
	if q.field == "updated_at" {
		return position{r.s.UpdatedAt.UnixMilli(), r.seq}
	}
	return position{r.s.CreatedAt.UnixMilli(), r.cseq}
}

func (q *query) less(a, b position) bool {
	if q.desc {
		a, b = b, a
	}
	if a.key != b.key {
		return a.key < b.key
	}
	return a.seq < b.seq
}

func (s *Server) list(r *http.Request) (int, []byte) {
	q, param, msg := parseQuery(r)
	if q == nil {
		return paramError(param, msg)
	}
	s.mu.Lock()
	var match []*record
	for _, rec := range s.subs {
		if rec.s.Deleted && !q.includeDeleted {
			continue
		}
		ok := true
		for _, f := range q.filters {
			if !f(&rec.s) {
				ok = false
				break
			}
		}
		if ok && (q.after == nil || q.less(*q.after, q.pos(rec))) {
			match = append(match, rec)
		}
	}
	sort.Slice(match, func(i, j int) bool { return q.less(q.pos(match[i]), q.pos(match[j])) })
	var out struct {
		List       []json.RawMessage `json:"list"`
		NextOffset string            `json:"next_offset,omitempty"`
	}
	out.List = []json.RawMessage{}
	for i, rec := range match {
		if i == q.limit {
			out.NextOffset = encodeOffset(q.pos(match[i-1]))
			break
		}
		out.List = append(out.List, render(&rec.s))
	}
	s.mu.Unlock()
	b, _ := json.Marshal(out)
	return http.StatusOK, b
}

// render writes one list entry with Chargebee's field names.
func render(sub *Subscription) json.RawMessage {
	cur := sub.CurrencyCode
	if cur == "" {
		cur = "USD"
	}
	period, unit := sub.BillingPeriod, sub.BillingPeriodUnit
	if period == 0 {
		period = 1
	}
	if unit == "" {
		unit = "month"
	}
	m := map[string]any{
		"id":                    sub.ID,
		"customer_id":           sub.CustomerID,
		"status":                sub.Status,
		"currency_code":         cur,
		"billing_period":        period,
		"billing_period_unit":   unit,
		"created_at":            sub.CreatedAt.Unix(),
		"updated_at":            sub.UpdatedAt.Unix(),
		"resource_version":      sub.ResourceVersion,
		"deleted":               sub.Deleted,
		"object":                "subscription",
		"due_invoices_count":    0,
		"has_scheduled_changes": false,
		"auto_collection":       "on",
	}
	if sub.MRR != nil {
		m["mrr"] = *sub.MRR
	}
	for k, t := range map[string]time.Time{"started_at": sub.StartedAt, "activated_at": sub.ActivatedAt, "cancelled_at": sub.CancelledAt,
		"trial_start": sub.TrialStart, "trial_end": sub.TrialEnd} {
		if !t.IsZero() {
			m[k] = t.Unix()
		}
	}
	if sub.CancelReason != "" {
		m["cancel_reason"] = sub.CancelReason
	}
	switch {
	case len(sub.Items) > 0:
		items := make([]map[string]any, 0, len(sub.Items))
		for _, it := range sub.Items {
			typ := it.ItemType
			if typ == "" {
				typ = "plan"
			}
			im := map[string]any{"item_price_id": it.ItemPriceID, "item_type": typ, "object": "subscription_item"}
			if it.Quantity > 0 {
				im["quantity"] = it.Quantity
			}
			if it.UnitPrice != nil {
				im["unit_price"] = *it.UnitPrice
			}
			switch {
			case it.Amount != nil:
				im["amount"] = *it.Amount
			case it.UnitPrice != nil:
				im["amount"] = *it.UnitPrice * max(it.Quantity, 1)
			}
			if typ != "charge" {
				p, u := it.BillingPeriod, it.BillingPeriodUnit
				if p == 0 {
					p = period
				}
				if u == "" {
					u = unit
				}
				im["billing_period"], im["billing_period_unit"] = p, u
			} else {
				im["charge_once"] = true
			}
			if it.Metered {
				im["metered_quantity"] = "0"
			}
			items = append(items, im)
		}
		m["subscription_items"] = items
	case sub.PlanID != "":
		qty := max(sub.PlanQuantity, 1)
		m["plan_id"], m["plan_quantity"], m["plan_unit_price"] = sub.PlanID, qty, sub.PlanUnitPrice
		m["plan_amount"] = sub.PlanUnitPrice * qty
	}
	cus := map[string]any{
		"id":              sub.CustomerID,
		"object":          "customer",
		"deleted":         false,
		"auto_collection": "on",
		"created_at":      sub.CreatedAt.Unix(),
		"taxability":      "taxable",
	}
	b, err := json.Marshal(map[string]any{"subscription": m, "customer": cus})
	if err != nil {
		panic(fmt.Sprintf("fake chargebee: %v", err))
	}
	return b
}
