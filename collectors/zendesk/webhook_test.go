package zendesk

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

const testSecret = "dGVzdC1zZWNyZXQtbm90LXJlYWw"

func signed(secret, ts string, body []byte) http.Header {
	h := http.Header{}
	h.Set(SignatureHeader, fakezendesk.Sign(secret, ts, body))
	h.Set(SignatureTimestampHeader, ts)
	return h
}

func TestVerifier(t *testing.T) {
	v := Verifier{Secret: []byte(testSecret)}
	body := fakezendesk.WebhookBody(7, "created", "new", time.Unix(1_780_000_000, 0))
	ts := "2026-06-01T10:00:00Z"
	d, err := v.Verify(signed(testSecret, ts, body), body)
	if err != nil || !d.Signed.Equal(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)) || d.Key == "" {
		t.Fatalf("valid signature: %+v, %v", d, err)
	}
	for name, h := range map[string]http.Header{
		"wrong secret": signed("other", ts, body),
		"timestamp changed": func() http.Header {
			h := signed(testSecret, ts, body)
			h.Set(SignatureTimestampHeader, "2026-06-01T10:00:01Z")
			return h
		}(),
		"no signature":       {},
		"signature not b64":  func() http.Header { h := signed(testSecret, ts, body); h.Set(SignatureHeader, "%%%"); return h }(),
		"unreadable time":    signed(testSecret, "yesterday", body),
		"body signed as hex": func() http.Header { h := signed(testSecret, ts, body); h.Set(SignatureHeader, "abcdef"); return h }(),
	} {
		if _, err := v.Verify(h, body); !errors.Is(err, source.ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
	if _, err := v.Verify(signed(testSecret, ts, body), append(body, ' ')); err == nil {
		t.Error("a changed body verified")
	}
}

func TestParseWebhook(t *testing.T) {
	for body, want := range map[string]string{
		`{"type":"zen:event-type:ticket.status_changed","detail":{"id":"35436"}}`: "35436",
		`{"type":"zen:event-type:ticket.created","detail":{"id":12}}`:             "12",
		`{"ticket_id":"99"}`: "99",
		`{"ticket_id":99}`:   "99",
		`{"type":"zen:event-type:user.created","detail":{"id":"5"}}`: "",
		`{}`: "",
	} {
		ev, err := ParseWebhook([]byte(body))
		if err != nil || ev.ID != want {
			t.Errorf("%s: %+v, %v; want id %q", body, ev, err, want)
		}
	}
	for _, body := range []string{`nope`, `{"ticket_id":"{{ticket.id}}"}`, `{"ticket_id":-1}`, `{"type":"zen:event-type:ticket.created","detail":{"id":"x"}}`} {
		if _, err := ParseWebhook([]byte(body)); err == nil {
			t.Errorf("%s: parsed", body)
		}
	}
}

func FuzzVerifier(f *testing.F) {
	body := fakezendesk.WebhookBody(7, "created", "new", time.Unix(1_780_000_000, 0))
	ts := "2026-06-01T10:00:00Z"
	f.Add(fakezendesk.Sign(testSecret, ts, body), ts, body)
	f.Add("", "", []byte(nil))
	f.Add("AAAA", "1780000000", []byte(`{}`))
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		h := http.Header{}
		h.Set(SignatureHeader, sig)
		h.Set(SignatureTimestampHeader, ts)
		d, err := Verifier{Secret: []byte(testSecret)}.Verify(h, body)
		if err != nil {
			return
		}
		if fakezendesk.Sign(testSecret, h.Get(SignatureTimestampHeader), body) != h.Get(SignatureHeader) || d.Signed.IsZero() {
			t.Fatalf("verified a request not signed with the secret: %q %q", sig, ts)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"type":"zen:event-type:ticket.status_changed","detail":{"id":"35436"}}`))
	f.Add([]byte(`{"ticket_id":99}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseWebhook(body)
		if err == nil && ev.ID != "" && ev.ID[0] == '-' {
			t.Fatalf("negative id %q", ev.ID)
		}
	})
}
