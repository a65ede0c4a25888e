package paddle

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakepaddle "github.com/cx-exporter/cx-exporter/internal/fake/paddle"
)

const testSecret = "pdl_ntfset_test_fixture"

func sigHeader(s string) http.Header { return http.Header{SignatureHeader: {s}} }

func TestVerifier(t *testing.T) {
	v := Verifier{Secret: []byte(testSecret)}
	body := []byte(`{"event_id":"evt_1","event_type":"subscription.updated","data":{"id":"sub_1"}}`)
	at := time.Unix(1_780_000_000, 0)
	sig := fakepaddle.Sign(testSecret, at, body)
	if d, err := v.Verify(sigHeader(sig), body); err != nil || !d.Signed.Equal(at) {
		t.Fatalf("valid: %+v %v", d, err)
	}
	rotated := sig + ";" + strings.SplitN(fakepaddle.Sign("old", at, body), ";", 2)[1]
	if _, err := v.Verify(sigHeader(rotated), body); err != nil {
		t.Errorf("rotation (two h1): %v", err)
	}
	h1 := strings.SplitN(sig, ";", 2)[1]
	for name, s := range map[string]string{"wrong secret": fakepaddle.Sign("x", at, body), "other ts": "ts=1780000001;" + h1,
		"no ts": h1, "empty": "", "garbage": "ts=a;h1=zz"} {
		if _, err := v.Verify(sigHeader(s), body); !errors.Is(err, source.ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := v.Verify(sigHeader(sig), append(body, ' ')); err == nil {
		t.Error("a changed body verified")
	}
}

func TestParseWebhook(t *testing.T) {
	ev, err := ParseWebhook([]byte(`{"event_id":"evt_1","event_type":"subscription.canceled","data":{"id":"sub_9"}}`))
	if err != nil || ev.ID != "sub_9" {
		t.Errorf("%+v %v", ev, err)
	}
	if ev, err := ParseWebhook([]byte(`{"event_id":"evt_2","event_type":"transaction.paid","data":{"id":"txn"}}`)); err != nil || ev.ID != "" {
		t.Errorf("other type: %+v %v", ev, err)
	}
	for _, b := range []string{`x`, `{}`, `{"event_type":"subscription.updated"}`} {
		if _, err := ParseWebhook([]byte(b)); err == nil {
			t.Errorf("%s parsed", b)
		}
	}
}

func FuzzVerifier(f *testing.F) {
	body := []byte(`{"event_id":"evt_1"}`)
	f.Add(fakepaddle.Sign(testSecret, time.Unix(1_780_000_000, 0), body), body)
	f.Add("ts=1;h1=", []byte(nil))
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		d, err := Verifier{Secret: []byte(testSecret)}.Verify(sigHeader(sig), body)
		if err == nil && !strings.Contains(sig, strings.SplitN(fakepaddle.Sign(testSecret, d.Signed, body), ";", 2)[1]) {
			t.Fatalf("verified %q without its signature", sig)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"event_id":"evt_1","event_type":"subscription.canceled","data":{"id":"sub_9"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ev, err := ParseWebhook(b); err != nil && ev.ID != "" {
			t.Fatal("an id with an error")
		}
	})
}
