package udesk

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// SecretHeader is the header the notification sends the shared secret in:
// Udesk's event callbacks (事件回调) sign nothing.
const SecretHeader = "X-Cx-Webhook-Secret"

// webhookBody is Udesk's event callback envelope, {"action": "…",
// "message": {…}}: a ticket action (Ticket_create, Ticket_update, …)
// names the work order by message.id. A bare {"ticket_id": …} is taken
// too.
type webhookBody struct {
	Action  string `json:"action"`
	Message *struct {
		ID json.RawMessage `json:"id"`
	} `json:"message"`
	TicketID json.RawMessage `json:"ticket_id"`
}

// ParseWebhook reads the work order a callback names; a callback about
// anything else (Customer_update, ImSubSession_close, …) names nothing and
// is ignored. The body is never read as data.
func ParseWebhook(body []byte) (source.WebhookEvent, error) {
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return source.WebhookEvent{}, fmt.Errorf("udesk webhook: %w", err)
	}
	if b.TicketID != nil {
		return source.WebhookTicketID("udesk", b.TicketID)
	}
	if !strings.HasPrefix(strings.ToLower(b.Action), "ticket_") || b.Message == nil {
		return source.WebhookEvent{}, nil
	}
	if b.Message.ID == nil {
		return source.WebhookEvent{}, fmt.Errorf("udesk webhook: %.40q without message.id", b.Action)
	}
	return source.WebhookTicketID("udesk", b.Message.ID)
}

// WebhookVendor is Udesk's part of the kit's webhook receiver: a callback
// makes the source run its sync (work orders updated since the cursor,
// 100 a page, signed requests within the account's rate), through
// Deps.SyncFetch.
func (c *Syncer) WebhookVendor(secret string) source.WebhookVendor {
	return c.o.SecretHeaderVendor(SecretHeader, secret, ParseWebhook, c)
}
