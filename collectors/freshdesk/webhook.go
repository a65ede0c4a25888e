package freshdesk

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// SecretHeader is the custom header the automation rule's webhook action
// sends the shared secret in (Freshdesk's webhooks sign nothing; their
// automations allow custom headers).
const SecretHeader = "X-Cx-Webhook-Secret"

// Verifier compares the shared-secret header in constant time.
type Verifier struct{ Secret []byte }

// Verify implements source.Verifier.
func (v Verifier) Verify(h http.Header, _ []byte) (source.Delivery, error) {
	got := h.Get(SecretHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), v.Secret) != 1 {
		return source.Delivery{}, source.ErrBadSignature
	}
	return source.Delivery{}, nil
}

// webhookBody is the JSON the automation's webhook action sends:
// {"ticket_id": "{{ticket.id}}"}, or Freshdesk's "simple" encoding of the
// same placeholder, {"freshdesk_webhook": {"ticket_id": …}}.
type webhookBody struct {
	TicketID json.RawMessage `json:"ticket_id"`
	Wrapped  *struct {
		TicketID json.RawMessage `json:"ticket_id"`
	} `json:"freshdesk_webhook"`
}

// ParseWebhook reads the ticket id the webhook names.
func ParseWebhook(body []byte) (source.WebhookEvent, error) {
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return source.WebhookEvent{}, fmt.Errorf("freshdesk webhook: %w", err)
	}
	raw := b.TicketID
	if raw == nil && b.Wrapped != nil {
		raw = b.Wrapped.TicketID
	}
	if raw == nil {
		return source.WebhookEvent{}, nil // not about a ticket
	}
	id := source.IDString(raw)
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		return source.WebhookEvent{}, fmt.Errorf("freshdesk webhook: ticket id %q is not a positive integer", source.LogID(raw))
	}
	return source.WebhookEvent{ID: id}, nil
}

// WebhookVendor is Freshdesk's part of the kit's webhook receiver: a
// webhook makes the source run its sync (tickets updated since the
// cursor, with stats; ratings; deleted tickets), Deps.SyncFetch.
func (c *Syncer) WebhookVendor(secret string) source.WebhookVendor {
	return source.WebhookVendor{
		Verifier: Verifier{Secret: []byte(secret)},
		Parse:    ParseWebhook,
		Fetch:    c.o.SyncFetch(c),
		Batch:    10_000,
		Untimed:  true,
	}
}
