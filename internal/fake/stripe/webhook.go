package stripe

import (
	"bytes"
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
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	r.Header.Set(SignatureHeader, Sign(secret, t, body))
	return r, nil
}

// Delivery is one webhook the fake sent.
type Delivery struct {
	Event  string
	At     time.Time // real clock
	Status int       // the receiver's answer; 0 for a transport error
	Body   []byte
}

type webhooks struct {
	url, secret string
	queue       chan []byte
	log         fake.RequestLog[Delivery]
}

// SendWebhooks makes the fake post every later event to url, signed with
// secret, as a Stripe webhook endpoint subscribed to the subscription
// events is sent them: asynchronously, in order.
func (s *Server) SendWebhooks(url, secret string) {
	w := &webhooks{url: url, secret: secret, queue: make(chan []byte, 100_000)}
	s.mu.Lock()
	s.hooks = w
	s.mu.Unlock()
	go w.run()
}

// Webhooks returns the webhooks sent so far.
func (s *Server) Webhooks() []Delivery {
	s.mu.Lock()
	w := s.hooks
	s.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.log.All()
}

// notifyLocked queues the webhook of an event; the caller holds s.mu.
func (s *Server) notifyLocked(e *event) {
	if s.hooks == nil {
		return
	}
	b, _ := json.Marshal(e.render())
	select {
	case s.hooks.queue <- b:
	default:
	}
}

func (w *webhooks) run() {
	client := &http.Client{Timeout: 10 * time.Second}
	for body := range w.queue {
		var ev struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &ev)
		now := time.Now()
		d := Delivery{Event: ev.ID, At: now, Body: body}
		if req, err := WebhookRequest(w.url, w.secret, now, body); err == nil {
			if resp, err := client.Do(req); err == nil {
				d.Status = resp.StatusCode
				resp.Body.Close()
			}
		}
		w.log.Add(d)
	}
}
