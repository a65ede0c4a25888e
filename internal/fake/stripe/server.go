// Package stripe is a stateful fake of the parts of the Stripe API the
// stripe collector reads, for tests and demo mode: customers, prices,
// coupons and subscriptions that a test scripts and mutates, the list
// endpoints with Stripe's envelope and cursor paging (newest first,
// limit 1–100, starting_after, ending_before), /v1/subscription_items,
// and /v1/events recorded on every subscription change (data.object,
// data.previous_attributes), kept 30 days of the fake's own clock. It
// answers Stripe's error shapes: 401 for a bad key, 400 resource_missing
// for an unknown or expired cursor, and injected 429 and 500 faults.
//
// stripe-mock checks requests against Stripe's OpenAPI spec but cannot
// keep state; this fake keeps state but checks only what it implements.
package stripe

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// DefaultAPIKey is the key the fake accepts when Options.APIKey is empty:
// shaped like a test key, and no real one.
const DefaultAPIKey = "sk_test_fakestripe_fixture"

// Retention is how long events are kept, on the fake's clock.
const Retention = 30 * 24 * time.Hour

// Options configure a Server.
type Options struct {
	APIKey string // accepted bearer key (default DefaultAPIKey)
	// Start is the fake clock's time at creation (default now). The clock
	// then runs with real time, plus whatever Advance adds.
	Start time.Time
	// ItemsEmbedded is how many items a subscription embeds before
	// items.has_more (default 10).
	ItemsEmbedded int
	// Latency delays every answer.
	Latency time.Duration
	Addr    string // listen address (default a free 127.0.0.1 port)
}

// Fault is an injected failure: Fault429 answers 429 with Stripe's
// rate-limit error, Fault500 500 api_error.
type Fault = fake.Fault

// Faults.
const FaultNone, Fault429, Fault500 = fake.FaultNone, fake.Fault429, fake.Fault500

// Customer is a Stripe customer.
type Customer struct {
	ID      string
	Created time.Time
}

// Price is a recurring price.
type Price struct {
	ID, Product, Nickname, Currency string
	UnitAmount                      int64
	UnitAmountDecimal               string // "" renders UnitAmount
	Interval                        string // day, week, month, year
	IntervalCount                   int64  // default 1
	Metered                         bool
	OneOff                          bool // no recurring
}

// Coupon is a coupon.
type Coupon struct {
	ID               string
	PercentOff       float64
	AmountOff        int64
	Currency         string
	Duration         string // forever, once, repeating
	DurationInMonths int64
}

// Item is a subscription item.
type Item struct {
	ID       string
	Price    string // price id
	Quantity int64
}

// Subscription is a subscription as the test scripts it.
type Subscription struct {
	ID, Customer, Status, Currency string
	Items                          []Item
	Coupons                        []string // coupon ids, each applied as a discount
	Created                        time.Time
	CanceledAt, EndedAt, CancelAt  time.Time
	TrialStart, TrialEnd           time.Time
	CancelAtPeriodEnd              bool
	// CancellationReason: cancellation_requested, payment_failed,
	// payment_disputed or "".
	CancellationReason string
}

// Request is one request the fake answered.
type Request struct {
	At            time.Time
	Method, Path  string
	Query         string
	Status        int
	Authorization bool // a credential was sent
}

type event struct {
	ID, Type string
	Created  time.Time
	Object   map[string]any
	Previous map[string]any
}

// Server is the fake.
type Server struct {
	URL string
	hs  *httptest.Server
	o   Options

	mu        sync.Mutex
	offset    time.Duration // clock = real now + offset
	base      time.Time     // real time at creation
	start     time.Time
	seq       int
	customers []*Customer
	prices    map[string]*Price
	coupons   map[string]*Coupon
	subs      []*Subscription // creation order
	events    []*event        // creation order

	faults fake.Faults
	log    fake.RequestLog[Request]
	hooks  fake.WebhookSender // off until SendWebhooks
}

// NewServer starts a fake.
func NewServer(o Options) *Server {
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if o.ItemsEmbedded <= 0 {
		o.ItemsEmbedded = 10
	}
	s := &Server{o: o, base: time.Now(), prices: map[string]*Price{}, coupons: map[string]*Coupon{}}
	s.faults.SetLatency(o.Latency)
	s.start = o.Start
	if s.start.IsZero() {
		s.start = s.base
	}
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if o.Addr != "" {
		if l, err := netListen(o.Addr); err == nil {
			s.hs.Listener.Close()
			s.hs.Listener = l
		}
	}
	s.hs.Start()
	s.URL = s.hs.URL
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.hs.Close()
	s.hooks.CloseWebhooks()
}

// Now is the fake's clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time {
	return s.start.Add(time.Since(s.base) + s.offset).UTC()
}

// Advance moves the fake's clock forward by d.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// SetLatency delays every later answer by d.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// InjectFault makes the next n requests fail with f (n < 0: all).
func (s *Server) InjectFault(f Fault, n int) { s.faults.Inject(f, n) }

// Requests returns every request answered so far.
func (s *Server) Requests() []Request { return s.log.All() }

func (s *Server) id(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_%08d", prefix, s.seq)
}

// CreateCustomer adds a customer and returns its id.
func (s *Server) CreateCustomer() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Customer{ID: s.id("cus"), Created: s.nowLocked()}
	s.customers = append(s.customers, c)
	return c.ID
}

// CreatePrice adds a price and returns its id.
func (s *Server) CreatePrice(p Price) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == "" {
		p.ID = s.id("price")
	}
	if p.IntervalCount == 0 {
		p.IntervalCount = 1
	}
	if p.Interval == "" && !p.OneOff {
		p.Interval = "month"
	}
	if p.Currency == "" {
		p.Currency = "usd"
	}
	if p.Product == "" {
		p.Product = s.id("prod")
	}
	s.prices[p.ID] = &p
	return p.ID
}

// CreateCoupon adds a coupon and returns its id.
func (s *Server) CreateCoupon(c Coupon) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == "" {
		c.ID = s.id("coupon")
	}
	if c.Duration == "" {
		c.Duration = "forever"
	}
	s.coupons[c.ID] = &c
	return c.ID
}

// CreateSubscription adds a subscription (status active by default,
// created now unless set, currency its first price's) and records
// customer.subscription.created. It returns the id.
func (s *Server) CreateSubscription(sub Subscription) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := sub
	n.Items = slices.Clone(sub.Items)
	n.Coupons = slices.Clone(sub.Coupons)
	if n.ID == "" {
		n.ID = s.id("sub")
	}
	if n.Status == "" {
		n.Status = "active"
	}
	if n.Created.IsZero() {
		n.Created = s.nowLocked()
	}
	for i := range n.Items {
		if n.Items[i].ID == "" {
			n.Items[i].ID = s.id("si")
		}
		if n.Items[i].Quantity == 0 && !s.prices[n.Items[i].Price].Metered {
			n.Items[i].Quantity = 1
		}
	}
	if n.Currency == "" && len(n.Items) > 0 {
		if p := s.prices[n.Items[0].Price]; p != nil {
			n.Currency = p.Currency
		}
	}
	s.subs = append(s.subs, &n)
	s.record("customer.subscription.created", s.renderSub(&n, false, false), nil)
	return n.ID
}

// Subscription returns a copy of a subscription.
func (s *Server) Subscription(id string) (Subscription, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.sub(id); p != nil {
		c := *p
		c.Items, c.Coupons = slices.Clone(p.Items), slices.Clone(p.Coupons)
		return c, true
	}
	return Subscription{}, false
}

func (s *Server) sub(id string) *Subscription {
	for _, p := range s.subs {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// UpdateSubscription changes a subscription with fn and records
// customer.subscription.updated with the previous attributes, or
// customer.subscription.deleted when it became canceled or
// incomplete_expired (canceled_at and ended_at default to now then).
// New items get ids. It reports whether the subscription exists.
func (s *Server) UpdateSubscription(id string, fn func(*Subscription)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.sub(id)
	if p == nil {
		return false
	}
	before := s.renderSub(p, false, false)
	wasLive := p.Status != "canceled" && p.Status != "incomplete_expired"
	fn(p)
	p.ID = id
	for i := range p.Items {
		if p.Items[i].ID == "" {
			p.Items[i].ID = s.id("si")
		}
		if pr := s.prices[p.Items[i].Price]; p.Items[i].Quantity == 0 && pr != nil && !pr.Metered {
			p.Items[i].Quantity = 1
		}
	}
	ended := p.Status == "canceled" || p.Status == "incomplete_expired"
	now := s.nowLocked()
	if ended && wasLive {
		if p.CanceledAt.IsZero() {
			p.CanceledAt = now
		}
		if p.EndedAt.IsZero() {
			p.EndedAt = now
		}
	}
	after := s.renderSub(p, false, false)
	prev := map[string]any{}
	for k, v := range before {
		if a, _ := json.Marshal(v); string(a) != mustJSON(after[k]) {
			prev[k] = v
		}
	}
	typ := "customer.subscription.updated"
	if ended && wasLive {
		typ = "customer.subscription.deleted"
		prev = nil
	}
	s.record(typ, after, prev)
	return true
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) record(typ string, obj, prev map[string]any) {
	e := &event{ID: s.id("evt"), Type: typ, Created: s.nowLocked(), Object: obj, Previous: prev}
	s.events = append(s.events, e)
	s.notifyLocked(e)
}

// render is the event as the API (and a webhook) shows it.
func (e *event) render() map[string]any {
	data := map[string]any{"object": e.Object}
	if e.Previous != nil {
		data["previous_attributes"] = e.Previous
	}
	return map[string]any{"id": e.ID, "object": "event", "type": e.Type,
		"created": e.Created.Unix(), "api_version": "2025-03-31.basil", "livemode": false, "pending_webhooks": 1,
		"request": map[string]any{"id": nil, "idempotency_key": nil}, "data": data}
}

// expire forgets events older than the retention.
func (s *Server) expire() {
	cut := s.nowLocked().Add(-Retention)
	i := 0
	for i < len(s.events) && s.events[i].Created.Before(cut) {
		i++
	}
	s.events = s.events[i:]
}

// Events returns how many events are kept.
func (s *Server) Events() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	return len(s.events)
}

func unixOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

func (s *Server) renderPrice(p *Price) map[string]any {
	m := map[string]any{
		"id": p.ID, "object": "price", "active": true, "billing_scheme": "per_unit", "currency": p.Currency,
		"livemode": false, "metadata": map[string]any{}, "product": p.Product, "type": "recurring",
		"unit_amount": p.UnitAmount, "unit_amount_decimal": strconv.FormatInt(p.UnitAmount, 10), "nickname": nil,
		"recurring": map[string]any{"interval": p.Interval, "interval_count": p.IntervalCount,
			"usage_type": map[bool]string{true: "metered", false: "licensed"}[p.Metered], "meter": nil},
	}
	if p.Nickname != "" {
		m["nickname"] = p.Nickname
	}
	if p.UnitAmountDecimal != "" {
		m["unit_amount_decimal"] = p.UnitAmountDecimal
		m["unit_amount"] = nil
	}
	if p.OneOff {
		m["type"], m["recurring"] = "one_time", nil
	}
	return m
}

func (s *Server) renderItem(sub *Subscription, it *Item) map[string]any {
	m := map[string]any{"id": it.ID, "object": "subscription_item", "subscription": sub.ID,
		"created": sub.Created.Unix(), "metadata": map[string]any{}, "discounts": []any{},
		"current_period_start": sub.Created.Unix(), "current_period_end": sub.Created.AddDate(0, 1, 0).Unix()}
	if p := s.prices[it.Price]; p != nil {
		m["price"] = s.renderPrice(p)
		if !p.Metered {
			m["quantity"] = it.Quantity
		}
	}
	return m
}

func (s *Server) renderCoupon(c *Coupon) map[string]any {
	m := map[string]any{"id": c.ID, "object": "coupon", "duration": c.Duration, "percent_off": nil,
		"amount_off": nil, "currency": nil, "duration_in_months": nil, "valid": true, "livemode": false}
	if c.PercentOff > 0 {
		m["percent_off"] = c.PercentOff
	}
	if c.AmountOff > 0 {
		m["amount_off"], m["currency"] = c.AmountOff, c.Currency
	}
	if c.Duration == "repeating" {
		m["duration_in_months"] = c.DurationInMonths
	}
	return m
}

func discountID(sub, coupon string) string {
	return "di_" + strings.TrimPrefix(sub, "sub_") + "_" + coupon
}

// renderSub renders a subscription as the 2025-03-31.basil API does:
// discounts as ids unless expanded, their coupon at source.coupon.
func (s *Server) renderSub(sub *Subscription, expandDiscounts, expandCoupon bool) map[string]any {
	items := make([]any, 0, len(sub.Items))
	for i := range sub.Items {
		if i < s.o.ItemsEmbedded {
			items = append(items, s.renderItem(sub, &sub.Items[i]))
		}
	}
	discounts := make([]any, 0, len(sub.Coupons))
	for _, c := range sub.Coupons {
		did := discountID(sub.ID, c)
		if !expandDiscounts {
			discounts = append(discounts, did)
			continue
		}
		var coupon any = c
		if cp := s.coupons[c]; expandCoupon && cp != nil {
			coupon = s.renderCoupon(cp)
		}
		discounts = append(discounts, map[string]any{"id": did, "object": "discount", "subscription": sub.ID,
			"customer": sub.Customer, "start": sub.Created.Unix(), "end": nil,
			"source": map[string]any{"type": "coupon", "coupon": coupon}})
	}
	var reason any
	if sub.CancellationReason != "" {
		reason = sub.CancellationReason
	}
	return map[string]any{
		"id": sub.ID, "object": "subscription", "customer": sub.Customer, "status": sub.Status,
		"currency": sub.Currency, "created": sub.Created.Unix(), "start_date": sub.Created.Unix(),
		"canceled_at": unixOrNil(sub.CanceledAt), "ended_at": unixOrNil(sub.EndedAt), "cancel_at": unixOrNil(sub.CancelAt),
		"cancel_at_period_end": sub.CancelAtPeriodEnd, "trial_start": unixOrNil(sub.TrialStart), "trial_end": unixOrNil(sub.TrialEnd),
		"cancellation_details": map[string]any{"reason": reason, "comment": nil, "feedback": nil},
		"items": map[string]any{"object": "list", "data": items, "has_more": len(sub.Items) > len(items),
			"total_count": len(sub.Items), "url": "/v1/subscription_items?subscription=" + sub.ID},
		"discounts": discounts, "livemode": false, "metadata": map[string]any{},
	}
}

// stripeError writes Stripe's error JSON.
func stripeError(w http.ResponseWriter, status int, typ, code, param, msg string) int {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	if param != "" {
		e["param"] = param
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_fake")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
	return status
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.faults.Delay(r.Context())
	req := Request{At: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Authorization: r.Header.Get("Authorization") != ""}
	s.mu.Lock()
	req.Status = s.handle(w, r)
	s.mu.Unlock()
	s.log.Add(req)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) int {
	if auth := (fake.Auth{User: s.o.APIKey, Token: s.o.APIKey}); !auth.Allows(r) {
		if r.Header.Get("Authorization") == "" {
			return stripeError(w, 401, "invalid_request_error", "", "", "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.")
		}
		return stripeError(w, 401, "invalid_request_error", "", "", "Invalid API Key provided.")
	}
	switch s.faults.Take() {
	case Fault429:
		w.Header().Set("Stripe-Should-Retry", "true")
		return stripeError(w, 429, "invalid_request_error", "rate_limit", "", "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.")
	case Fault500:
		w.Header().Set("Stripe-Should-Retry", "true")
		return stripeError(w, 500, "api_error", "", "", "An unknown error occurred.")
	}
	if r.Method != http.MethodGet {
		return stripeError(w, 405, "invalid_request_error", "", "", "Only GET is implemented by this fake.")
	}
	s.expire()
	q := r.URL.Query()
	switch p := r.URL.Path; {
	case p == "/v1/subscriptions":
		return s.listSubscriptions(w, q)
	case strings.HasPrefix(p, "/v1/subscriptions/"):
		sub := s.sub(strings.TrimPrefix(p, "/v1/subscriptions/"))
		if sub == nil {
			return stripeError(w, 404, "invalid_request_error", "resource_missing", "id", "No such subscription")
		}
		ex := q["expand[]"]
		return writeJSON(w, s.renderSub(sub, slices.Contains(ex, "discounts"), slices.Contains(ex, "discounts.source.coupon")))
	case p == "/v1/subscription_items":
		sub := s.sub(q.Get("subscription"))
		if sub == nil {
			return stripeError(w, 400, "invalid_request_error", "resource_missing", "subscription", "No such subscription: '"+q.Get("subscription")+"'")
		}
		var objs []listed
		for i := range sub.Items {
			objs = append(objs, listed{sub.Items[i].ID, s.renderItem(sub, &sub.Items[i])})
		}
		// Items are listed in the order they were added.
		return s.writeList(w, q, "/v1/subscription_items", objs, "subscription_item")
	case strings.HasPrefix(p, "/v1/coupons/"):
		c := s.coupons[strings.TrimPrefix(p, "/v1/coupons/")]
		if c == nil {
			return stripeError(w, 404, "invalid_request_error", "resource_missing", "id", "No such coupon")
		}
		return writeJSON(w, s.renderCoupon(c))
	case p == "/v1/customers":
		var objs []listed
		for i := len(s.customers) - 1; i >= 0; i-- {
			c := s.customers[i]
			objs = append(objs, listed{c.ID, map[string]any{"id": c.ID, "object": "customer", "created": c.Created.Unix()}})
		}
		return s.writeList(w, q, "/v1/customers", objs, "customer")
	case p == "/v1/events":
		return s.listEvents(w, q)
	}
	return stripeError(w, 404, "invalid_request_error", "", "", "Unrecognized request URL (GET: "+r.URL.Path+").")
}

func writeJSON(w http.ResponseWriter, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_fake")
	_ = json.NewEncoder(w).Encode(v)
	return 200
}

type listed struct {
	id  string
	obj map[string]any
}

// writeList pages objs (already in list order) as Stripe does.
func (s *Server) writeList(w http.ResponseWriter, q map[string][]string, url string, objs []listed, what string) int {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	limit := 10
	if l := get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return stripeError(w, 400, "invalid_request_error", "parameter_invalid_integer", "limit", "Invalid integer: "+l+"; must be between 1 and 100")
		}
		limit = n
	}
	sa, eb := get("starting_after"), get("ending_before")
	if sa != "" && eb != "" {
		return stripeError(w, 400, "invalid_request_error", "", "ending_before", "You may only specify one of these parameters: ending_before, starting_after.")
	}
	idx := func(id string) int { return slices.IndexFunc(objs, func(o listed) bool { return o.id == id }) }
	var page []listed
	more := false
	switch {
	case sa != "":
		i := idx(sa)
		if i < 0 {
			return stripeError(w, 400, "invalid_request_error", "resource_missing", "starting_after", "No such "+what+": '"+sa+"'")
		}
		rest := objs[i+1:]
		page, more = rest[:min(limit, len(rest))], len(rest) > limit
	case eb != "":
		i := idx(eb)
		if i < 0 {
			return stripeError(w, 400, "invalid_request_error", "resource_missing", "ending_before", "No such "+what+": '"+eb+"'")
		}
		from := max(0, i-limit)
		page, more = objs[from:i], from > 0
	default:
		page, more = objs[:min(limit, len(objs))], len(objs) > limit
	}
	data := make([]any, 0, len(page))
	for _, o := range page {
		data = append(data, o.obj)
	}
	return writeJSON(w, map[string]any{"object": "list", "data": data, "has_more": more, "url": url})
}

func (s *Server) listSubscriptions(w http.ResponseWriter, q map[string][]string) int {
	status := ""
	if v := q["status"]; len(v) > 0 {
		status = v[0]
	}
	ex := q["expand[]"]
	expD, expC := slices.Contains(ex, "data.discounts"), slices.Contains(ex, "data.discounts.source.coupon")
	var objs []listed
	for i := len(s.subs) - 1; i >= 0; i-- {
		sub := s.subs[i]
		ended := sub.Status == "canceled" || sub.Status == "incomplete_expired"
		switch {
		case status == "all":
		case status == "" && ended:
			continue
		case status == "ended" && !ended:
			continue
		case status != "" && status != "all" && status != "ended" && sub.Status != status:
			continue
		}
		if c := q["customer"]; len(c) > 0 && c[0] != sub.Customer {
			continue
		}
		objs = append(objs, listed{sub.ID, s.renderSub(sub, expD, expC)})
	}
	return s.writeList(w, q, "/v1/subscriptions", objs, "subscription")
}

func (s *Server) listEvents(w http.ResponseWriter, q map[string][]string) int {
	types := q["types[]"]
	bound := func(k string) (int64, bool) {
		v := q["created["+k+"]"]
		if len(v) == 0 {
			return 0, false
		}
		n, err := strconv.ParseInt(v[0], 10, 64)
		return n, err == nil
	}
	var objs []listed
	for i := len(s.events) - 1; i >= 0; i-- {
		e := s.events[i]
		if len(types) > 0 && !slices.Contains(types, e.Type) {
			continue
		}
		c := e.Created.Unix()
		if v, ok := bound("gt"); ok && c <= v {
			continue
		}
		if v, ok := bound("gte"); ok && c < v {
			continue
		}
		if v, ok := bound("lt"); ok && c >= v {
			continue
		}
		if v, ok := bound("lte"); ok && c > v {
			continue
		}
		objs = append(objs, listed{e.ID, e.render()})
	}
	// A cursor on an event filtered out by types is still a known event.
	for _, k := range []string{"starting_after", "ending_before"} {
		if v := q[k]; len(v) > 0 && !slices.ContainsFunc(objs, func(o listed) bool { return o.id == v[0] }) {
			if !slices.ContainsFunc(s.events, func(e *event) bool { return e.ID == v[0] }) {
				return stripeError(w, 400, "invalid_request_error", "resource_missing", k, "No such event: '"+v[0]+"'")
			}
			objs = s.withCursor(objs, v[0])
		}
	}
	return s.writeList(w, q, "/v1/events", objs, "event")
}

// withCursor inserts a placeholder for a filtered-out cursor event so
// paging around it works; the placeholder itself is never returned
// because the page starts after (or ends before) it.
func (s *Server) withCursor(objs []listed, id string) []listed {
	pos := slices.IndexFunc(s.events, func(e *event) bool { return e.ID == id })
	out := make([]listed, 0, len(objs)+1)
	inserted := false
	for _, o := range objs {
		j := slices.IndexFunc(s.events, func(e *event) bool { return e.ID == o.id })
		if !inserted && j < pos {
			out = append(out, listed{id: id})
			inserted = true
		}
		out = append(out, o)
	}
	if !inserted {
		out = append(out, listed{id: id})
	}
	return out
}

func netListen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
