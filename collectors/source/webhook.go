package source

import (
	"context"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Webhook results: the result label values of
// cx_exporter_webhooks_received_total.
const (
	// WebhookAccepted: verified, and the record it named was fetched from
	// the vendor and applied (whether or not it changed a number).
	WebhookAccepted = "accepted"
	// WebhookRejected: refused: a bad or missing signature, a timestamp
	// outside the replay window, a body over the limit, or a verified body
	// that is not the vendor's webhook shape.
	WebhookRejected = "rejected"
	// WebhookIgnored: verified, but nothing to fetch: an event about
	// something the exporter does not read, a repeat of a delivery already
	// taken, or a record the vendor does not know.
	WebhookIgnored = "ignored"
)

// WebhookResults are the result label values, for initialising the
// counter at zero.
var WebhookResults = []string{WebhookAccepted, WebhookRejected, WebhookIgnored}

// Webhook defaults.
const (
	DefaultWebhookMaxBody      = 1 << 20 // 1 MiB: vendors' event bodies are a few KiB
	DefaultWebhookReplayWindow = 5 * time.Minute
	DefaultWebhookDebounce     = 500 * time.Millisecond
	// maxPendingWebhooks bounds the records waiting for a fetch; beyond it
	// webhooks are ignored (the poll reconciles them).
	maxPendingWebhooks = 100_000
)

// ErrBadSignature is what a Verifier returns for a request that does not
// carry a valid signature; the receiver answers 401 with no detail.
var ErrBadSignature = errors.New("webhook signature missing or invalid")

// Delivery is what a Verifier learns from a verified request.
type Delivery struct {
	// Signed is when the vendor signed the request, from a signed header;
	// zero when the scheme carries no time (WebhookEvent.At is then used).
	Signed time.Time
	// Key names this delivery (the signature, or the vendor's delivery
	// id): a second request with the same key inside the replay window is
	// a repeat and is ignored.
	Key string
}

// Verifier checks one vendor's signature scheme, with the secret it was
// made with, in constant time.
type Verifier interface {
	Verify(h http.Header, body []byte) (Delivery, error)
}

// VerifierFunc adapts a function to Verifier.
type VerifierFunc func(h http.Header, body []byte) (Delivery, error)

// Verify calls f.
func (f VerifierFunc) Verify(h http.Header, body []byte) (Delivery, error) { return f(h, body) }

// WebhookEvent is what a verified body names. The body is never trusted as
// data: only ID is used, to fetch the record from the vendor's API.
type WebhookEvent struct {
	// ID is the record to fetch; "" when the event is about nothing the
	// exporter reads (it is ignored).
	ID string
	// At is the event's own time (signed with the body), for the replay
	// window of schemes without a signed timestamp header; zero if none.
	At time.Time
}

// WebhookVendor is what a vendor adds to the kit's receiver: its
// signature scheme, how to read the record id from a verified body and how
// to fetch and apply a batch of records.
type WebhookVendor struct {
	Verifier Verifier
	// Parse reads a verified body; an error rejects the request.
	Parse func(body []byte) (WebhookEvent, error)
	// ParseRequest, when set, replaces Parse for vendors that name the
	// event in a header (Help Scout's X-HelpScout-Event).
	ParseRequest func(h http.Header, body []byte) (WebhookEvent, error)
	// Fetch fetches the named records through the vendor's API and applies
	// them through the engine and the state transaction, as the poller
	// does; it returns the ids the vendor knew. It never runs concurrently
	// with the source's Sync or with itself.
	Fetch func(ctx context.Context, ids []string) (found []string, err error)
	// Batch is the most ids one Fetch takes (default 100).
	Batch int
	// Untimed: the scheme is a shared secret sent as is, not a signature
	// over the body and a time (Freshdesk's automation header), so there
	// is no time to hold to a replay window. A replay can only make the
	// source fetch the record again.
	Untimed bool
	// MaxBody, ReplayWindow and Debounce override the defaults.
	MaxBody      int64
	ReplayWindow time.Duration
	Debounce     time.Duration
}

// WebhookReceiver is a Source that also serves POST /api/v1/webhooks/<name>
// and runs a background fetcher.
type WebhookReceiver interface {
	Receiver
	// Run fetches the records webhooks named until ctx ends.
	Run(ctx context.Context)
}

// WebhookPath is the route of a source's webhooks.
func WebhookPath(name string) string { return "/api/v1/webhooks/" + name }

// WithWebhooks makes src (built by HelpdeskSource or BillingSource) also
// take the vendor's signed webhooks. With an empty secret it returns src
// unchanged: webhooks are off unless a secret is set.
func (e Env) WithWebhooks(src Source, secret string, v WebhookVendor) (Source, error) {
	if secret == "" || src == nil {
		return src, nil
	}
	p, ok := src.(*pull)
	if !ok {
		return nil, errors.New("webhooks need a pull source")
	}
	if v.ParseRequest == nil && v.Parse != nil {
		parse := v.Parse
		v.ParseRequest = func(_ http.Header, body []byte) (WebhookEvent, error) { return parse(body) }
	}
	if v.Verifier == nil || v.ParseRequest == nil || v.Fetch == nil {
		return nil, errors.New("webhook vendor without verifier, parser or fetch")
	}
	if v.Batch <= 0 {
		v.Batch = 100
	}
	if v.MaxBody <= 0 {
		v.MaxBody = DefaultWebhookMaxBody
	}
	if v.ReplayWindow <= 0 {
		v.ReplayWindow = DefaultWebhookReplayWindow
	}
	if v.Debounce <= 0 {
		v.Debounce = DefaultWebhookDebounce
	}
	return &hooked{pull: p, d: e.Deps, v: v, seen: map[string]time.Time{}, pending: map[string]int{}, kick: make(chan struct{}, 1)}, nil
}

// hooked is a pull source with a webhook receiver.
type hooked struct {
	*pull
	d Deps
	v WebhookVendor

	mu      sync.Mutex
	seen    map[string]time.Time // delivery keys taken, until they leave the window
	pending map[string]int       // record id → webhooks naming it, not fetched yet
	kick    chan struct{}
}

func (h *hooked) Routes() map[string]http.Handler {
	return map[string]http.Handler{"POST " + WebhookPath(h.d.Name): http.HandlerFunc(h.serve)}
}

func (h *hooked) count(result string, n int) {
	for range n {
		h.d.WebhookResult(result)
	}
}

// serve verifies one webhook and queues the record it names. Refusals say
// nothing of why; the log says it at debug level, never with the body.
func (h *hooked) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.v.MaxBody))
	if err != nil {
		h.count(WebhookRejected, 1)
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			h.d.Logger.Debug("webhook rejected", "why", "body over the limit", "limit", h.v.MaxBody)
			http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	dl, err := h.v.Verifier.Verify(r.Header, body)
	if err != nil {
		h.reject(w, "signature", err)
		return
	}
	ev, err := h.v.ParseRequest(r.Header, body)
	if err != nil {
		h.count(WebhookRejected, 1)
		h.d.Logger.Debug("webhook rejected", "why", "not the vendor's webhook shape", "err", err)
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	now := h.d.Now()
	at := dl.Signed
	if at.IsZero() {
		at = ev.At
	}
	if !h.v.Untimed && (at.IsZero() || now.Sub(at).Abs() > h.v.ReplayWindow) {
		h.reject(w, "timestamp outside the replay window", nil)
		return
	}
	h.mu.Lock()
	for k, t := range h.seen {
		if now.Sub(t) > 2*h.v.ReplayWindow {
			delete(h.seen, k)
		}
	}
	_, repeat := h.seen[dl.Key]
	if dl.Key != "" && !repeat && len(h.seen) < maxPendingWebhooks {
		h.seen[dl.Key] = now // beyond the bound, repeats are fetched again: harmless
	}
	full := len(h.pending) >= maxPendingWebhooks && h.pending[ev.ID] == 0
	queue := !repeat && ev.ID != "" && !full
	if queue {
		h.pending[ev.ID]++
	}
	h.mu.Unlock()
	if !queue {
		h.count(WebhookIgnored, 1)
		w.WriteHeader(http.StatusOK)
		return
	}
	select {
	case h.kick <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusOK)
}

func (h *hooked) reject(w http.ResponseWriter, why string, err error) {
	h.count(WebhookRejected, 1)
	h.d.Logger.Debug("webhook rejected", "why", why, "err", err)
	http.Error(w, "Unauthorized", http.StatusUnauthorized)
}

// Run waits for queued records, lets a burst gather for the debounce
// time, then fetches them in batches, each under the source's lock (never
// beside a sync or a commit of the poller). A fetch that fails puts its
// ids back and is tried again after a back-off; the poll reconciles
// meanwhile.
func (h *hooked) Run(ctx context.Context) {
	backoff := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		}
		if !sleep(ctx, h.v.Debounce) {
			return
		}
		if err := h.flush(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			h.d.Logger.Warn("webhook fetch failed; retrying", "err", err, "in", backoff)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, time.Minute)
			select {
			case h.kick <- struct{}{}:
			default:
			}
			continue
		}
		backoff = time.Second
	}
}

// flush fetches every pending record, a batch at a time.
func (h *hooked) flush(ctx context.Context) error {
	h.mu.Lock()
	pending := h.pending
	h.pending = map[string]int{}
	h.mu.Unlock()
	ids := make([]string, 0, len(pending))
	for id := range pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i := 0; i < len(ids); i += h.v.Batch {
		chunk := ids[i:min(i+h.v.Batch, len(ids))]
		h.serial.Lock()
		found, err := h.v.Fetch(ctx, chunk)
		h.serial.Unlock()
		if err != nil {
			h.mu.Lock()
			for _, id := range ids[i:] {
				h.pending[id] += pending[id]
			}
			h.mu.Unlock()
			return err
		}
		for _, id := range chunk {
			n := pending[id]
			if slices.Contains(found, id) {
				h.count(WebhookAccepted, n)
			} else {
				h.count(WebhookIgnored, n)
			}
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// HMACEqual reports, in constant time, whether got is the MAC of the
// parts with key under hash h.
func HMACEqual(h func() hash.Hash, key []byte, got []byte, parts ...[]byte) bool {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return hmac.Equal(m.Sum(nil), got)
}

// HMAC is the MAC of the parts with key under hash h (for fakes that sign).
func HMAC(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// RecentIDs remembers the ids of the latest records a source applied (by
// poll or webhook), so that a webhook fetch that runs the incremental
// sync can tell the records the vendor knew. It is safe for concurrent
// use.
type RecentIDs struct {
	mu    sync.Mutex
	ids   map[string]bool
	order []string
}

const recentIDsMax = 50_000

// Add notes ids.
func (r *RecentIDs) Add(ids ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	for _, id := range ids {
		if r.ids[id] {
			continue
		}
		r.ids[id] = true
		r.order = append(r.order, id)
	}
	for len(r.order) > recentIDsMax {
		delete(r.ids, r.order[0])
		r.order = r.order[1:]
	}
}

// Has reports whether id was noted (and not forgotten since); false on a
// nil set.
func (r *RecentIDs) Has(id string) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

// SyncFetch is the webhook Fetch of a vendor whose incremental listing
// shows a change at once: it runs the source's own sync, which reads
// every record changed since the cursor (the webhook's among them), a
// page of up to 100 a request, and applies them exactly as the poll does,
// cursor included. It returns the ids the listing brought (this time or
// lately).
//
// Its vendors' Batch is SyncFetchBatch: one sync serves any number of ids.
func (d Deps) SyncFetch(s Syncer) func(ctx context.Context, ids []string) ([]string, error) {
	return func(ctx context.Context, ids []string) ([]string, error) {
		if err := s.Sync(ctx); err != nil {
			return nil, err
		}
		var found []string
		for _, id := range ids {
			if d.Recent.Has(id) {
				found = append(found, id)
			}
		}
		return found, nil
	}
}

// SyncFetchBatch is the Batch of a vendor fetching with SyncFetch: one
// listing takes the ids of a whole debounce window.
const SyncFetchBatch = 10_000

// SecretHeaderVendor is the WebhookVendor of a vendor whose webhooks carry
// a shared secret in header (verified by SecretHeader, so Untimed) and
// whose listing shows a change at once (fetched by SyncFetch of s).
func (d Deps) SecretHeaderVendor(header, secret string, parse func(body []byte) (WebhookEvent, error), s Syncer) WebhookVendor {
	return WebhookVendor{
		Verifier: SecretHeader{Header: header, Secret: []byte(secret)},
		Parse:    parse,
		Fetch:    d.SyncFetch(s),
		Batch:    SyncFetchBatch,
		Untimed:  true,
	}
}

// SecretHeader is the Verifier of a vendor whose webhooks sign nothing
// but let the sender add a header (Freshdesk's automations, eDesk's and
// Udesk's HTTP notifications): the header carries a shared secret, compared
// in constant time. It carries no time and no delivery id, so its vendor
// is Untimed.
type SecretHeader struct {
	Header string
	Secret []byte
}

// Verify implements Verifier.
func (v SecretHeader) Verify(h http.Header, _ []byte) (Delivery, error) {
	got := h.Get(v.Header)
	if got == "" || len(v.Secret) == 0 || subtle.ConstantTimeCompare([]byte(got), v.Secret) != 1 {
		return Delivery{}, ErrBadSignature
	}
	return Delivery{}, nil
}

// WebhookTicketID reads a positive integer ticket id (a JSON number or
// string) for a vendor's webhook parser; a nil raw names nothing.
func WebhookTicketID(vendor string, raw json.RawMessage) (WebhookEvent, error) {
	if raw == nil || string(raw) == "null" {
		return WebhookEvent{}, nil
	}
	id := IDString(raw)
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		return WebhookEvent{}, fmt.Errorf("%s webhook: ticket id %q is not a positive integer", vendor, LogID(raw))
	}
	return WebhookEvent{ID: id}, nil
}
