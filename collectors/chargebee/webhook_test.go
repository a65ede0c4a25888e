package chargebee

import (
	"errors"
	"net/http"
	"testing"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

func basic(user, pass string) http.Header {
	r, _ := http.NewRequest(http.MethodPost, "http://x", nil)
	r.SetBasicAuth(user, pass)
	return r.Header
}

func TestVerifier(t *testing.T) {
	v := Verifier{Secret: []byte("hook:pw-fixture")}
	if _, err := v.Verify(basic("hook", "pw-fixture"), nil); err != nil {
		t.Errorf("right credentials: %v", err)
	}
	for name, h := range map[string]http.Header{"wrong password": basic("hook", "pw"), "wrong user": basic("other", "pw-fixture"),
		"none": {}, "bearer": {"Authorization": {"Bearer pw-fixture"}}} {
		if _, err := v.Verify(h, nil); !errors.Is(err, source.ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A secret without a colon is the password, whatever the user.
	if _, err := (Verifier{Secret: []byte("pw-fixture")}).Verify(basic("anyone", "pw-fixture"), nil); err != nil {
		t.Errorf("password-only secret: %v", err)
	}
}

func TestParseWebhook(t *testing.T) {
	ev, err := ParseWebhook([]byte(`{"id":"ev_1","object":"event","occurred_at":1780000000,"event_type":"subscription_changed","content":{"subscription":{"id":"sub_9"},"customer":{"id":"c"}}}`))
	if err != nil || ev.ID != "sub_9" || ev.At.Unix() != 1780000000 {
		t.Errorf("subscription event: %+v %v", ev, err)
	}
	ev, err = ParseWebhook([]byte(`{"id":"ev_2","object":"event","occurred_at":1780000000,"event_type":"customer_changed","content":{"customer":{"id":"c"}}}`))
	if err != nil || ev.ID != "" {
		t.Errorf("customer event: %+v %v; want ignored", ev, err)
	}
	for _, b := range []string{`x`, `{"id":"ev_3","object":"event"}`, `{"object":"subscription","id":"s","occurred_at":1}`} {
		if _, err := ParseWebhook([]byte(b)); err == nil {
			t.Errorf("%s parsed", b)
		}
	}
}

func FuzzVerifier(f *testing.F) {
	f.Add("Basic aG9vazpwdy1maXh0dXJl")
	f.Add("Basic !!!")
	f.Add("")
	f.Fuzz(func(t *testing.T, auth string) {
		h := http.Header{"Authorization": {auth}}
		if _, err := (Verifier{Secret: []byte("hook:pw-fixture")}).Verify(h, nil); err == nil {
			u, p, _ := (&http.Request{Header: h}).BasicAuth()
			if u+":"+p != "hook:pw-fixture" {
				t.Fatalf("verified %q", auth)
			}
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"id":"ev_1","object":"event","occurred_at":1780000000,"content":{"subscription":{"id":"sub_9"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseWebhook(b)
		if err == nil && ev.At.IsZero() {
			t.Fatal("an event without its time")
		}
	})
}
