package edesk

import (
	"net/http"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SecretHeader is the header the notification carries the shared secret in.
const SecretHeader = "X-Cx-Webhook-Secret"

// WebhookRequest builds a ticket notification POST.
func WebhookRequest(url, secret string, body []byte) (*http.Request, error) {
	return fake.PostJSON(url, body, SecretHeader, secret)
}

// WebhookBody is the notification of a change of ticket id.
func WebhookBody(id int64) []byte {
	return []byte(`{"event":"ticket.updated","ticket_id":` + strconv.FormatInt(id, 10) + `}`)
}

// SendWebhooks makes the fake post a notification to url, with the shared
// secret header, at every later change of a ticket (Put, AddItem, Reply,
// SetStatus, Rate, Touch).
func (s *Server) SendWebhooks(url, secret string) {
	s.hooks.Start(func(body []byte, _ time.Time) (*http.Request, error) {
		return WebhookRequest(url, secret, body)
	})
}

// Webhooks returns the notifications sent so far.
func (s *Server) Webhooks() []fake.Delivery { return s.hooks.Webhooks() }

// notifyLocked queues the notification of a change; the caller holds s.mu.
func (s *Server) notifyLocked(id int64) {
	s.hooks.Send(strconv.FormatInt(id, 10), WebhookBody(id))
}
