package stripe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// SignatureHeader is the header of Stripe's webhook signature.
const SignatureHeader = "Stripe-Signature"

// Verifier checks Stripe's signature: the header's t=<unix> and one or
// more v1=<hex HMAC-SHA256(secret, "<t>." + body)> (several while a
// secret is being rolled); other schemes (v0) are ignored.
type Verifier struct{ Secret []byte }

// Verify implements source.Verifier.
func (v Verifier) Verify(h http.Header, body []byte) (source.Delivery, error) {
	header := h.Get(SignatureHeader)
	ts, sigs, ok := parseSignature(header)
	if !ok {
		return source.Delivery{}, source.ErrBadSignature
	}
	for _, s := range sigs {
		if source.HMACEqual(sha256.New, v.Secret, s, []byte(ts+"."), body) {
			n, _ := strconv.ParseInt(ts, 10, 64)
			return source.Delivery{Signed: time.Unix(n, 0), Key: header}, nil
		}
	}
	return source.Delivery{}, source.ErrBadSignature
}

// parseSignature splits a Stripe-Signature header into its timestamp and
// its v1 signatures.
func parseSignature(header string) (ts string, sigs [][]byte, ok bool) {
	if len(header) > 4096 {
		return "", nil, false
	}
	for _, part := range strings.Split(header, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			continue
		}
		switch k {
		case "t":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && ts == "" {
				ts = v
			}
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	return ts, sigs, ts != "" && len(sigs) > 0
}

// webhookEvent is what the exporter reads of an event webhook.
type webhookEvent struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
}

// ParseWebhook reads the event id of a subscription event; "" for other
// event types. The event's data is not used: the events list is.
func ParseWebhook(body []byte) (source.WebhookEvent, error) {
	var ev webhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return source.WebhookEvent{}, fmt.Errorf("stripe webhook: %w", err)
	}
	if ev.Object != "event" || ev.ID == "" {
		return source.WebhookEvent{}, fmt.Errorf("stripe webhook: not an event")
	}
	if !slices.Contains(EventTypes, ev.Type) {
		return source.WebhookEvent{}, nil
	}
	return source.WebhookEvent{ID: ev.ID, At: time.Unix(ev.Created, 0)}, nil
}

// seenEvents remembers the ids of the latest events applied, to tell a
// webhook's event that the events list brought from one Stripe does not
// know.
type seenEvents struct {
	mu    sync.Mutex
	ids   map[string]bool
	order []string
}

const seenEventsMax = 20_000

func (s *seenEvents) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[string]bool{}
	}
	if s.ids[id] {
		return
	}
	s.ids[id] = true
	s.order = append(s.order, id)
	if len(s.order) > seenEventsMax {
		delete(s.ids, s.order[0])
		s.order = s.order[1:]
	}
}

func (s *seenEvents) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}

// FetchEvents runs the events sync, which reads the events since the
// cursor 100 a request (a burst of webhooks costs one list page per 100
// events, not a request per webhook) and applies them exactly as the poll
// does, cursor included. It returns the webhook events that have been
// applied.
func (c *Syncer) FetchEvents(ctx context.Context, ids []string) ([]string, error) {
	if err := c.Sync(ctx); err != nil {
		return nil, err
	}
	var found []string
	for _, id := range ids {
		if c.seen.has(id) {
			found = append(found, id)
		}
	}
	return found, nil
}

// WebhookVendor is Stripe's part of the kit's webhook receiver.
func (c *Syncer) WebhookVendor(secret string) source.WebhookVendor {
	return source.WebhookVendor{
		Verifier: Verifier{Secret: []byte(secret)},
		Parse:    ParseWebhook,
		Fetch:    c.FetchEvents,
		Batch:    1000, // one events sync takes them all
	}
}
