package freshdesk

import (
	"testing"
)

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

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"freshdesk_webhook":{"ticket_id":"7"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ev, err := ParseWebhook(b); err == nil && ev.ID != "" && ev.ID[0] == '-' {
			t.Fatal("negative id")
		}
	})
}
