package fake

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// Delivery is one webhook a fake sent.
type Delivery struct {
	// ID names what the webhook is about (a record or event id).
	ID string
	// At is when it was sent (real clock).
	At time.Time
	// Status is the receiver's answer; 0 for a transport error.
	Status int
	// Body is what was sent.
	Body []byte
}

// Webhooks sends a fake's webhooks, in order, from one goroutine, as a
// vendor's webhook subscription does: Send queues and returns at once. A
// nil *Webhooks sends nothing. It is safe for concurrent use.
type Webhooks struct {
	request func(body []byte, at time.Time) (*http.Request, error)
	queue   chan queued
	log     RequestLog[Delivery]
	once    sync.Once
	done    chan struct{}
}

type queued struct {
	id   string
	body []byte
}

// NewWebhooks starts a sender; request builds the signed request of a
// body at a time (real clock).
func NewWebhooks(request func(body []byte, at time.Time) (*http.Request, error)) *Webhooks {
	w := &Webhooks{request: request, queue: make(chan queued, 100_000), done: make(chan struct{})}
	go w.run()
	return w
}

// Send queues a webhook about id; a full queue drops it, as a failing
// delivery would.
func (w *Webhooks) Send(id string, body []byte) {
	if w == nil {
		return
	}
	select {
	case w.queue <- queued{id, body}:
	default:
	}
}

// Deliveries returns the webhooks sent so far (nil for a nil sender).
func (w *Webhooks) Deliveries() []Delivery {
	if w == nil {
		return nil
	}
	return w.log.All()
}

// Close stops sending.
func (w *Webhooks) Close() {
	if w != nil {
		w.once.Do(func() { close(w.done) })
	}
}

func (w *Webhooks) run() {
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		select {
		case <-w.done:
			return
		case q := <-w.queue:
			now := time.Now()
			d := Delivery{ID: q.id, At: now, Body: q.body}
			if req, err := w.request(q.body, now); err == nil {
				if resp, err := client.Do(req); err == nil {
					d.Status = resp.StatusCode
					resp.Body.Close()
				}
			}
			w.log.Add(d)
		}
	}
}

// PostJSON builds a webhook POST of a JSON body to url with the given
// headers, name and value by turns; a header with an empty value is not
// sent, and a Content-Type given replaces application/json.
func PostJSON(url string, body []byte, headers ...string) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			r.Header.Set(headers[i], headers[i+1])
		}
	}
	return r, nil
}

// WebhookSender is the webhook side every fake embeds: off until Start,
// then one Webhooks sender. It has its own lock, so a fake may Send while
// holding its own.
type WebhookSender struct {
	mu    sync.Mutex
	hooks *Webhooks
}

// Start makes the fake send its webhooks, each request built by request.
func (s *WebhookSender) Start(request func(body []byte, at time.Time) (*http.Request, error)) {
	w := NewWebhooks(request)
	s.mu.Lock()
	s.hooks = w
	s.mu.Unlock()
}

// Sending reports whether Start was called: a fake skips building bodies
// nobody is sent.
func (s *WebhookSender) Sending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hooks != nil
}

// Send queues a webhook about id; nothing before Start.
func (s *WebhookSender) Send(id string, body []byte) {
	s.mu.Lock()
	w := s.hooks
	s.mu.Unlock()
	w.Send(id, body)
}

// Webhooks returns the webhooks sent so far.
func (s *WebhookSender) Webhooks() []Delivery {
	s.mu.Lock()
	w := s.hooks
	s.mu.Unlock()
	return w.Deliveries()
}

// CloseWebhooks stops sending.
func (s *WebhookSender) CloseWebhooks() {
	s.mu.Lock()
	w := s.hooks
	s.mu.Unlock()
	w.Close()
}
