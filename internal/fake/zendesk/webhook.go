package zendesk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

// ShowManyPath is GET /api/v2/tickets/show_many.json?ids=1,2,3, which
// takes up to 100 ids, leaves out the ones it does not know and side-loads
// metric_sets with include=metric_sets. Its tickets carry no
// generated_timestamp (an export field).
const ShowManyPath = "/api/v2/tickets/show_many.json"

const showManyMax = 100

// Webhook signature headers, as Zendesk sends them.
const (
	SignatureHeader          = "X-Zendesk-Webhook-Signature"
	SignatureTimestampHeader = "X-Zendesk-Webhook-Signature-Timestamp"
	InvocationHeader         = "X-Zendesk-Webhook-Invocation-Id"
)

// Sign returns Zendesk's webhook signature of body at timestamp ts:
// base64(HMAC-SHA256(secret, ts + body)).
func Sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// WebhookBody is an event-subscription webhook about ticket id, as Zendesk
// sends it; detail carries the ticket's status at the time, which a
// receiver must not trust (it only names the ticket).
func WebhookBody(id int64, typ, status string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"account_id": 9000001,
		"detail": map[string]any{
			"id": strconv.FormatInt(id, 10), "status": strings.ToUpper(status),
			"updated_at": at.UTC().Format(zendeskTime),
		},
		"event":                 map[string]any{},
		"id":                    fmt.Sprintf("01J%013d%010d", at.UnixMilli(), id),
		"subject":               "zen:ticket:" + strconv.FormatInt(id, 10),
		"time":                  at.UTC().Format(time.RFC3339Nano),
		"type":                  "zen:event-type:ticket." + typ,
		"zendesk_event_version": "2022-11-06",
	})
	return b
}

// WebhookRequest builds a signed webhook POST to url, signed at ts (RFC
// 3339, as Zendesk sends it) with secret.
func WebhookRequest(url, secret string, ts time.Time, invocation string, body []byte) (*http.Request, error) {
	stamp := ts.UTC().Format(time.RFC3339)
	return fake.PostJSON(url, body, "User-Agent", "Zendesk Webhook", SignatureHeader, Sign(secret, stamp, body),
		SignatureTimestampHeader, stamp, InvocationHeader, invocation)
}

// SendWebhooks makes the fake post a signed webhook to url for every later
// change of a ticket (Put, Delete, Touch), as a Zendesk webhook
// subscribed to the ticket events does. Deliveries are asynchronous and in
// order; Webhooks lists them.
func (s *Server) SendWebhooks(url, secret string) {
	var seq atomic.Uint64
	s.hooks.Start(func(body []byte, at time.Time) (*http.Request, error) {
		return WebhookRequest(url, secret, at, fmt.Sprintf("inv-%d-%d", at.UnixNano(), seq.Add(1)), body)
	})
}

// Webhooks returns the webhooks sent so far.
func (s *Server) Webhooks() []fake.Delivery { return s.hooks.Webhooks() }

// notifyLocked queues the webhook of a change; the caller holds s.mu.
func (s *Server) notifyLocked(t *Ticket, created bool) {
	if !s.hooks.Sending() {
		return
	}
	typ := "status_changed"
	if created {
		typ = "created"
	}
	s.hooks.Send(strconv.FormatInt(t.ID, 10), WebhookBody(t.ID, typ, t.Status, time.Now()))
}

// showMany answers GET show_many.
func (s *Server) showMany(r *http.Request) response {
	q := r.URL.Query()
	var ids []int64
	for _, f := range strings.Split(q.Get("ids"), ",") {
		if f == "" {
			continue
		}
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return jsonError(http.StatusBadRequest, "InvalidValue", "ids must be a comma-separated list of integers")
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 || len(ids) > showManyMax {
		return jsonError(http.StatusBadRequest, "InvalidValue", "ids must name 1 to 100 tickets")
	}
	withMetrics := strings.Contains(","+q.Get("include")+",", ",metric_sets,")
	base := s.URL
	if r.Host != "" {
		base = "http://" + r.Host
	}
	s.mu.Lock()
	page := struct {
		Tickets    []ticketJSON     `json:"tickets"`
		MetricSets *[]metricSetJSON `json:"metric_sets,omitempty"`
		NextPage   *string          `json:"next_page"`
		PrevPage   *string          `json:"previous_page"`
		Count      int              `json:"count"`
	}{Tickets: []ticketJSON{}}
	var ms []metricSetJSON
	for _, id := range ids {
		rec, ok := s.tickets[id]
		if !ok || rec.t.Status == "deleted" {
			continue // show_many leaves out unknown and deleted tickets
		}
		page.Tickets = append(page.Tickets, rec.t.toJSON(base, 0))
		ms = append(ms, rec.t.metricSetJSON(base))
	}
	s.mu.Unlock()
	if withMetrics {
		if ms == nil {
			ms = []metricSetJSON{}
		}
		page.MetricSets = &ms
	}
	page.Count = len(page.Tickets)
	b, err := json.Marshal(page)
	if err != nil {
		return jsonError(http.StatusInternalServerError, "InternalError", err.Error())
	}
	return response{Status: http.StatusOK, Header: jsonHeader(), Body: b}
}
