package zendesk

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// Webhook headers (developer.zendesk.com, "Verifying webhook authenticity").
const (
	SignatureHeader          = "X-Zendesk-Webhook-Signature"
	SignatureTimestampHeader = "X-Zendesk-Webhook-Signature-Timestamp"
	InvocationHeader         = "X-Zendesk-Webhook-Invocation-Id"
)

// ShowManyPath is the batched ticket read of a webhook's fetch.
const ShowManyPath = "/api/v2/tickets/show_many.json"

// showManyMax is the most ids show_many takes per request.
const showManyMax = 100

// Verifier checks Zendesk's signature: base64(HMAC-SHA256(secret,
// timestamp + body)), the timestamp being the raw header value.
type Verifier struct{ Secret []byte }

// Verify implements source.Verifier.
func (v Verifier) Verify(h http.Header, body []byte) (source.Delivery, error) {
	sig, ts := h.Get(SignatureHeader), h.Get(SignatureTimestampHeader)
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size || ts == "" {
		return source.Delivery{}, source.ErrBadSignature
	}
	if !source.HMACEqual(sha256.New, v.Secret, got, []byte(ts), body) {
		return source.Delivery{}, source.ErrBadSignature
	}
	at, ok := parseTimestamp(ts)
	if !ok {
		return source.Delivery{}, source.ErrBadSignature
	}
	key := h.Get(InvocationHeader)
	if key == "" {
		key = sig
	}
	return source.Delivery{Signed: at, Key: key}, nil
}

// parseTimestamp reads the signature timestamp: ISO 8601 as Zendesk sends
// it, or unix seconds.
func parseTimestamp(ts string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, ts); err == nil {
		return t, true
	}
	if n, err := strconv.ParseInt(ts, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// webhookBody is what the exporter reads of a webhook: an event-subscription
// webhook ("type": "zen:event-type:ticket.…", "detail": {"id": …}), or a
// trigger webhook whose JSON body the admin wrote as {"ticket_id": "{{ticket.id}}"}.
type webhookBody struct {
	Type   string `json:"type"`
	Detail *struct {
		ID json.RawMessage `json:"id"`
	} `json:"detail"`
	TicketID json.RawMessage `json:"ticket_id"`
}

// ParseWebhook reads the ticket id a verified webhook names; "" for events
// about anything else than tickets.
func ParseWebhook(body []byte) (source.WebhookEvent, error) {
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return source.WebhookEvent{}, fmt.Errorf("zendesk webhook: %w", err)
	}
	var raw json.RawMessage
	switch {
	case b.TicketID != nil:
		raw = b.TicketID
	case strings.HasPrefix(b.Type, "zen:event-type:ticket.") && b.Detail != nil:
		raw = b.Detail.ID
	default:
		return source.WebhookEvent{}, nil // not about a ticket
	}
	id := source.IDString(raw)
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		return source.WebhookEvent{}, fmt.Errorf("zendesk webhook: ticket id %q is not a positive integer", source.LogID(raw))
	}
	return source.WebhookEvent{ID: id}, nil
}

// showManyPage is the answer of show_many with metric sets.
type showManyPage struct {
	Tickets    []json.RawMessage `json:"tickets"`
	MetricSets []json.RawMessage `json:"metric_sets"`
}

// FetchTickets reads the tickets by id (show_many with their metric sets,
// 100 a request) and applies them through the engine in one transaction,
// leaving the export's cursor as it is; it returns the ids Zendesk knew.
// A version older than the one stored (the export already applied a
// newer one) is ignored by the engine, so nothing counts twice.
func (c *Syncer) FetchTickets(ctx context.Context, ids []string) ([]string, error) {
	var found []string
	for start := 0; start < len(ids); start += showManyMax {
		chunk := ids[start:min(start+showManyMax, len(ids))]
		u := c.o.BaseURL + ShowManyPath + "?" + url.Values{"ids": {strings.Join(chunk, ",")}, "include": {"metric_sets"}}.Encode()
		page, err := source.FetchPage(c.o.Deps, ShowManyPath, func(raw *showManyPage) error {
			_, err := c.client.GetJSON(ctx, u, raw)
			return err
		}, func(raw *showManyPage) (*Page, error) { return decodeTickets(raw.Tickets, raw.MetricSets), nil })
		if err != nil {
			return found, err
		}
		for _, t := range page.Tickets {
			found = append(found, t.ID)
		}
		// As the export does: a webhook-fetched ticket is labelled by its
		// assignee's and group's names, not their ids.
		c.o.ResolveNames(ctx, page.Tickets)
		for _, r := range page.Rejected {
			if r.ID != "" {
				found = append(found, r.ID)
			}
		}
		if err := c.o.CommitTickets(c.o.Tracker, page.Tickets, source.Page{Rejected: page.Rejected, KeepCursor: true}); err != nil {
			return found, err
		}
	}
	return found, nil
}

// WebhookVendor is Zendesk's part of the kit's webhook receiver.
func (c *Syncer) WebhookVendor(secret string) source.WebhookVendor {
	return source.WebhookVendor{
		Verifier: Verifier{Secret: []byte(secret)},
		Parse:    ParseWebhook,
		Fetch:    c.FetchTickets,
		Batch:    showManyMax,
	}
}
