package stripe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// SignatureHeader is the header of Stripe's webhook signature.
const SignatureHeader = "Stripe-Signature"

// Sign returns the Stripe-Signature header of body signed at t:
// "t=<unix>,v1=<hex HMAC-SHA256(secret, "<unix>." + body)>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// WebhookRequest builds a webhook POST of body to url, signed at t.
func WebhookRequest(url, secret string, t time.Time, body []byte) (*http.Request, error) {
	return fake.PostJSON(url, body, "Content-Type", "application/json; charset=utf-8",
		"User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)", SignatureHeader, Sign(secret, t, body))
}

// SendWebhooks makes the fake post every later event to url, signed with
// secret, as a Stripe webhook endpoint subscribed to the subscription
// events is sent them: asynchronously, in order.
func (s *Server) SendWebhooks(url, secret string) {
	s.hooks.Start(func(body []byte, at time.Time) (*http.Request, error) {
		return WebhookRequest(url, secret, at, body)
	})
}

// Webhooks returns the webhooks sent so far.
func (s *Server) Webhooks() []fake.Delivery { return s.hooks.Webhooks() }

// notifyLocked queues the webhook of an event; the caller holds s.mu.
func (s *Server) notifyLocked(e *event) {
	if !s.hooks.Sending() {
		return
	}
	b, _ := json.Marshal(e.render())
	s.hooks.Send(e.ID, b)
}
