package paddle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// SignatureHeader is the header of Paddle's webhook signature.
const SignatureHeader = "Paddle-Signature"

// Verifier checks Paddle's signature: "ts=<unix>;h1=<hex>" (more h1 while
// a secret is being rotated), h1 being HMAC-SHA256(secret, ts + ":" + body).
type Verifier struct{ Secret []byte }

// Verify implements source.Verifier.
func (v Verifier) Verify(h http.Header, body []byte) (source.Delivery, error) {
	header := h.Get(SignatureHeader)
	if len(header) > 4096 {
		return source.Delivery{}, source.ErrBadSignature
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "ts":
			if n, err := strconv.ParseInt(val, 10, 64); err == nil && n > 0 && ts == "" {
				ts = val
			}
		case "h1":
			if b, err := hex.DecodeString(val); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == "" {
		return source.Delivery{}, source.ErrBadSignature
	}
	for _, s := range sigs {
		if source.HMACEqual(sha256.New, v.Secret, s, []byte(ts+":"), body) {
			n, _ := strconv.ParseInt(ts, 10, 64)
			return source.Delivery{Signed: time.Unix(n, 0), Key: header}, nil
		}
	}
	return source.Delivery{}, source.ErrBadSignature
}

// notification is what the exporter reads of a webhook.
type notification struct {
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Data      struct {
		ID string `json:"id"`
	} `json:"data"`
}

// ParseWebhook reads the subscription a subscription.* notification
// names; "" for other event types.
func ParseWebhook(body []byte) (source.WebhookEvent, error) {
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		return source.WebhookEvent{}, fmt.Errorf("paddle webhook: %w", err)
	}
	if n.EventID == "" || n.EventType == "" {
		return source.WebhookEvent{}, fmt.Errorf("paddle webhook: not a notification")
	}
	if !strings.HasPrefix(n.EventType, "subscription.") {
		return source.WebhookEvent{}, nil
	}
	return source.WebhookEvent{ID: n.Data.ID}, nil
}

// WebhookVendor is Paddle's part of the kit's webhook receiver: a webhook
// makes the source read the event log from its cursor, the poll's own
// path (up to PageSize events a request).
func (c *Syncer) WebhookVendor(secret string) source.WebhookVendor {
	return source.WebhookVendor{
		Verifier: Verifier{Secret: []byte(secret)},
		Parse:    ParseWebhook,
		Fetch:    c.o.SyncFetch(c),
		Batch:    source.SyncFetchBatch,
	}
}
