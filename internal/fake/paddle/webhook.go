package paddle

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

// SignatureHeader is the header of Paddle's webhook signature.
const SignatureHeader = "Paddle-Signature"

// Sign returns the Paddle-Signature header of body signed at t:
// "ts=<unix>;h1=<hex HMAC-SHA256(secret, "<unix>:" + body)>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + ":"))
	m.Write(body)
	return "ts=" + ts + ";h1=" + hex.EncodeToString(m.Sum(nil))
}

// WebhookRequest builds a notification POST of body to url, signed at t.
func WebhookRequest(url, secret string, t time.Time, body []byte) (*http.Request, error) {
	return fake.PostJSON(url, body, SignatureHeader, Sign(secret, t, body))
}

// SendWebhooks makes the fake post a signed notification to url for every
// later event, as a Paddle notification destination subscribed to the
// subscription events does.
func (s *Server) SendWebhooks(url, secret string) {
	s.hooks.Start(func(body []byte, at time.Time) (*http.Request, error) {
		return WebhookRequest(url, secret, at, body)
	})
}

// Webhooks returns the notifications sent so far.
func (s *Server) Webhooks() []fake.Delivery { return s.hooks.Webhooks() }

// notifyLocked queues the notification of an event; the caller holds s.mu.
func (s *Server) notifyLocked(e *event) {
	if !s.hooks.Sending() {
		return
	}
	s.ntf++
	b, _ := json.Marshal(map[string]any{"event_id": e.id, "event_type": e.typ, "occurred_at": ts(e.at),
		"notification_id": "ntf_" + strconv.Itoa(s.ntf), "data": e.data})
	var sub struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(e.data, &sub)
	s.hooks.Send(sub.ID, b)
}
