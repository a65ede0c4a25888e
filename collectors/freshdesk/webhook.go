package freshdesk

import (
	"encoding/json"
	"fmt"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// SecretHeader is the custom header the automation rule's webhook action
// sends the shared secret in (Freshdesk's webhooks sign nothing; their
// automations allow custom headers).
const SecretHeader = "X-Cx-Webhook-Secret"

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
	return source.WebhookTicketID("freshdesk", raw) // nil: not about a ticket
}

// WebhookVendor is Freshdesk's part of the kit's webhook receiver: a
// webhook makes the source run its sync (tickets updated since the
// cursor, with stats; ratings; deleted tickets), Deps.SyncFetch.
func (c *Syncer) WebhookVendor(secret string) source.WebhookVendor {
	return c.o.SecretHeaderVendor(SecretHeader, secret, ParseWebhook, c)
}
