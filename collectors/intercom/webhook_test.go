package intercom

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakeintercom "github.com/cx-exporter/cx-exporter/internal/fake/intercom"
)

const testSecret = "intercom-client-secret-fixture"

func TestVerifier(t *testing.T) {
	v := Verifier{Secret: []byte(testSecret)}
	body := fakeintercom.NotificationBody("notif_1", "conversation.user.created", "7", time.Unix(1_780_000_000, 0))
	d, err := v.Verify(http.Header{SignatureHeader: {fakeintercom.Sign(testSecret, body)}}, body)
	if err != nil || d.Key != "notif_1" {
		t.Fatalf("valid: %+v %v", d, err)
	}
	for name, sig := range map[string]string{"wrong secret": fakeintercom.Sign("x", body), "no prefix": strings.TrimPrefix(fakeintercom.Sign(testSecret, body), "sha1="),
		"sha256 length": "sha1=" + strings.Repeat("ab", 32), "empty": ""} {
		if _, err := v.Verify(http.Header{SignatureHeader: {sig}}, body); !errors.Is(err, source.ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseWebhook(t *testing.T) {
	ev, err := ParseWebhook(fakeintercom.NotificationBody("n", "conversation.admin.closed", "42", time.Unix(1_780_000_000, 0)))
	if err != nil || ev.ID != "42" || ev.At.Unix() != 1_780_000_000 {
		t.Errorf("%+v %v", ev, err)
	}
	ev, err = ParseWebhook([]byte(`{"type":"notification_event","topic":"contact.created","created_at":1,"data":{"item":{"type":"contact","id":"c"}}}`))
	if err != nil || ev.ID != "" {
		t.Errorf("contact: %+v %v", ev, err)
	}
	for _, b := range []string{`x`, `{"type":"notification_event"}`, `{"type":"conversation","created_at":1}`,
		`{"type":"notification_event","topic":"conversation.admin.closed","created_at":1,"data":{"item":{"type":"conversation"}}}`} {
		if _, err := ParseWebhook([]byte(b)); err == nil {
			t.Errorf("%s parsed", b)
		}
	}
}

func FuzzVerifier(f *testing.F) {
	body := []byte(`{"id":"notif_1"}`)
	f.Add(fakeintercom.Sign(testSecret, body), body)
	f.Add("sha1=", []byte(nil))
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		_, err := Verifier{Secret: []byte(testSecret)}.Verify(http.Header{SignatureHeader: {sig}}, body)
		if err == nil && !strings.EqualFold(sig, fakeintercom.Sign(testSecret, body)) {
			t.Fatalf("verified %q", sig)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add(fakeintercom.NotificationBody("n", "conversation.admin.closed", "42", time.Unix(1_780_000_000, 0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ev, err := ParseWebhook(b); err == nil && ev.At.IsZero() {
			t.Fatal("a notification without its time")
		}
	})
}
