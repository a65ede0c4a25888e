package edesk

import (
	"testing"
)

const hookFixture = "ed-webhook-fixture"

func TestParseWebhook(t *testing.T) {
	for body, want := range map[string]string{`{"ticket_id":12}`: "12", `{"event":"ticket.updated","ticket_id":"12"}`: "12",
		`{"event":"ticket.created","data":{"ticket_id":7}}`: "7", `{"event":"user.updated","data":{"user_id":7}}`: "", `{}`: "",
		`{"ticket_id":null}`: ""} {
		if ev, err := ParseWebhook([]byte(body)); err != nil || ev.ID != want {
			t.Errorf("%s: %+v %v; want %q", body, ev, err, want)
		}
	}
	for _, b := range []string{`x`, `[]`, `{"ticket_id":"{ticket_id}"}`, `{"ticket_id":0}`, `{"ticket_id":-3}`, `{"ticket_id":1.5}`} {
		if _, err := ParseWebhook([]byte(b)); err == nil {
			t.Errorf("%s parsed", b)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"event":"ticket.created","data":{"ticket_id":7}}`))
	f.Add([]byte(`{"ticket_id":"12"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseWebhook(b)
		if err != nil || ev.ID == "" {
			return
		}
		for _, c := range ev.ID {
			if c < '0' || c > '9' {
				t.Fatalf("id %q is not a positive integer", ev.ID)
			}
		}
		if ev.ID[0] == '0' {
			t.Fatalf("id %q", ev.ID)
		}
	})
}
