package chargebee

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// WebhookRequest builds a Chargebee webhook POST of body to url with the
// basic-auth credentials the site's webhook settings hold.
func WebhookRequest(url, user, password string, body []byte) (*http.Request, error) {
	r, err := fake.PostJSON(url, body, "User-Agent", "ChargeBee")
	if err == nil {
		r.SetBasicAuth(user, password)
	}
	return r, err
}

// EventBody is a Chargebee event as a webhook carries it; content holds
// the event's resources ({"subscription": {…}, "customer": {…}}).
func EventBody(id, eventType string, occurred time.Time, content json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "occurred_at": occurred.Unix(), "source": "admin_console", "object": "event",
		"api_version": "v2", "event_type": eventType, "webhook_status": "scheduled",
		"content": content,
	})
	return b
}

// SendWebhooks makes the fake post an event webhook to url, with basic
// auth user and password, at every later change of a subscription (Put,
// Delete), as a Chargebee site with a webhook does.
func (s *Server) SendWebhooks(url, user, password string) {
	s.hooks.Start(func(body []byte, _ time.Time) (*http.Request, error) {
		return WebhookRequest(url, user, password, body)
	})
}

// Webhooks returns the webhooks sent so far.
func (s *Server) Webhooks() []fake.Delivery { return s.hooks.Webhooks() }

// notifyLocked queues the event of a change; the caller holds s.mu.
func (s *Server) notifyLocked(r *record, created bool) {
	if !s.hooks.Sending() {
		return
	}
	typ := "subscription_changed"
	switch {
	case r.s.Deleted:
		typ = "subscription_deleted"
	case created:
		typ = "subscription_created"
	}
	s.evSeq++
	s.hooks.Send(r.s.ID, EventBody(fmt.Sprintf("ev_%016x", s.evSeq), typ, s.now, render(&r.s)))
}
