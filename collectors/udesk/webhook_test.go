package udesk

import (
	"testing"
)

const hookFixture = "udesk-webhook-fixture"

func TestParseWebhook(t *testing.T) {
	for body, want := range map[string]string{
		`{"action":"Ticket_update","message":{"id":12}}`:                "12",
		`{"action":"Ticket_create","message":{"id":"7","subject":"x"}}`: "7",
		`{"ticket_id":9}`: "9",
		`{"action":"Customer_create","message":{"id":1,"nick_name":"x"}}`: "",
		`{"action":"ImSubSession_close","message":{"id":5}}`:              "",
		`{"action":"Ticket_update"}`:                                      "",
		`{}`:                                                              "",
	} {
		if ev, err := ParseWebhook([]byte(body)); err != nil || ev.ID != want {
			t.Errorf("%s: %+v %v; want %q", body, ev, err, want)
		}
	}
	for _, b := range []string{`x`, `[]`, `{"action":"Ticket_update","message":{}}`, `{"action":"Ticket_update","message":{"id":0}}`,
		`{"action":"Ticket_update","message":{"id":"abc"}}`, `{"ticket_id":-1}`} {
		if _, err := ParseWebhook([]byte(b)); err == nil {
			t.Errorf("%s parsed", b)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"action":"Ticket_update","message":{"id":12}}`))
	f.Add([]byte(`{"action":"Customer_update","message":{"id":1}}`))
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
