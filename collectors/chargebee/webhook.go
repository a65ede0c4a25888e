package chargebee

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// Verifier checks the basic-auth credentials Chargebee sends with each
// webhook (Settings → Webhooks → "Protect webhook URL with basic
// authentication"). Secret is "user:password"; a secret without a colon
// is the password, whatever the user. Chargebee signs nothing else, so the
// replay window uses the event's occurred_at and repeats its id.
type Verifier struct{ Secret []byte }

// Verify implements source.Verifier.
func (v Verifier) Verify(h http.Header, _ []byte) (source.Delivery, error) {
	user, pass, ok := (&http.Request{Header: h}).BasicAuth()
	if !ok {
		return source.Delivery{}, source.ErrBadSignature
	}
	got := user + ":" + pass
	want := string(v.Secret)
	if !strings.Contains(want, ":") {
		got, want = pass, string(v.Secret)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return source.Delivery{}, source.ErrBadSignature
	}
	return source.Delivery{}, nil
}

// webhookEvent is what the exporter reads of a Chargebee event.
type webhookEvent struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	OccurredAt int64  `json:"occurred_at"`
	EventType  string `json:"event_type"`
	Content    struct {
		Subscription *struct {
			ID string `json:"id"`
		} `json:"subscription"`
	} `json:"content"`
}

// ParseWebhook reads the subscription an event names; "" for events
// without one (customers, invoices…).
func ParseWebhook(body []byte) (source.WebhookEvent, error) {
	var ev webhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return source.WebhookEvent{}, fmt.Errorf("chargebee webhook: %w", err)
	}
	if ev.Object != "event" || ev.ID == "" || ev.OccurredAt <= 0 {
		return source.WebhookEvent{}, fmt.Errorf("chargebee webhook: not an event")
	}
	at := time.Unix(ev.OccurredAt, 0)
	if ev.Content.Subscription == nil || ev.Content.Subscription.ID == "" {
		return source.WebhookEvent{At: at}, nil
	}
	return source.WebhookEvent{ID: ev.Content.Subscription.ID, At: at}, nil
}

// eventKey makes a delivery's repeat key from the event id.
func eventKey(body []byte) string {
	var ev webhookEvent
	_ = json.Unmarshal(body, &ev)
	return ev.ID
}

// WebhookVendor is Chargebee's part of the kit's webhook receiver: a
// webhook makes the source run its incremental listing (updated_at after
// the cursor, 100 a page), which brings the changed subscriptions at once.
func (c *Syncer) WebhookVendor(secret string) source.WebhookVendor {
	v := Verifier{Secret: []byte(secret)}
	return source.WebhookVendor{
		Verifier: source.VerifierFunc(func(h http.Header, body []byte) (source.Delivery, error) {
			d, err := v.Verify(h, body)
			d.Key = eventKey(body)
			return d, err
		}),
		Parse: ParseWebhook,
		Fetch: c.o.SyncFetch(c),
		Batch: source.SyncFetchBatch,
	}
}
