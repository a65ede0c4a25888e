package helpscout

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// Webhook headers (Help Scout's Webhooks app).
const (
	SignatureHeader = "X-HelpScout-Signature"
	EventHeader     = "X-HelpScout-Event"
)

// Verifier checks Help Scout's signature: base64(HMAC-SHA1(the webhook's
// secret key, body)). Help Scout signs no time; the signature names the
// delivery for repeat detection.
type Verifier struct{ Secret []byte }

// Verify implements source.Verifier.
func (v Verifier) Verify(h http.Header, body []byte) (source.Delivery, error) {
	s := h.Get(SignatureHeader)
	sig, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(sig) != sha1.Size || !source.HMACEqual(sha1.New, v.Secret, sig, body) {
		return source.Delivery{}, source.ErrBadSignature
	}
	return source.Delivery{Key: s}, nil
}

// ParseWebhook reads the conversation a convo.* event names (the body is
// the conversation); "" for other events (customer.*, satisfaction…).
func ParseWebhook(h http.Header, body []byte) (source.WebhookEvent, error) {
	var c struct {
		ID json.Number `json:"id"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return source.WebhookEvent{}, fmt.Errorf("help scout webhook: %w", err)
	}
	if !strings.HasPrefix(h.Get(EventHeader), "convo.") {
		return source.WebhookEvent{}, nil
	}
	if n, err := c.ID.Int64(); err != nil || n <= 0 {
		return source.WebhookEvent{}, fmt.Errorf("help scout webhook: conversation without a positive id")
	}
	return source.WebhookEvent{ID: c.ID.String()}, nil
}

// WebhookVendor is Help Scout's part of the kit's webhook receiver: a
// webhook makes the source list the conversations modified since its
// cursor (Deps.SyncFetch).
func (c *Syncer) WebhookVendor(secret string) source.WebhookVendor {
	return source.WebhookVendor{
		Verifier:     Verifier{Secret: []byte(secret)},
		ParseRequest: ParseWebhook,
		Fetch:        c.o.SyncFetch(c),
		Batch:        source.SyncFetchBatch,
		Untimed:      true,
	}
}
