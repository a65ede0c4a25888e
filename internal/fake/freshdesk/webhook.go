package freshdesk

import (
	"net/http"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SecretHeader is the custom header an automation rule's webhook sends the
// shared secret in.
const SecretHeader = "X-Cx-Webhook-Secret"

// WebhookRequest builds an automation webhook POST naming ticket id.
func WebhookRequest(url, secret string, body []byte) (*http.Request, error) {
	return fake.PostJSON(url, body, SecretHeader, secret)
}

// WebhookBody is the body of an automation webhook about ticket id, in
// Freshdesk's "simple" encoding of {"ticket_id": "{{ticket.id}}"}.
func WebhookBody(id int64) []byte {
	return []byte(`{"freshdesk_webhook":{"ticket_id":"` + strconv.FormatInt(id, 10) + `"}}`)
}

// SendWebhooks makes the fake post an automation webhook to url, with the
// shared secret header, at every later change of a ticket (Put, Delete,
// Touch), as an automation rule "ticket is created or updated → trigger
// webhook" does.
func (s *Server) SendWebhooks(url, secret string) {
	s.hooks.Start(func(body []byte, _ time.Time) (*http.Request, error) {
		return WebhookRequest(url, secret, body)
	})
}

// Webhooks returns the webhooks sent so far.
func (s *Server) Webhooks() []fake.Delivery { return s.hooks.Webhooks() }

// notifyLocked queues the webhook of a change; the caller holds s.mu.
func (s *Server) notifyLocked(id int64) {
	s.hooks.Send(strconv.FormatInt(id, 10), WebhookBody(id))
}
