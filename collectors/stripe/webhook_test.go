package stripe

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakestripe "github.com/cx-exporter/cx-exporter/internal/fake/stripe"
)

const testSecret = "whsec_test_fixture_not_real"

func header(sig string) http.Header {
	h := http.Header{}
	h.Set(SignatureHeader, sig)
	return h
}

func TestVerifier(t *testing.T) {
	v := Verifier{Secret: []byte(testSecret)}
	body := []byte(`{"id":"evt_1","object":"event","type":"customer.subscription.updated","created":1780000000}`)
	at := time.Unix(1_780_000_000, 0)
	sig := fakestripe.Sign(testSecret, at, body)
	d, err := v.Verify(header(sig), body)
	if err != nil || !d.Signed.Equal(at) {
		t.Fatalf("valid: %+v, %v", d, err)
	}
	// Rolling secrets: one of several v1 signatures matches; v0 is ignored.
	other := strings.TrimPrefix(fakestripe.Sign("whsec_old", at, body), "t=1780000000,")
	if _, err := v.Verify(header(sig+","+other+",v0=abc"), body); err != nil {
		t.Errorf("two v1 signatures, one valid: %v", err)
	}
	v1 := strings.SplitN(sig, ",", 2)[1]
	for name, s := range map[string]string{
		"wrong secret":    fakestripe.Sign("whsec_other", at, body),
		"other timestamp": "t=1780000001," + v1,
		"no timestamp":    v1,
		"no v1":           "t=1780000000,v0=" + strings.TrimPrefix(v1, "v1="),
		"empty":           "",
		"garbage":         "t=x,v1=zz",
	} {
		if _, err := v.Verify(header(s), body); !errors.Is(err, source.ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
	if _, err := v.Verify(header(sig), append(body, '\n')); err == nil {
		t.Error("a changed body verified")
	}
}

func TestParseWebhook(t *testing.T) {
	ev, err := ParseWebhook([]byte(`{"id":"evt_9","object":"event","type":"customer.subscription.deleted","created":1780000000}`))
	if err != nil || ev.ID != "evt_9" || ev.At.Unix() != 1780000000 {
		t.Errorf("subscription event: %+v, %v", ev, err)
	}
	if ev, err := ParseWebhook([]byte(`{"id":"evt_9","object":"event","type":"invoice.paid"}`)); err != nil || ev.ID != "" {
		t.Errorf("other type: %+v, %v; want ignored", ev, err)
	}
	for _, b := range []string{`[]`, `{"id":"sub_1","object":"subscription"}`, `{"object":"event"}`, `x`} {
		if _, err := ParseWebhook([]byte(b)); err == nil {
			t.Errorf("%s parsed", b)
		}
	}
}

func FuzzVerifier(f *testing.F) {
	body := []byte(`{"id":"evt_1","object":"event"}`)
	f.Add(fakestripe.Sign(testSecret, time.Unix(1_780_000_000, 0), body), body)
	f.Add("t=1,v1=", []byte(nil))
	f.Add("v1=00,t=5,t=6,v1=11", []byte("{}"))
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		d, err := Verifier{Secret: []byte(testSecret)}.Verify(header(sig), body)
		if err != nil {
			return
		}
		if !strings.Contains(sig, strings.SplitN(fakestripe.Sign(testSecret, d.Signed, body), ",", 2)[1]) {
			t.Fatalf("verified %q without its signature", sig)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"id":"evt_9","object":"event","type":"customer.subscription.deleted","created":1780000000}`))
	f.Add([]byte(`{"id":"","object":"event"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseWebhook(body)
		if err != nil && ev.ID != "" {
			t.Fatal("an id with an error")
		}
	})
}
