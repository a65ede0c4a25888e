package edesk

import (
	"encoding/json"
	"fmt"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// SecretHeader is the header the notification sends the shared secret in.
// eDesk documents no signed ticket webhook (docs/vendors.md#edesk-webhooks):
// whatever posts the notification (an eDesk app/integration or an
// automation platform on eDesk's events) adds this header.
const SecretHeader = "X-Cx-Webhook-Secret"

// webhookBody is the notification: {"event": "ticket.updated",
// "ticket_id": 123} ("event" is optional), or the same inside "data" as
// event envelopes carry it: {"event": …, "data": {"ticket_id": …}}.
type webhookBody struct {
	Event    string          `json:"event"`
	TicketID json.RawMessage `json:"ticket_id"`
	Data     *struct {
		TicketID json.RawMessage `json:"ticket_id"`
	} `json:"data"`
}

// ParseWebhook reads the ticket id a notification names; one naming no
// ticket is ignored. The body is never read as data.
func ParseWebhook(body []byte) (source.WebhookEvent, error) {
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return source.WebhookEvent{}, fmt.Errorf("edesk webhook: %w", err)
	}
	raw := b.TicketID
	if raw == nil && b.Data != nil {
		raw = b.Data.TicketID
	}
	return source.WebhookTicketID("edesk", raw)
}

// WebhookVendor is eDesk's part of the kit's webhook receiver: a
// notification makes the source run its sync (the tickets changed since
// the cursor's day, with the items of those that changed), through
// Deps.SyncFetch.
func (c *Syncer) WebhookVendor(secret string) source.WebhookVendor {
	return c.o.SecretHeaderVendor(SecretHeader, secret, ParseWebhook, c)
}
