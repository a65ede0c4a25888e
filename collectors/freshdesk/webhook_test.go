package freshdesk

import (
	"errors"
	"net/http"
	"testing"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

func TestVerifier(t *testing.T) {
	v := Verifier{Secret: []byte("fd-webhook-fixture")}
	if _, err := v.Verify(http.Header{SecretHeader: {"fd-webhook-fixture"}}, nil); err != nil {
		t.Errorf("right secret: %v", err)
	}
	for name, h := range map[string]http.Header{"wrong": {SecretHeader: {"fd-webhook-fixturE"}}, "prefix": {SecretHeader: {"fd-webhook"}},
		"none": {}, "elsewhere": {"Authorization": {"fd-webhook-fixture"}}} {
		if _, err := v.Verify(h, nil); !errors.Is(err, source.ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseWebhook(t *testing.T) {
	for body, want := range map[string]string{`{"ticket_id":"12"}`: "12", `{"ticket_id":12}`: "12",
		`{"freshdesk_webhook":{"ticket_id":"7"}}`: "7", `{"freshdesk_webhook":{"contact_id":"7"}}`: "", `{}`: ""} {
		if ev, err := ParseWebhook([]byte(body)); err != nil || ev.ID != want {
			t.Errorf("%s: %+v %v; want %q", body, ev, err, want)
		}
	}
	for _, b := range []string{`x`, `{"ticket_id":"{{ticket.id}}"}`, `{"ticket_id":0}`} {
		if _, err := ParseWebhook([]byte(b)); err == nil {
			t.Errorf("%s parsed", b)
		}
	}
}

func FuzzVerifier(f *testing.F) {
	f.Add("fd-webhook-fixture")
	f.Add("")
	f.Fuzz(func(t *testing.T, got string) {
		_, err := Verifier{Secret: []byte("fd-webhook-fixture")}.Verify(http.Header{SecretHeader: {got}}, nil)
		if (err == nil) != (got == "fd-webhook-fixture") {
			t.Fatalf("%q: %v", got, err)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"freshdesk_webhook":{"ticket_id":"7"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ev, err := ParseWebhook(b); err == nil && ev.ID != "" && ev.ID[0] == '-' {
			t.Fatal("negative id")
		}
	})
}
