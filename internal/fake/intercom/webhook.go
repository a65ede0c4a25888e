package intercom

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SignatureHeader is the header of Intercom's webhook signature.
const SignatureHeader = "X-Hub-Signature"

// Sign returns the X-Hub-Signature of body: "sha1=" + hex HMAC-SHA1 with
// the app's client secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// WebhookRequest builds a signed notification POST of body to url.
func WebhookRequest(url, secret string, body []byte) (*http.Request, error) {
	return fake.PostJSON(url, body, "User-Agent", "intercom-parrot-service-sidekiq/1.0", SignatureHeader, Sign(secret, body))
}

// NotificationBody is a notification_event about conversation id.
func NotificationBody(notif, topic, id string, created time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"type": "notification_event", "app_id": "fakeapp", "id": notif, "topic": topic,
		"delivery_status": "pending", "delivery_attempts": 1, "delivered_at": 0,
		"first_sent_at": created.Unix(), "created_at": created.Unix(), "self": nil, "links": map[string]any{},
		"data": map[string]any{"type": "notification_event_data",
			"item": map[string]any{"type": "conversation", "id": id}},
	})
	return b
}

// SendWebhooks makes the fake post a signed notification to url at every
// later change of a conversation (Put), as an Intercom app subscribed to
// the conversation topics does.
func (s *Server) SendWebhooks(url, secret string) {
	s.hooks.Start(func(body []byte, _ time.Time) (*http.Request, error) {
		return WebhookRequest(url, secret, body)
	})
}

// Webhooks returns the notifications sent so far.
func (s *Server) Webhooks() []fake.Delivery { return s.hooks.Webhooks() }

// notifyLocked queues the notification of a change; the caller holds s.mu.
func (s *Server) notifyLocked(c *Conversation, created bool) {
	if !s.hooks.Sending() {
		return
	}
	topic := "conversation.admin.replied"
	switch {
	case created:
		topic = "conversation.user.created"
	case c.State == "closed":
		topic = "conversation.admin.closed"
	case c.State == "snoozed":
		topic = "conversation.admin.snoozed"
	}
	s.notif++
	s.hooks.Send(c.ID, NotificationBody("notif_"+strconv.FormatUint(s.notif, 10), topic, c.ID, time.Now()))
}
