package udesk

import (
	"net/http"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SecretHeader is the header the callback carries the shared secret in.
const SecretHeader = "X-Cx-Webhook-Secret"

// WebhookRequest builds an event callback POST.
func WebhookRequest(url, secret string, body []byte) (*http.Request, error) {
	return fake.PostJSON(url, body, SecretHeader, secret)
}

// WebhookBody is the event callback of a change of work order id, in
// Udesk's callback envelope {"action": …, "message": {…}}.
func WebhookBody(id int64) []byte {
	return []byte(`{"action":"Ticket_update","message":{"id":` + strconv.FormatInt(id, 10) + `}}`)
}

// SendWebhooks makes the fake post a callback to url, with the shared
// secret header, at every later change of a work order (Put, Touch, Rate).
func (s *Server) SendWebhooks(url, secret string) {
	s.hooks.Start(func(body []byte, _ time.Time) (*http.Request, error) {
		return WebhookRequest(url, secret, body)
	})
}

// Webhooks returns the callbacks sent so far.
func (s *Server) Webhooks() []fake.Delivery { return s.hooks.Webhooks() }

// notifyLocked queues the callback of a change; the caller holds s.mu.
func (s *Server) notifyLocked(id int64) {
	s.hooks.Send(strconv.FormatInt(id, 10), WebhookBody(id))
}
