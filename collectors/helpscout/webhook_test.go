package helpscout

import (
	"errors"
	"net/http"
	"testing"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakehelpscout "github.com/cx-exporter/cx-exporter/internal/fake/helpscout"
)

const testSecret = "helpscout-webhook-fixture"

func TestVerifier(t *testing.T) {
	v := Verifier{Secret: []byte(testSecret)}
	body := []byte(`{"id":7,"number":7}`)
	if d, err := v.Verify(hdr(SignatureHeader, fakehelpscout.Sign(testSecret, body)), body); err != nil || d.Key == "" {
		t.Fatalf("valid: %+v %v", d, err)
	}
	for name, sig := range map[string]string{"wrong secret": fakehelpscout.Sign("x", body), "not base64": "%%%", "empty": "", "short": "AAAA"} {
		if _, err := v.Verify(hdr(SignatureHeader, sig), body); !errors.Is(err, source.ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := v.Verify(hdr(SignatureHeader, fakehelpscout.Sign(testSecret, body)), append(body, ' ')); err == nil {
		t.Error("a changed body verified")
	}
}

func TestParseWebhook(t *testing.T) {
	h := func(ev string) http.Header { return hdr(EventHeader, ev) }
	if ev, err := ParseWebhook(h("convo.assigned"), []byte(`{"id":42}`)); err != nil || ev.ID != "42" {
		t.Errorf("%+v %v", ev, err)
	}
	if ev, err := ParseWebhook(h("customer.created"), []byte(`{"id":5}`)); err != nil || ev.ID != "" {
		t.Errorf("customer: %+v %v", ev, err)
	}
	for _, b := range []string{`x`, `{}`, `{"id":-1}`, `{"id":"a"}`} {
		if _, err := ParseWebhook(h("convo.updated"), []byte(b)); err == nil {
			t.Errorf("%s parsed", b)
		}
	}
}

func FuzzVerifier(f *testing.F) {
	body := []byte(`{"id":7}`)
	f.Add(fakehelpscout.Sign(testSecret, body), body)
	f.Add("", []byte(nil))
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		_, err := Verifier{Secret: []byte(testSecret)}.Verify(hdr(SignatureHeader, sig), body)
		if err == nil && sig != fakehelpscout.Sign(testSecret, body) {
			t.Fatalf("verified %q", sig)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add("convo.created", []byte(`{"id":42}`))
	f.Fuzz(func(t *testing.T, event string, b []byte) {
		if ev, err := ParseWebhook(hdr(EventHeader, event), b); err != nil && ev.ID != "" {
			t.Fatal("an id with an error")
		}
	})
}

// hdr is a header as a request carries it (canonical key).
func hdr(k, v string) http.Header {
	h := http.Header{}
	h.Set(k, v)
	return h
}
