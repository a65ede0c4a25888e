package helpscout

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// Webhook headers, as Help Scout sends them.
const (
	SignatureHeader = "X-HelpScout-Signature"
	EventHeader     = "X-HelpScout-Event"
)

// Sign returns the X-HelpScout-Signature of body: base64 HMAC-SHA1 with
// the webhook's secret key.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// WebhookRequest builds a signed webhook POST of event with body to url.
func WebhookRequest(url, secret, event string, body []byte) (*http.Request, error) {
	return fake.PostJSON(url, body, EventHeader, event, SignatureHeader, Sign(secret, body))
}

// SendWebhooks makes the fake post a signed convo.* webhook, whose body is
// the conversation, to url at every later change of a conversation, as a
// Help Scout webhook subscribed to the conversation events does.
func (s *Server) SendWebhooks(url, secret string) {
	s.hooks.Start(func(body []byte, _ time.Time) (*http.Request, error) {
		var c struct {
			Event string `json:"_event"`
		}
		_ = json.Unmarshal(body, &c)
		return WebhookRequest(url, secret, c.Event, body)
	})
}

// Webhooks returns the webhooks sent so far.
func (s *Server) Webhooks() []fake.Delivery { return s.hooks.Webhooks() }

// notifyLocked queues the webhook of a change; the caller holds s.mu. The
// event travels to the sender in the body's "_event" key, which the
// request leaves in (Help Scout's bodies carry extra keys too).
func (s *Server) notifyLocked(r *record, created bool) {
	if !s.hooks.Sending() {
		return
	}
	event := "convo.updated"
	switch {
	case created:
		event = "convo.created"
	case r.c.State == "deleted":
		event = "convo.deleted"
	}
	c := s.conversationJSON(r, false)
	c["_event"] = event
	b, _ := json.Marshal(c)
	s.hooks.Send(strconv.FormatInt(r.c.ID, 10), b)
}

// Close stops the server and its webhooks.
func (s *Server) Close() {
	s.Server.Close()
	s.hooks.CloseWebhooks()
}
