package intercom

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// SignatureHeader is the header of Intercom's webhook signature.
const SignatureHeader = "X-Hub-Signature"

// Verifier checks Intercom's signature: "sha1=" + hex(HMAC-SHA1(the app's
// client secret, body)). Intercom signs no time: the replay window uses
// the notification's created_at, and its id names the delivery.
type Verifier struct{ Secret []byte }

// Verify implements source.Verifier.
func (v Verifier) Verify(h http.Header, body []byte) (source.Delivery, error) {
	hexSig, ok := strings.CutPrefix(h.Get(SignatureHeader), "sha1=")
	sig, err := hex.DecodeString(hexSig)
	if !ok || err != nil || len(sig) != sha1.Size || !source.HMACEqual(sha1.New, v.Secret, sig, body) {
		return source.Delivery{}, source.ErrBadSignature
	}
	return source.Delivery{Key: notificationID(body)}, nil
}

// notification is what the exporter reads of a webhook.
type notification struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	Topic     string `json:"topic"`
	CreatedAt int64  `json:"created_at"`
	Data      struct {
		Item struct {
			Type string          `json:"type"`
			ID   json.RawMessage `json:"id"`
		} `json:"item"`
	} `json:"data"`
}

func notificationID(body []byte) string {
	var n notification
	_ = json.Unmarshal(body, &n)
	return n.ID
}

// ParseWebhook reads the conversation a conversation.* notification
// names; "" for other topics (ping, contact.*, …).
func ParseWebhook(body []byte) (source.WebhookEvent, error) {
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		return source.WebhookEvent{}, fmt.Errorf("intercom webhook: %w", err)
	}
	if n.Type != "notification_event" || n.CreatedAt <= 0 {
		return source.WebhookEvent{}, fmt.Errorf("intercom webhook: not a notification")
	}
	at := time.Unix(n.CreatedAt, 0)
	if !strings.HasPrefix(n.Topic, "conversation.") || n.Data.Item.Type != "conversation" {
		return source.WebhookEvent{At: at}, nil
	}
	id := source.IDString(n.Data.Item.ID)
	if id == "" {
		return source.WebhookEvent{}, fmt.Errorf("intercom webhook: conversation without id")
	}
	return source.WebhookEvent{ID: id, At: at}, nil
}

// WebhookVendor is Intercom's part of the kit's webhook receiver: a
// webhook makes the source run its search for conversations updated since
// the cursor (Deps.SyncFetch).
func (c *Syncer) WebhookVendor(secret string) source.WebhookVendor {
	return source.WebhookVendor{
		Verifier: Verifier{Secret: []byte(secret)},
		Parse:    ParseWebhook,
		Fetch:    c.o.SyncFetch(c),
		Batch:    source.SyncFetchBatch,
	}
}
